"""The covers pipeline and the covers command against the real services (smoke profile)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pipeline_client.covers import CoverOptions, StageEvent, run_covers
from stack.local import free_port
from tests.conftest import DEMO_SONG, ROOT

pytestmark = pytest.mark.slow
FAST = ["--steps", "3", "--size", "256"]


def covers(urls: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    flags = [arg for service, url in urls.items() for arg in (f"--{service}-url", url)]
    return subprocess.run(
        [sys.executable, "-m", "pipeline_client.cli", "run", *args, *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_pipeline_runs_every_service_with_audio_stages_together(smoke_stack) -> None:
    events: list[StageEvent] = []
    options = CoverOptions(summary="always", cover={"steps": 3, "width": 256, "height": 256})
    report = asyncio.run(run_covers(DEMO_SONG, options, urls=smoke_stack, on_event=events.append))
    t = report.timings
    assert t["transcribe"].started < t["genre"].finished
    assert t["genre"].started < t["transcribe"].finished
    assert report.transcript.duration == pytest.approx(20.0, abs=0.2)
    assert report.genre.genre in report.genre.probabilities
    assert report.lyrics is not None and report.summary is not None
    assert report.covers.prompt.startswith(f"An album cover in style of {report.genre.genre}")
    assert f"sentiment of {report.lyrics.emotion}" in report.covers.prompt
    assert [i.model for i in report.covers.images] == ["sd2-base", "openjourney", "album-cover"]
    assert [e.kind for e in events if e.stage == "art"] == ["started", "finished"]


def test_covers_run_writes_images_and_the_report(smoke_stack, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = covers(smoke_stack, str(DEMO_SONG), "--out", str(out), "--seed", "5", *FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text())
    names = [image["png"] for image in report["covers"]["images"]]
    assert names == ["sd2-base.png", "openjourney.png", "album-cover.png"]
    for name in names:
        assert Image.open(out / name).size == (256, 256)
    assert report["covers"]["seed"] == 5 and report["failure"] is None
    for key in ("transcript", "genre", "lyrics", "covers", "timings", "options"):
        assert report[key], key
    assert set(report["timings"]) >= {"transcribe", "genre", "lyrics", "art"}
    assert "prompt:" in done.stdout and str(out / "report.json") in done.stdout


def test_covers_run_fetches_a_video_first(smoke_stack, audio_site: str, tmp_path: Path) -> None:
    out = tmp_path / "video"
    done = covers(smoke_stack, f"{audio_site}/song.mp3", "--out", str(out), *FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["fetched"]["title"] == "song" and report["fetched"]["audio"] == "audio.mp3"
    assert (out / "audio.mp3").read_bytes()[:3] in (b"ID3", b"\xff\xfb")
    assert report["timings"]["youtube"]["seconds"] > 0


def test_a_service_that_is_down_fails_the_run_naming_it(smoke_stack, tmp_path: Path) -> None:
    urls = {**smoke_stack, "lyrics": f"http://127.0.0.1:{free_port()}"}
    out = tmp_path / "down"
    done = covers(urls, str(DEMO_SONG), "--out", str(out), "--retries", "1", *FAST)
    assert done.returncode == 1
    assert "failed at stage 'lyrics'" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["failure"]["stage"] == "lyrics"
    assert report["transcript"] and report["genre"]  # what came before is kept
    assert report["timings"]["lyrics"]["attempts"] == 2 and report["covers"] is None


def test_bad_arguments_exit_2_with_a_reason(smoke_stack, tmp_path: Path) -> None:
    missing = covers(smoke_stack, str(tmp_path / "nope.mp3"))
    assert missing.returncode == 2 and "no such audio file" in missing.stdout
    bad = covers(smoke_stack, str(DEMO_SONG), "--steps", "0")
    assert bad.returncode == 2 and "steps" in bad.stdout


def test_the_client_needs_no_torch() -> None:
    code = (
        "import sys, pipeline_client, pipeline_client.cli, pipeline_client.covers; "
        "heavy = {'torch', 'diffusers', 'transformers', 'bentoml'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
