"""Durable runs of any pipeline through the studio's API, against the smoke stack.

The session's studio (SQLite, one run at a time, three places in the queue) serves them.
"""

from __future__ import annotations

import concurrent.futures
import io
import itertools
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import DEMO_SONG

pytestmark = pytest.mark.slow
FAST = {"steps": "2", "size": "256"}
MODELS = ["sd2-base", "openjourney", "album-cover"]


@pytest.fixture
def api(studio: str) -> str:
    return studio


def client(url: str) -> httpx.Client:
    """A client with its own owner token (from its first visit)."""
    session = httpx.Client(base_url=url, timeout=60)
    token = session.get("/api/owner").json()["owner"]
    session.headers["X-Studio-Owner"] = token
    return session


def start(session: httpx.Client, pipeline: str, song: Path = DEMO_SONG, **fields: str):
    files = {"audio": (song.name, song.read_bytes(), "audio/mpeg")}
    return session.post(f"/api/pipelines/{pipeline}/runs", files=files, data=fields)


def wait(session: httpx.Client, run_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = session.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.3)
    raise TimeoutError(f"run {run_id} still {run['status']} after {timeout} s")


def sse(session: httpx.Client, run_id: str, last: int | None = None) -> list[dict]:
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    events, current = [], {}
    with session.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(": ")
                current[key.rstrip(":")] = value
            elif not line and current:
                events.append(current)
                if current.get("event") == "end":
                    break
                current = {}
    return events


def test_the_catalogue_and_the_pipelines(api: str) -> None:
    session = client(api)
    names = [s["name"] for s in session.get("/api/services").json()["services"]]
    expected = "youtube transcribe genre lyrics summarize art segment tags actions"
    assert names == expected.split()  # the contracts' order
    shipped = {p["name"] for p in session.get("/api/pipelines").json()}
    assert {"covers", "lyrics-report", "song-profile"} <= shipped
    report = session.get("/api/pipelines/lyrics-report").json()
    assert report["source"] == "shipped" and "transcribe/transcribe" in report["yaml"]
    assert session.get("/api/pipelines/nope").status_code == 404


def test_validation_names_every_problem_and_saving_makes_versions(api: str) -> None:
    session = client(api)
    text = session.get("/api/pipelines/lyrics-report").json()["yaml"]
    broken = text.replace("lyrics/analyze", "lyrics/nope")
    result = session.post("/api/pipelines/validate", content=broken).json()
    assert not result["valid"]
    problems = [(p["where"], p["message"]) for p in result["errors"]]
    assert problems == [
        ("steps.analyze.call", "service 'lyrics' has no endpoint 'nope' (endpoints: analyze)")
    ]
    assert result["typed"] and result["document"]["steps"]["analyze"]["call"] == "lyrics/nope"
    assert "call: lyrics/nope" in result["yaml"]  # the editor's two views, from one parser
    unparsed = session.post("/api/pipelines/validate", content="pipeline: x\nsteps: {}").json()
    assert not unparsed["typed"] and unparsed["document"] == {"pipeline": "x", "steps": {}}
    assert session.post("/api/pipelines/validate", content=text).json()["valid"]
    first = session.put("/api/pipelines/my-report", content=text)
    assert first.status_code == 201 and first.json() == {"name": "my-report", "version": 1}
    assert session.put("/api/pipelines/my-report", content=text).json()["version"] == 2
    listed = {p["name"]: p for p in session.get("/api/pipelines").json()}
    assert listed["my-report"]["source"] == "saved" and listed["my-report"]["version"] == 2
    assert session.put("/api/pipelines/covers", content=text).status_code == 409
    invalid = session.put("/api/pipelines/bad", content=broken)
    assert invalid.status_code == 422 and "steps.analyze.call" in invalid.json()["detail"]


def test_writes_need_an_owner_and_cannot_come_from_another_site(api: str) -> None:
    anonymous = httpx.post(f"{api}/api/pipelines/lyrics-report/runs", files={"audio": b"x"})
    assert anonymous.status_code == 403 and anonymous.json()["error"] == "no_owner"
    session = client(api)
    forged = session.post("/api/pipelines/lyrics-report/runs", files={"audio": b"x"},
                          headers={"Origin": "https://elsewhere.example"})  # fmt: skip
    assert forged.status_code == 403 and forged.json()["error"] == "cross_site"
    visit = httpx.get(f"{api}/")
    cookie = visit.headers["set-cookie"].lower()
    assert "studio_owner=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_bad_inputs_are_refused_naming_them(api: str) -> None:
    session = client(api)
    missing = session.post("/api/pipelines/lyrics-report/runs", data={"language": "en"})
    assert missing.status_code == 400 and "'audio' is required" in missing.json()["detail"]
    unknown = start(session, "lyrics-report", colour="blue")
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
    wrong = start(session, "covers", steps="many")
    assert wrong.status_code == 400 and "'steps' should be a integer" in wrong.json()["detail"]
    assert session.get("/api/runs").json() == []  # nothing was started


def test_a_run_streams_its_events_and_keeps_its_files(api: str) -> None:
    session = client(api)
    answer = start(session, "lyrics-report")
    assert answer.status_code == 202, answer.text
    run = answer.json()
    assert run["status"] in ("queued", "running") and run["pipeline"] == "lyrics-report"
    events = sse(session, run["id"])
    assert events[-1]["event"] == "end" and json.loads(events[-1]["data"])["status"] == "done"
    kinds = [(json.loads(e["data"])["step"], e["event"]) for e in events[:-1]]
    assert kinds.index(("transcribe", "finished")) < kinds.index(("analyze", "started"))
    ids = [int(e["id"]) for e in events[:-1]]
    assert ids == list(range(1, len(ids) + 1))
    assert sse(session, run["id"], last=ids[2])[0]["id"] == str(ids[3])  # nothing missed
    done = wait(session, run["id"])
    assert done["status"] == "done" and done["steps"]["transcribe"]["status"] == "finished"
    assert done["outputs"]["transcript"] == done["steps"]["transcribe"]["result"]["text"]
    assert "report.json" in done["files"]
    report = session.get(f"/api/runs/{run['id']}/files/report.json").json()
    assert report["definition"]["pipeline"] == "lyrics-report"
    archive = session.get(f"/api/runs/{run['id']}/archive.zip")
    assert set(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == set(done["files"])
    assert [r["id"] for r in session.get("/api/runs").json()] == [run["id"]]


def test_a_run_is_seen_by_its_owner_and_by_a_share_link_only(api: str) -> None:
    owner, other = client(api), client(api)
    run = start(owner, "lyrics-report").json()
    assert other.get(f"/api/runs/{run['id']}").status_code == 404
    assert other.delete(f"/api/runs/{run['id']}").status_code == 404
    assert other.get("/api/runs").json() == []
    link = owner.post(f"/api/runs/{run['id']}/share").json()
    shared = other.get(link["url"])
    assert shared.status_code == 200 and shared.json()["share"] is None
    assert other.delete(f"/api/runs/{run['id']}?share={link['share']}").status_code == 404
    wait(owner, run["id"])
    assert owner.delete(f"/api/runs/{run['id']}").status_code == 204
    assert owner.get(f"/api/runs/{run['id']}").status_code == 404


def test_a_song_becomes_covers_with_every_result_kept(api: str) -> None:
    session = client(api)
    answer = start(session, "covers", **FAST, seed="9")
    assert answer.status_code == 202, answer.text
    run = wait(session, answer.json()["id"])
    assert run["status"] == "done", run
    assert run["steps"]["fetch"]["status"] == "skipped"  # a file: nothing to fetch
    assert all(s["status"] == "finished" for k, s in run["steps"].items() if k != "fetch")
    outputs = run["outputs"]
    assert run["steps"]["transcribe"]["result"]["duration"] == pytest.approx(20.0, abs=0.2)
    assert outputs["genre"] in run["steps"]["genre"]["result"]["probabilities"]
    assert outputs["emotion"] in outputs["prompt"] and outputs["seed"] == 9
    covers = [c["png"]["file"] for c in outputs["covers"]]
    assert covers == [f"covers-{i}-{m}.png" for i, m in enumerate(MODELS, 1)]
    assert {*covers, "outputs.json", "report.json"} <= set(run["files"])
    for name in covers:
        png = session.get(f"/api/runs/{run['id']}/files/{name}")
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (256, 256)
    archive = session.get(f"/api/runs/{run['id']}/archive.zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == sorted(run["files"])
    saved = session.get(f"/api/runs/{run['id']}/files/outputs.json").json()
    assert saved["prompt"] == outputs["prompt"]
    assert session.delete(f"/api/runs/{run['id']}").status_code == 204


def test_a_youtube_address_is_fetched_and_its_audio_kept(api: str, audio_site: str) -> None:
    session = client(api)
    form = {**FAST, "models": '["sd2-base"]', "url": f"{audio_site}/song.mp3"}
    run = wait(session, session.post("/api/pipelines/covers/runs", data=form).json()["id"])
    assert run["status"] == "done", run
    fetched = run["steps"]["fetch"]["result"]
    assert fetched["title"] == "song" and fetched["audio"]["file"] in run["files"]
    audio = session.get(f"/api/runs/{run['id']}/files/{fetched['audio']['file']}")
    assert audio.status_code == 200 and len(audio.content) == fetched["audio"]["bytes"] > 0
    assert [c["model"] for c in run["outputs"]["covers"]] == ["sd2-base"]


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("https://example.com/song.mp3", "url_not_allowed: 'example.com' is not a YouTube"),
        ("https://www.youtube.com/playlist?list=PL1", "url_not_allowed: a YouTube playlist"),
        ("{audio_site}/missing.mp3", "HTTP Error 404"),
    ],
    ids=["not-youtube", "playlist", "missing"],
)
def test_an_address_that_cannot_be_fetched_fails_the_run_naming_why(
    api: str, audio_site: str, address: str, why: str
) -> None:
    session = client(api)
    url = address.format(audio_site=audio_site)
    run = wait(session, session.post("/api/pipelines/covers/runs", data={"url": url}).json()["id"])
    assert run["status"] == "failed" and run["failed_step"] == "fetch", run
    assert why in run["error"] and run["steps"]["fetch"]["status"] == "failed"
    assert run["steps"]["transcribe"]["status"] == "cancelled"  # not run: the fetch failed
    assert run["files"] == ["outputs.json", "report.json"]  # what happened is kept
    report = session.get(f"/api/runs/{run['id']}/files/report.json").json()
    assert report["failure"]["step"] == "fetch"


def test_a_run_without_a_song_fails_naming_the_missing_input(api: str) -> None:
    session = client(api)
    answer = session.post("/api/pipelines/covers/runs", data={"steps": "2"})
    run = wait(session, answer.json()["id"])
    assert run["status"] == "failed" and run["failed_step"] == "transcribe", run
    assert "input 'audio' is absent" in run["error"]


@pytest.mark.parametrize("form", [{"steps": "0"}, {"size": "300"}], ids=["steps", "size"])
def test_cover_settings_out_of_bounds_are_refused_at_submission(api: str, form: dict) -> None:
    session = client(api)
    answer = start(session, "covers", **form)
    if answer.status_code == 202:  # not refused: do not leave it in the shared queue
        session.delete(f"/api/runs/{answer.json()['id']}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_inputs"
    assert "does not fit art/generate" in answer.json()["detail"]


def test_an_empty_upload_is_refused(api: str, tmp_path: Path) -> None:
    session = client(api)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    answer = start(session, "covers", empty)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_inputs"
    assert "'audio': the file is empty" in answer.json()["detail"]
    assert session.get("/api/runs").json() == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(api: str) -> None:
    session = client(api)
    answer = session.post(
        "/api/pipelines/covers/runs",
        content=b"\0" * (60 << 20),  # Content-Length: 60 MiB, over one file's 50
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "upload_too_large"
    assert "the request is 60 MiB" in answer.json()["detail"]


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(api: str) -> None:
    session = client(api)

    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\n\r\n'
        for _ in range(51):  # STUDIO_MAX_UPLOAD_MB is 50
            yield b"\0" * (1 << 20)
        yield b"\r\n--b--\r\n"

    answer = session.post(
        "/api/pipelines/covers/runs",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "upload_too_large"
    assert "STUDIO_MAX_UPLOAD_MB" in answer.json()["detail"]
    assert session.get("/api/runs").json() == []


def test_unknown_runs_and_files_are_404(api: str) -> None:
    session = client(api)
    unknown = session.get(f"/api/runs/{'0' * 32}")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert session.get("/api/runs/..%2F..%2Fetc").status_code == 404
    assert session.get(f"/api/runs/{'0' * 32}/archive.zip").status_code == 404
    run = wait(session, start(session, "song-profile").json()["id"])
    for name in ("inputs", "cache", "outputs.json.tmp"):
        missing = session.get(f"/api/runs/{run['id']}/files/{name}")
        assert missing.status_code == 404 and "has no file" in missing.json()["detail"]
    escape = session.get(f"/api/runs/{run['id']}/files/..%2Finputs%2Faudio--demo-song.mp3")
    assert escape.status_code == 404


def test_runs_beyond_the_limit_wait_in_a_bounded_queue(api: str) -> None:
    session = client(api)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: start(session, "lyrics-report"), range(8)))
    accepted = [a.json() for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) + len(refused) == 8 and 3 <= len(accepted) <= 4, answers
    assert all(a.headers["retry-after"] and a.json()["error"] == "queue_full" for a in refused)
    # each answer's position is a snapshot: a run may start between two answers
    positions = [r["position"] for r in accepted if r["status"] == "queued"]
    assert positions and all(1 <= p <= len(accepted) for p in positions), accepted
    runs = [wait(session, r["id"]) for r in accepted]
    assert all(r["status"] == "done" for r in runs)  # none lost
    spans = sorted((r["started"], r["finished"]) for r in runs)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one at a time


def test_a_street_photo_becomes_a_poster(api: str) -> None:
    """street-poster: the segment service's scene, painted by the art service."""
    from training.segment.synthetic import scene

    session = client(api)
    buffer = io.BytesIO()
    Image.fromarray(scene(5, 180, 320)[0]).save(buffer, format="JPEG")
    files = {"photo": ("street.jpg", buffer.getvalue(), "image/jpeg")}
    started = session.post("/api/pipelines/street-poster/runs", files=files,
                           data={"steps": "1", "models": '["sd2-base"]'})  # fmt: skip
    assert started.status_code == 202, started.text
    run = wait(session, started.json()["id"])
    assert run["status"] == "done", run
    outputs = run["outputs"]
    assert outputs["description"].startswith("A street scene: ")
    assert "The song tells this story: A street scene: " in outputs["prompt"]  # the scene
    assert set(outputs["shares"]) >= {"flat", "sky", "vehicle"}
    mask = session.get(f"/api/runs/{run['id']}/files/{outputs['mask']['file']}")
    assert Image.open(io.BytesIO(mask.content)).size == (320, 180)
    assert len(outputs["posters"]) == 1
