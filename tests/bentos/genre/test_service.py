"""The genre service over real HTTP (`bentoml serve`), with a model trained by the tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from marketplace.contracts.schemas import GENRES
from pipeline_client import GenreClient, ServiceError
from stack.local import serve
from tests.conftest import ffmpeg, make_audio

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def monitor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("monitoring")


@pytest.fixture(scope="module")
def genre_url(trained: dict, monitor_dir: Path):
    env = {
        "GENRE_MODEL_TAG": trained["tag"],
        "MARKETPLACE_PROFILE": "full",
        "AUDIO_MAX_UPLOAD_MB": "1",
        "AUDIO_MAX_SECONDS": "60",
        "GENRE_MONITOR_DIR": str(monitor_dir),
    }
    with serve("bentos.genre.service:Genre", env=env, cwd=ROOT) as url:
        yield url


def detect(url: str, path: Path):
    return asyncio.run(GenreClient(url).detect(path))


def test_probabilities_cover_the_11_genres_and_sum_to_1(genre_url: str, synthetic_clip) -> None:
    result = detect(genre_url, synthetic_clip("Jazz", seconds=12.0))
    assert set(result.probabilities) == set(GENRES)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= p <= 1.0 for p in result.probabilities.values())
    assert result.genre == max(result.probabilities, key=result.probabilities.get)
    assert result.windows == 3  # 12 s in 5 s windows: 0-5, 5-10 and 7-12 s
    assert result.duration == pytest.approx(12.0, abs=0.1)


@pytest.mark.parametrize("genre", ["Metal", "Classical", "Hip-Hop"])
def test_detects_the_genre_of_unseen_synthetic_clips(
    genre_url: str, synthetic_clip, genre: str
) -> None:
    assert detect(genre_url, synthetic_clip(genre, seconds=8.0)).genre == genre


def test_concurrent_requests_get_their_own_answers(genre_url: str, synthetic_clip) -> None:
    clips = {g: synthetic_clip(g, seconds=6.0, index=2000) for g in ("Pop", "Reggae", "Metal")}

    async def run_all():
        async with GenreClient(genre_url) as client:
            return await asyncio.gather(*(client.detect(p) for p in clips.values()))

    results = asyncio.run(run_all())
    assert [r.genre for r in results] == list(clips)


def _post(url: str, name: str, content: bytes) -> httpx.Response:
    return httpx.post(f"{url}/detect", files={"audio": (name, content)}, timeout=60)


def test_bad_input_gets_its_own_4xx(genre_url: str, tmp_path: Path) -> None:
    cases = {
        "empty": (b"", 400, "empty_audio"),
        "text": (b"la la la, lyrics but not a song\n" * 10, 415, "not_audio"),
        "corrupt": (b"fLaC" + bytes(range(256)) * 8, 422, "corrupt_audio"),
        "large": (b"RIFF" + bytes(2 * 1024 * 1024), 413, "audio_too_large"),
    }
    long_clip = tmp_path / "long.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=70", "-b:a", "32k", str(long_clip))
    cases["long"] = (long_clip.read_bytes(), 413, "audio_too_long")
    for name, (content, status, code) in cases.items():
        response = _post(genre_url, f"{name}.mp3", content)
        assert response.status_code == status, name
        body = response.json()
        assert body["error"] == code, name
        assert body["detail"], name


def test_missing_upload_is_a_400_and_a_form_a_415(genre_url: str) -> None:
    response = httpx.post(f"{genre_url}/detect", files={"other": ("a.mp3", b"x")}, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "detail": "audio: Field required"}
    response = httpx.post(f"{genre_url}/detect", data={"nothing": "here"}, timeout=30)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "multipart/form-data" in response.json()["detail"]


def test_client_raises_a_named_error(genre_url: str, tmp_path: Path) -> None:
    image = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=16x16:d=1", "-frames:v", "1", str(image))
    with pytest.raises(ServiceError, match="genre service answered 415: not_audio") as info:
        detect(genre_url, image)
    assert info.value.status == 415


def test_any_audio_format_is_accepted(genre_url: str, tmp_path: Path) -> None:
    for suffix in (".ogg", ".m4a", ".flac"):
        result = detect(genre_url, make_audio(tmp_path / f"tone{suffix}", seconds=3.0))
        assert result.windows == 1


def test_docs_json_lists_detect_with_its_schemas(genre_url: str) -> None:
    spec = httpx.get(f"{genre_url}/docs.json", timeout=10).json()
    assert "/detect" in spec["paths"]
    operation = spec["paths"]["/detect"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    schemas = spec["components"]["schemas"]
    result = next(s for s in schemas.values() if "probabilities" in s.get("properties", {}))
    assert {"genre", "probabilities", "windows"} <= set(result["properties"])


def _run(code: str, home: Path, profile: str) -> subprocess.CompletedProcess:
    env = {
        "BENTOML_HOME": str(home),
        "MARKETPLACE_PROFILE": profile,
        "BENTOML_DO_NOT_TRACK": "True",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_importing_the_service_does_nothing_and_a_worker_without_a_model_says_what_to_do(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    for profile in ("full", "smoke"):
        assert _run("import bentos.genre.service", home, profile).returncode == 0
    assert not (home / "models" / "genre").exists()  # nothing trained by an import
    start = "from bentos.genre.service import GenreClassifier; GenreClassifier.inner()"
    proc = _run(start, home, "full")
    assert proc.returncode != 0
    assert "dvc repro" in proc.stderr and "MARKETPLACE_PROFILE=smoke" in proc.stderr
    proc = _run(start, home, "smoke")
    assert "python -m training.smoke" in proc.stderr


def test_the_smoke_step_trains_a_model_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = (
        "import bentoml, training.smoke as t; t.ensure_smoke_model();"
        "m = bentoml.models.get('genre:latest');"
        "print(m.info.labels['profile'], m.info.labels['source'])"
    )
    proc = _run(code, home, "smoke")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["smoke", "synthetic"]
    again = _run(code, home, "smoke")  # a second start reuses it: still one model
    assert again.returncode == 0
    assert len(list((home / "models" / "genre").glob("*/model.yaml"))) == 1


def test_bento_build_bundles_the_model(trained: dict) -> None:
    bentoml_cli = Path(sys.executable).with_name("bentoml")
    env = {**os.environ, "GENRE_MODEL_TAG": trained["tag"], "MARKETPLACE_PROFILE": "full"}
    build = subprocess.run(
        [str(bentoml_cli), "build", "-f", "bentos/genre/bentofile.yaml", ".", "--output", "tag"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    bento_tag = build.stdout.strip().splitlines()[-1].removeprefix("__tag__:")
    info = subprocess.run(
        [str(bentoml_cli), "get", bento_tag, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    bento = json.loads(info.stdout)
    services = {s["name"]: s for s in bento["services"]}
    assert {m["tag"] for m in services["genre-classifier"]["models"]} == {trained["tag"]}
    assert "detect" in {r["name"] for r in bento["schema"]["routes"]}


def test_every_answer_is_recorded_for_drift_reports(
    genre_url: str, synthetic_clip, monitor_dir: Path
) -> None:
    from training.drift import COLUMNS, load_monitored

    before = len(load_monitored(monitor_dir))
    clips = [synthetic_clip(g, 6.0, index=500 + i) for i, g in enumerate(("Metal", "Jazz"))]
    answers = [detect(genre_url, clip) for clip in [*clips, clips[0]]]
    logged = load_monitored(monitor_dir)
    assert len(logged) == before + 3
    assert set(COLUMNS) <= set(logged.columns)
    last = logged.tail(3)
    assert list(last["genre"]) == [a.genre for a in answers]
    for answer, top in zip(answers, last["top_probability"], strict=True):
        assert top == pytest.approx(answer.probabilities[answer.genre], abs=1e-5)
    assert (last["loudness_db"] < 0).all() and (last["entropy_bits"] >= 0).all()


def test_monitoring_that_cannot_write_never_fails_a_prediction(
    trained: dict, synthetic_clip, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    env = {"GENRE_MODEL_TAG": trained["tag"], "GENRE_MONITOR_DIR": str(blocked / "sub")}
    with serve("bentos.genre.service:Genre", env=env, cwd=ROOT) as url:
        result = detect(url, synthetic_clip("Rock", 6.0, index=600))
    assert result.genre in GENRES
