"""The actions service over real HTTP (`bentoml serve`), with the model the actions stages
trained (tests/conftest.py: actions_trained): a video end to end, the task lifecycle,
every bad video."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from bentos.actions.video import write
from stack.local import serve
from training.actions.synthetic import render

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def actions_url(actions_trained: dict):
    env = {
        "ACTIONS_MODEL_TAG": actions_trained["tag"],
        "MARKETPLACE_PROFILE": "full",
        "VIDEO_MAX_UPLOAD_MB": "5",
        "VIDEO_MAX_SECONDS": "30",
        "VIDEO_MAX_SIDE": "640",
        "VIDEO_MAX_FPS": "60",
        "ACTIONS_MAX_RUNNING": "1",
        "ACTIONS_MAX_TASKS": "3",
    }
    with serve("bentos.actions.service:Actions", env=env, cwd=ROOT) as url:
        yield url


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    clip = render(77, seconds=8, fps=30, height=96, width=128)
    out = {"mp4": write(folder / "shop.mp4", clip.frames, 30)}
    out["webm"] = write(folder / "shop.webm", clip.frames[:90], 30, codec="libvpx-vp9")
    out["avi"] = write(folder / "shop.avi", clip.frames[:90], 30, codec="mpeg4")
    long = render(78, seconds=40, fps=10, height=48, width=64)
    out["long"] = write(folder / "long.mp4", long.frames, 10)
    wide = np.zeros((4, 480, 800, 3), np.uint8)
    out["wide"] = write(folder / "wide.mp4", wide, 10)
    out["fast"] = write(folder / "fast.mp4", clip.frames[:30], 120)
    data = out["mp4"].read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    out["truncated"] = folder / "truncated.mp4"
    (folder / "notes.mp4").write_text("these are not frames")
    out["text"] = folder / "notes.mp4"
    (folder / "empty.mp4").write_bytes(b"")
    out["empty"] = folder / "empty.mp4"
    return out


def post(url: str, route: str, path: Path, **form: str) -> httpx.Response:
    files = {"video": (path.name, path.read_bytes())}
    return httpx.post(f"{url}{route}", files=files, data=form, timeout=300)


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.json()["error"] == code, response.json()
    return response.json()["detail"]


def test_a_video_becomes_segments_that_cover_it_and_a_timeline(
    actions_url: str, videos: dict[str, Path], actions_trained: dict
) -> None:
    answer = post(actions_url, "/recognize", videos["mp4"], preview="true")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["model"] == actions_trained["tag"] and result["fps"] == 15
    assert result["duration"] == pytest.approx(8, abs=0.1)
    segments = result["segments"]
    assert segments[0]["start"] == 0 and segments[-1]["end"] == result["duration"]
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(segments))
    assert all(a["label"] != b["label"] for a, b in itertools.pairwise(segments))
    timeline = result["timeline"]
    assert timeline["seconds"] == [float(s) for s in range(8)]
    for p in timeline["probabilities"]:
        assert sum(p.values()) == pytest.approx(1, abs=1e-3) and len(p) == 6
    assert result["preview"]
    for kind in ("webm", "avi"):
        other = post(actions_url, "/recognize", videos[kind])
        assert other.status_code == 200, (kind, other.text)
        assert other.json()["duration"] == pytest.approx(3, abs=0.1)


def test_a_submitted_video_reports_progress_then_its_result(
    actions_url: str, videos: dict[str, Path]
) -> None:
    submitted = post(actions_url, "/submit", videos["mp4"])
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = httpx.post(f"{actions_url}/status", json={"task_id": task_id}).json()
        seen.append(status["progress"])
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["progress"] == 1, status
    assert seen == sorted(seen)
    result = httpx.post(f"{actions_url}/result", json={"task_id": task_id})
    assert result.status_code == 200 and result.json()["segments"]
    direct = post(actions_url, "/recognize", videos["mp4"]).json()
    assert result.json()["segments"] == direct["segments"]
    error(httpx.post(f"{actions_url}/status", json={"task_id": "nosuch"}), 404, "unknown_task")
    error(httpx.post(f"{actions_url}/result", json={"task_id": "nosuch"}), 404, "unknown_task")


def test_a_task_can_be_cancelled_and_the_queue_is_bounded(
    actions_url: str, videos: dict[str, Path]
) -> None:
    ids = [post(actions_url, "/submit", videos["mp4"]).json()["task_id"] for _ in range(3)]
    error(post(actions_url, "/submit", videos["mp4"]), 429, "too_many_requests")
    last = ids[-1]  # waiting behind the others (one runs at a time)
    pending = httpx.post(f"{actions_url}/result", json={"task_id": last})
    error(pending, 409, "task_not_done")
    cancelled = httpx.post(f"{actions_url}/cancel", json={"task_id": last}).json()
    assert cancelled["status"] == "cancelled", cancelled
    error(httpx.post(f"{actions_url}/result", json={"task_id": last}), 410, "task_cancelled")
    for task_id in ids[:-1]:
        httpx.post(f"{actions_url}/cancel", json={"task_id": task_id})


def test_concurrent_videos_answer_as_alone(actions_url: str, videos: dict[str, Path]) -> None:
    alone = post(actions_url, "/recognize", videos["webm"]).json()

    async def together() -> list[dict]:
        async with httpx.AsyncClient(timeout=300) as client:
            answers = await asyncio.gather(*(
                client.post(f"{actions_url}/recognize",
                            files={"video": ("v.webm", videos["webm"].read_bytes())})
                for _ in range(3)
            ))  # fmt: skip
        return [a.json() for a in answers]

    for result in asyncio.run(together()):
        assert result["segments"] == alone["segments"]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("empty", 400, "empty_video"),
        ("text", 415, "not_video"),
        ("truncated", 422, "corrupt_video"),
        ("long", 413, "video_too_long"),
        ("wide", 413, "video_too_large"),
        ("fast", 422, "bad_frame_rate"),
    ],
)
def test_bad_videos_are_named_4xx(
    actions_url: str, videos: dict[str, Path], kind: str, status: int, code: str
) -> None:
    for route in ("/recognize", "/submit"):
        error(post(actions_url, route, videos[kind]), status, code)
