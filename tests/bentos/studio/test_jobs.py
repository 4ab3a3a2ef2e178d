"""The studio's job API over real HTTP: jobs, files, restarts, the busy answer, bad input."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
from PIL import Image

from tests.bentos.studio.conftest import submit, wait_done
from tests.conftest import DEMO_SONG

pytestmark = pytest.mark.slow
FAST = {"steps": "2", "size": "256"}
MODELS = ["sd2-base", "openjourney", "album-cover"]


def test_a_song_becomes_covers_with_every_result_on_the_way(studio: str) -> None:
    response = submit(studio, DEMO_SONG, **FAST, seed="9")
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "running" and job["source"] == "demo-song.mp3"
    assert list(job["stages"]) == ["transcribe", "genre", "lyrics", "summarize", "art"]
    job = wait_done(studio, job["id"])
    assert job["status"] == "done", job
    assert all(s["state"] in ("finished", "skipped") for s in job["stages"].values())
    report = job["report"]
    assert report["transcript"]["duration"] == pytest.approx(20.0, abs=0.2)
    assert report["genre"]["genre"] in report["genre"]["probabilities"]
    assert report["lyrics"]["emotion"] in report["covers"]["prompt"]
    assert report["covers"]["seed"] == 9
    assert job["files"] == [f"{m}.png" for m in MODELS] + ["report.json"]
    for model in MODELS:
        png = httpx.get(f"{studio}/jobs/{job['id']}/files/{model}.png", timeout=10)
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (256, 256)
    archive = httpx.get(f"{studio}/jobs/{job['id']}/covers.zip", timeout=10)
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == sorted(job["files"])
    saved = json.loads(httpx.get(f"{studio}/jobs/{job['id']}/files/report.json").text)
    assert saved["covers"]["prompt"] == report["covers"]["prompt"]


def test_a_youtube_address_is_fetched_and_its_audio_kept(studio: str, audio_site: str) -> None:
    job = submit(studio, url=f"{audio_site}/song.mp3", **FAST).json()
    assert "youtube" in job["stages"]
    job = wait_done(studio, job["id"])
    assert job["status"] == "done", job
    assert "audio.mp3" in job["files"] and job["report"]["fetched"]["title"] == "song"


def test_a_failed_stage_is_named_on_the_job(studio: str, audio_site: str) -> None:
    job = wait_done(studio, submit(studio, url=f"{audio_site}/missing.mp3").json()["id"])
    assert job["status"] == "failed" and job["failed_stage"] == "youtube"
    assert "404" in job["error"] and job["stages"]["youtube"]["state"] == "failed"
    assert job["stages"]["transcribe"]["state"] == "cancelled"  # not run: fetch failed
    assert job["files"] == ["report.json"]  # the report of what happened is kept


def test_the_next_job_gets_a_busy_answer_while_the_limit_runs(studio: str) -> None:
    first = submit(studio, DEMO_SONG, **FAST).json()
    busy = submit(studio, DEMO_SONG, **FAST)
    assert busy.status_code == 429
    assert busy.json()["error"] == "busy" and "STUDIO_MAX_JOBS" in busy.json()["detail"]
    assert busy.headers["retry-after"] == "30"
    assert wait_done(studio, first["id"])["status"] == "done"
    assert submit(studio, DEMO_SONG, **FAST).status_code == 202  # free again
    wait_done(studio, httpx.get(f"{studio}/jobs").json()[0]["id"])


def test_jobs_survive_a_restart(start_studio, tmp_path) -> None:
    own = {"STUDIO_DATA_DIR": str(tmp_path)}
    with start_studio(**own) as url:
        done = wait_done(url, submit(url, DEMO_SONG, **FAST).json()["id"])
        running = submit(url, DEMO_SONG, steps="40", size="512").json()  # still running at stop
    with start_studio(**own) as url:
        again = httpx.get(f"{url}/jobs/{done['id']}", timeout=10).json()
        assert again["status"] == "done" and again["files"] == done["files"]
        png = httpx.get(f"{url}/jobs/{done['id']}/files/{done['files'][0]}", timeout=10)
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        cut = httpx.get(f"{url}/jobs/{running['id']}", timeout=10).json()
        assert cut["status"] == "interrupted" and "stopped" in cut["error"]
        ids = [job["id"] for job in httpx.get(f"{url}/jobs", timeout=10).json()]
        assert done["id"] in ids and running["id"] in ids


def test_a_deleted_job_is_gone(studio: str) -> None:
    job = wait_done(studio, submit(studio, DEMO_SONG, **FAST).json()["id"])
    assert httpx.delete(f"{studio}/jobs/{job['id']}").status_code == 204
    assert httpx.get(f"{studio}/jobs/{job['id']}").status_code == 404
    assert httpx.get(f"{studio}/jobs/{job['id']}/covers.zip").status_code == 404


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({}, 400, "bad_request"),
        ({"url": "https://example.com/song.mp3"}, 400, "url_not_allowed"),
        ({"url": "https://www.youtube.com/playlist?list=PL1"}, 400, "url_not_allowed"),
        ({"url": "https://youtu.be/dQw4w9WgXcQ", "steps": "0"}, 400, "bad_request"),
        ({"url": "https://youtu.be/dQw4w9WgXcQ", "size": "300"}, 400, "bad_request"),
        ({"url": "https://youtu.be/dQw4w9WgXcQ", "steps": "many"}, 400, "invalid_request"),
    ],
)
def test_bad_submissions_get_a_reason(studio: str, form: dict, status: int, error: str) -> None:
    response = submit(studio, **form)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["detail"]


def test_an_empty_upload_and_a_file_with_an_address_are_refused(studio: str, tmp_path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    response = submit(studio, empty)
    assert response.status_code == 400 and response.json()["error"] == "empty_audio"
    both = submit(studio, DEMO_SONG, url="https://youtu.be/dQw4w9WgXcQ")
    assert both.status_code == 400 and "either" in both.json()["detail"]


def test_unknown_jobs_and_files_are_404(studio: str) -> None:
    assert httpx.get(f"{studio}/jobs/{'0' * 32}").json()["error"] == "not_found"
    assert httpx.get(f"{studio}/jobs/..%2F..%2Fetc").status_code == 404
    job = httpx.get(f"{studio}/jobs").json()[0]
    response = httpx.get(f"{studio}/jobs/{job['id']}/files/job.json")
    assert response.status_code == 404 and "has no file" in response.json()["detail"]


def test_an_oversized_upload_is_refused_while_it_streams_and_nothing_is_kept(studio: str) -> None:
    def endless():
        yield b'--b\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\n\r\n'
        for _ in range(1024):  # 1 GiB, never sent in full
            yield b"\0" * (1 << 20)

    before = httpx.get(f"{studio}/jobs", timeout=10).json()
    response = httpx.post(
        f"{studio}/jobs",
        content=endless(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "audio_too_large"
    assert httpx.get(f"{studio}/jobs", timeout=10).json() == before
