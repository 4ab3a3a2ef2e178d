"""Bad input, hostile or fuzzed, against every service of the smoke stack: never a 5xx,
always ``{"error", "detail"}`` naming the problem, and answers that match the OpenAPI."""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ffmpeg, make_audio, serve_smoke

pytestmark = pytest.mark.slow

AUDIO_UPLOADS = {"transcribe": "/transcribe", "genre": "/detect"}
# every endpoint, as (service, route): the multipart ones, then the JSON ones
UPLOADS = [
    *AUDIO_UPLOADS.items(), ("segment", "/segment"), ("tags", "/decide_table"),
    ("actions", "/recognize"), ("actions", "/submit"),
]  # fmt: skip
FIELDS = {  # the upload field and the code of "too large"; others: ("audio", "audio_too_large")
    "/segment": ("image", "image_too_large"),
    "/decide_table": ("table", "table_too_large"),
    "/recognize": ("video", "video_too_large"),
    "/submit": ("video", "video_too_large"),
}
JSON_APIS = {
    "lyrics": ("/analyze", {"text": "la la love"}),
    "summarize": ("/summarize", {"text": "a story of love"}),
    "art": ("/generate", {"genre": "Rock", "emotion": "joy", "steps": 1, "width": 64}),
    "youtube": ("/fetch", {"url": "https://example.com/x"}),
    "tags": ("/decide", {"tracks": [{"g00": 0.5}]}),
}
ROUTES = [
    *UPLOADS, *((s, route) for s, (route, _) in JSON_APIS.items()),
    ("actions", "/status"), ("actions", "/result"), ("actions", "/cancel"),
]  # fmt: skip
FUZZ_EXAMPLES = 20  # per operation and generation mode: bounded so CI stays fast


def error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """The error answer's detail, after checking its status, shape and code."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error", "detail"} and isinstance(body["detail"], str), body
    if code is not None:
        assert body["error"] == code, body
    return body["detail"]


def upload(url: str, path: Path | bytes, name: str = "song.mp3") -> httpx.Response:
    content = path if isinstance(path, bytes) else path.read_bytes()
    return httpx.post(url, files={"audio": (name, content)}, timeout=120)


# -- the reproductions of the issue ---------------------------------------------------------


@pytest.mark.parametrize(("service", "route"), ROUTES)
def test_multipart_without_a_boundary_is_a_400(smoke_stack, service: str, route: str) -> None:
    response = httpx.post(
        smoke_stack[service] + route,
        headers={"Content-Type": "multipart/form-data"},
        content=b'{"x":1}',
        timeout=30,
    )
    if (service, route) in UPLOADS:
        assert "boundary" in error(response, 400, "malformed_request")
    else:  # a JSON endpoint: the content type itself is wrong
        assert "application/json" in error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(("service", "route"), ROUTES)
def test_broken_bodies_are_the_clients_fault(smoke_stack, service: str, route: str) -> None:
    url = smoke_stack[service] + route
    if (service, route) in UPLOADS:
        kinds = [("multipart/form-data; boundary=xyz", b"garbage")]
    else:
        nested = b"[" * 100_000 + b"]" * 100_000
        kinds = [
            ("application/json", b"\xff\xfe not utf-8 \xc3\x28"),
            ("application/json", b'{"text": '),
            ("application/json", nested),
            ("application/json", b'{"text": 12, "url": [1], "genre": {}, "emotion": null}'),
        ]
    for content_type, body in kinds:
        response = httpx.post(url, headers={"Content-Type": content_type}, content=body)
        assert 400 <= response.status_code < 500, (body[:40], response.text[:200])
        error(response, response.status_code)


def control_only() -> str:
    return json.loads('"\\u000f\\u0088\\udbd4\\udf34"')


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        (control_only(), 400, "empty_text"),
        ("\x00" * 500, 400, "empty_text"),
        ("😀🎸🔥" * 50, 400, "no_words"),
        ("\n" * 1_000_000, 413, None),  # refused by its size, before any model
        ("love \udbd4 you", 400, "invalid_request"),  # a lone surrogate is not valid JSON text
        ("la la \x00 love \x07 you", 200, None),  # controls are dropped, words kept
    ],
)
@pytest.mark.parametrize("service", ["lyrics", "summarize"])
def test_hostile_texts(smoke_stack, service: str, text: str, status: int, code: str) -> None:
    route, _ = JSON_APIS[service]
    body = json.dumps({"text": text}).encode()  # ensure_ascii: lone surrogates travel
    response = httpx.post(
        smoke_stack[service] + route,
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=120,
    )
    if status == 200:
        assert response.status_code == 200, response.text[:300]
    else:
        error(response, status, code)


@pytest.fixture(scope="module")
def hostile_audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    full = make_audio(folder / "full.mp3", seconds=95, rate=22050, channels=1)
    (folder / "truncated.mp3").write_bytes(full.read_bytes()[:30_000])
    wav = bytearray(make_audio(folder / "two.wav", seconds=2, rate=16000, channels=1).read_bytes())
    data = wav.find(b"data")  # the header claims a minute of audio; the file holds 2 s
    wav[data + 4 : data + 8] = struct.pack("<I", 16000 * 2 * 60)
    (folder / "lying.wav").write_bytes(bytes(wav))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "36000", "-c:a", "flac",
           str(folder / "ten-hours.flac"))  # fmt: skip
    return {p.stem: p for p in folder.iterdir()}


@pytest.mark.parametrize("service", sorted(AUDIO_UPLOADS))
def test_hostile_audio_files(smoke_stack, service: str, hostile_audio: dict[str, Path]) -> None:
    url = smoke_stack[service] + AUDIO_UPLOADS[service]
    detail = error(upload(url, hostile_audio["truncated"]), 422, "truncated_audio")
    assert re.search(r"announces 95\.\d+ s .* only \d+\.\d+ s", detail)  # both durations
    detail = error(upload(url, hostile_audio["lying"], "lying.wav"), 422, "truncated_audio")
    assert "60.00 s" in detail and "2.00 s" in detail
    start = time.monotonic()
    detail = error(upload(url, hostile_audio["ten-hours"], "long.flac"), 413, "audio_too_long")
    assert "36000 s" in detail and time.monotonic() - start < 5  # refused, not decoded


def endless_upload(limit_mb: int, field: str = "audio") -> Iterator[bytes]:
    yield f'--b\r\nContent-Disposition: form-data; name="{field}"; filename="a"\r\n\r\n'.encode()
    chunk = b"\0" * (1 << 20)
    for _ in range(limit_mb):
        yield chunk


def raw_post(url: str, headers: dict[str, str]) -> httpx.Response:
    """Send only a request's head (a client would refuse to announce a body it lacks)."""
    parsed = httpx.URL(url)
    head = f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection((parsed.host, parsed.port), timeout=30) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, rest = data.split(b"\r\n", 1)
    body = rest.split(b"\r\n\r\n", 1)[1]
    return httpx.Response(int(status_line.split()[1]), content=body)


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.mark.parametrize(("service", "route"), UPLOADS)
def test_a_multi_gb_upload_is_refused_before_it_is_stored(
    smoke_stack, service: str, route: str
) -> None:
    url = smoke_stack[service] + route
    field, code = FIELDS.get(route, ("audio", "audio_too_large"))
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    announced = raw_post(url, {**multipart, "Content-Length": str(4 << 30)})
    assert "4096.0 MiB" in error(announced, 413, code)
    start = time.monotonic()  # no Content-Length: refused while it streams in
    body = endless_upload(4096, field)
    streamed = httpx.post(url, headers=multipart, content=body, timeout=60)
    assert "streamed past" in error(streamed, 413, code)
    assert time.monotonic() - start < 20  # far less than sending 4 GiB would take


def test_every_endpoint_documents_its_errors(smoke_stack) -> None:
    for service, route in ROUTES:
        spec = httpx.get(f"{smoke_stack[service]}/docs.json").json()
        responses = spec["paths"][route]["post"]["responses"]
        assert {"400", "413", "415", "500", "503"} <= set(responses), (service, responses)
        schema = responses["400"]["content"]["application/json"]["schema"]["$ref"]
        assert spec["components"]["schemas"][schema.rsplit("/", 1)[1]]["required"] == [
            "error",
            "detail",
        ]
    art = httpx.get(f"{smoke_stack['art']}/docs.json").json()["paths"]["/generate"]["post"]
    assert "over_budget" in art["responses"]["422"]["description"]


def test_a_dead_model_worker_is_a_retryable_503_not_a_500() -> None:
    import aiohttp

    from bentos.common.http import dependency_failure

    for dropped in (httpx.ConnectError("refused"), aiohttp.ServerDisconnectedError()):
        answer = dependency_failure(dropped)
        assert answer is not None and answer.status == 503 and answer.retryable, dropped
        assert answer.to_response().headers["retry-after"]
    assert dependency_failure(ValueError("a bug")) is None


# -- fuzzing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cheap_art(tmp_path_factory: pytest.TempPathFactory):
    """Art with a tiny work budget: fuzzed requests that pass paint one 256 x 256 step."""
    art = "bentos.art.service:Art"
    with serve_smoke(art, tmp_path_factory, ART_MAX_MEGAPIXEL_STEPS="0.2") as url:
        yield url


@pytest.mark.parametrize(("service", "route"), ROUTES)
def test_fuzzed_requests_get_no_5xx_and_documented_answers(
    smoke_stack, cheap_art: str, service: str, route: str
) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    url = cheap_art if service == "art" else smoke_stack[service]
    schema = schemathesis.openapi.from_url(f"{url}/docs.json")
    operation = schema[route]["POST"]
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def fuzz(case) -> None:
            case.call_and_validate(base_url=url, checks=checks, timeout=120)

        fuzz()
