"""The core-engine bridge served as users run it, with the engine stand-in, moto's S3
server and the smoke-profile services: registration, heartbeat, tasks through to the
callback, the full queue, failures reported with their stage, an exported pipeline."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from bentos.core_engine.export import export
from marketplace.contracts.pipeline import PipelineDefinition
from stack.local import free_port, serve
from tests.bentos.core_engine.conftest import BRIDGE, DOWN, MAX_TASKS
from tests.bentos.core_engine.standin import Engine
from tests.conftest import DEMO_SONG, ROOT

pytestmark = pytest.mark.slow


def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def registered(bridge: str, engine: Engine) -> dict:
    """Every service the bridge offers, once the engine has them all."""
    offered = httpx.get(f"{bridge}/").json()
    eventually(lambda: all(engine.by_slug(s) for s in offered["services"]), what="registered")
    return offered


def test_every_endpoint_the_engine_can_take_is_registered_with_typed_fields(
    registered: dict, engine: Engine, bridge: str
) -> None:
    assert set(registered["services"]) >= {"genre-detect", "transcribe", "segment",
                                           "tags-decide-table", "art-generate"}  # fmt: skip
    genre = engine.by_slug("genre-detect")
    assert genre["url"] == f"{bridge}/genre-detect" and genre["has_ai"] is True
    assert genre["data_in_fields"] == [{"name": "audio", "type": ["audio/mpeg", "audio/ogg"],
                                        "format_hint": None}]  # fmt: skip
    assert [(f["name"], f["type"]) for f in genre["data_out_fields"]] == [
        ("result", ["application/json"]), ("genre", ["text/plain"]), ("model", ["text/plain"])
    ]  # fmt: skip
    assert {"name": "Audio Processing", "acronym": "AP"} in genre["tags"]
    segment = engine.by_slug("segment")
    assert segment["data_in_fields"][0]["type"] == ["image/jpeg", "image/png"]
    assert ("mask", ["image/png"]) in [(f["name"], f["type"]) for f in segment["data_out_fields"]]
    assert "overlay" in segment["description"]  # an optional input, left at its default
    # what the engine has no type for is left out, and says why
    assert "video/*" in registered["left_out"]["actions/recognize"]
    assert "actions/status" in registered["left_out"]
    assert httpx.get(f"{bridge}/genre-detect/status").json() == {"status": "Service is available"}
    docs = httpx.get(genre["docs_url"]).json()
    assert docs["call"] == "genre/detect" and "audio" in docs["input_schema"]["properties"]


def test_registered_services_ping_the_engine_and_come_back_when_it_forgets_them(
    registered: dict, engine: Engine
) -> None:
    start = time.monotonic()
    eventually(lambda: {s for s, at in engine.pings if at > start} >= set(registered["services"]),
               timeout=10, what="every service pinged")  # fmt: skip
    forgotten = engine.by_slug("tags-decide")
    del engine.services[forgotten["id"]]  # the engine lost it (a reset database)
    eventually(lambda: engine.by_slug("tags-decide") is not None, timeout=10,
               what="registered again")  # fmt: skip


def test_a_task_runs_through_to_the_callback_with_its_outputs_in_s3(
    registered: dict, engine: Engine, bridge: str, smoke_stack: dict[str, str]
) -> None:
    song = DEMO_SONG.read_bytes()
    report = engine.run("genre-detect", [(song, "audio/mpeg")])
    assert report["status"] == "finished" and report["error_message"] is None
    result_key, genre_key, model_key = report["data_out"]
    assert result_key.endswith(".json") and genre_key.endswith(".txt")
    result = json.loads(engine.read(result_key))
    direct = httpx.post(f"{smoke_stack['genre']}/detect", timeout=120,
                        files={"audio": ("song.mp3", song, "audio/mpeg")}).json()  # fmt: skip
    assert result["genre"] == direct["genre"] == engine.read(genre_key).decode()
    assert result["probabilities"] == pytest.approx(direct["probabilities"])
    assert engine.read(model_key).decode() == direct["model"]


def test_a_file_answer_is_its_own_object_and_the_json_points_to_it(
    registered: dict, engine: Engine, bridge: str
) -> None:
    photo = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(photo, format="JPEG")
    task_id, answer = engine.compute("segment", [engine.store(photo.getvalue(), "image/jpeg")])
    assert answer.json() == {"status": "Task added to the queue"}
    report = engine.wait(task_id)
    assert report["status"] == "finished", report
    keys = dict(zip([f["name"] for f in engine.by_slug("segment")["data_out_fields"]],
                    report["data_out"], strict=True))  # fmt: skip
    mask = Image.open(io.BytesIO(engine.read(keys["mask"])))
    assert keys["mask"].endswith(".png") and mask.size == (64, 48)
    assert json.loads(engine.read(keys["result"]))["mask"] == keys["mask"]
    status = httpx.get(f"{bridge}/segment/tasks/{task_id}/status").json()
    assert status == {"status": "finished"}


def test_the_queue_answers_503_when_full_and_reports_every_task(
    registered: dict, engine: Engine, bridge: str, black_hole
) -> None:
    song = engine.store(DEMO_SONG.read_bytes(), "audio/mpeg")
    held = [engine.compute("genre-detect", [song], s3_host=black_hole.url)
            for _ in range(MAX_TASKS)]  # fmt: skip
    assert all(answer.status_code == 200 for _, answer in held)
    statuses = {httpx.get(f"{bridge}/genre-detect/tasks/{t}/status").json()["status"]
                for t, _ in held}  # fmt: skip
    assert statuses <= {"pending", "fetching"}
    _, full = engine.compute("genre-detect", [song])
    assert full.status_code == 503 and full.headers["retry-after"]
    assert "Queue is full" in full.json()["detail"]
    black_hole.release()  # the storage fails: every held task is reported, at its stage
    for task_id, _ in held:
        report = engine.wait(task_id, timeout=60)
        assert report["status"] == "error" and report["data_out"] == []
        assert report["error_message"].startswith("fetching: ")
    assert engine.run("genre-detect", [(DEMO_SONG.read_bytes(), "audio/mpeg")])["status"] == (
        "finished"
    )  # room again


@pytest.mark.parametrize(
    ("slug", "files", "message"),
    [
        (
            "genre-detect",
            [(b"not a song at all", "audio/mpeg")],
            "processing: genre service answered 4",
        ),
        (
            DOWN,
            [(b"a text long enough to be summarised", "text/plain")],
            f"processing: {DOWN} at http://127.0.0.1:",
        ),
        ("genre-detect", [(b"{}", "application/json")], "fetching: input 'audio' is"),
        ("genre-detect", [], "fetching: 0 input file(s) for 1 field(s) (audio)"),
    ],
    ids=["the-service-refuses-the-input", "the-service-is-down", "wrong-type", "no-input"],
)
def test_a_failing_task_is_reported_as_an_error_naming_its_stage(
    registered: dict, engine: Engine, slug: str, files: list, message: str
) -> None:
    report = engine.run(slug, files, timeout=90)
    assert report["status"] == "error" and report["data_out"] == []
    assert report["error_message"].startswith(message), report["error_message"]


def test_a_missing_input_object_is_reported_and_the_credentials_stay_secret(
    registered: dict, engine: Engine, bridge: str, bridge_logs: Path
) -> None:
    task_id, _ = engine.compute("genre-detect", ["never-stored.mp3"])
    report = engine.wait(task_id)
    assert report["error_message"] == "fetching: 'never-stored.mp3' is not in bucket 'engine'"
    status = httpx.get(f"{bridge}/genre-detect/tasks/{task_id}/status").text
    log = (bridge_logs / "service.log").read_text()
    assert f"task {task_id} (genre-detect): error" in log  # the log has the tasks...
    for secret in (engine.storage.secret, engine.storage.key_id):  # ...not their keys
        assert secret not in status + json.dumps(report) + log


def test_bad_requests_to_the_bridge_are_4xx_naming_the_problem(
    registered: dict, bridge: str
) -> None:
    answer = httpx.post(f"{bridge}/genre-detect/compute", json={"task": {"id": "1"}})
    assert answer.status_code == 400 and "callback_url" in answer.json()["detail"]
    answer = httpx.post(f"{bridge}/genre-detect/compute", content=b"x",
                        headers={"content-type": "text/plain"})  # fmt: skip
    assert answer.status_code == 415
    answer = httpx.post(f"{bridge}/no-such-service/compute", json={})
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    answer = httpx.get(f"{bridge}/genre-detect/tasks/unknown/status")
    assert answer.status_code == 404 and "unknown" in answer.json()["detail"]


def test_a_stopping_bridge_reports_its_unfinished_tasks_and_retires_its_services(
    registered: dict, engine: Engine, smoke_stack: dict[str, str], black_hole, tmp_path: Path
) -> None:
    """A second bridge (its own slugs), stopped with a task still fetching."""
    port = free_port()
    env = {
        "CORE_ENGINE_URL": engine.url,
        "CORE_ENGINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CORE_ENGINE_SLUG_PREFIX": "second-",
        "CORE_ENGINE_SERVICES": "genre",
        "CORE_ENGINE_ANNOUNCE_RETRY_S": "0.2",
        "MARKETPLACE_GENRE_URL": smoke_stack["genre"],
    }
    with serve(BRIDGE, port=port, env=env, cwd=ROOT, log_dir=tmp_path):
        eventually(lambda: engine.by_slug("second-genre-detect") is not None, what="registered")
        song = engine.store(DEMO_SONG.read_bytes(), "audio/mpeg")
        task_id, answer = engine.compute("second-genre-detect", [song], s3_host=black_hole.url)
        assert answer.status_code == 200
        url = f"http://127.0.0.1:{port}/second-genre-detect/tasks/{task_id}/status"
        assert httpx.get(url).json()["status"] in ("pending", "fetching")
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10
    report = engine.wait(task_id, timeout=1)  # reported before the bridge exited
    assert report["status"] == "error"
    assert "the bridge stopped before the task finished" in report["error_message"]
    retired = engine.by_slug("second-genre-detect")
    assert {"method": "PATCH", "id": retired["id"], "status": "unavailable"} in (
        engine.registrations
    )


EXPORTED = PipelineDefinition.model_validate({
    "pipeline": "song-cover",
    "version": 1,
    "description": "A song's genre, painted in a mood. Skipped when the mood is none.",
    "inputs": {"audio": {"media": "audio/*"}, "mood": {"type": "string"}},
    "steps": {
        "genre": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}},
        "cover": {
            "call": "art/generate",
            "when": 'words($genre.genre) > 0 && $inputs.mood != "none"',
            "with": {"genre": "$genre.genre", "emotion": "$inputs.mood"},
        },
    },
    "outputs": {"genre": "$genre.genre", "prompt": "$cover.prompt"},
})  # fmt: skip


def test_an_exported_pipeline_is_accepted_and_run_by_the_engine(
    registered: dict, engine: Engine
) -> None:
    description = export(EXPORTED).model_dump(mode="json", exclude_none=True)
    answer = httpx.post(f"{engine.url}/pipelines", json=description)
    assert answer.status_code == 200, answer.text
    song = (DEMO_SONG.read_bytes(), "audio/mpeg")
    run = engine.run_pipeline("song-cover", [song, (b"calm", "text/plain")])
    assert run["steps"] == {"genre": "finished", "cover": "finished"}
    genre_key, prompt_key = run["outputs"]  # genre, then what may be skipped: the prompt
    assert "calm" in engine.read(prompt_key).decode()
    genre = engine.read(genre_key).decode()
    run = engine.run_pipeline("song-cover", [song, (b"none", "text/plain")])
    assert run["steps"] == {"genre": "finished", "cover": "skipped"}
    assert [engine.read(key).decode() for key in run["outputs"]] == [genre]
