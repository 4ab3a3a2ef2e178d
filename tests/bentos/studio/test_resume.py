"""A studio killed in the middle of a run (SIGKILL, nothing saved on the way out) resumes
it when it starts again on the same database, without calling the finished steps again."""

from __future__ import annotations

import os
import signal
import time
import uuid

import httpx
import pytest

from stack.local import processes
from tests.bentos.studio.test_runs import client, start, wait

pytestmark = pytest.mark.slow


def wait_for_step(session: httpx.Client, run_id: str, step: str, timeout: float = 120) -> dict:
    """The run once ``step`` has started."""
    deadline = time.monotonic() + timeout
    while (run := session.get(f"/api/runs/{run_id}").json())["steps"][step]["status"] != (
        "started"
    ):
        assert time.monotonic() < deadline, f"step {step} never started: {run}"
        time.sleep(0.1)
    return run


def kill(mark: str) -> None:
    needle = f"STUDIO_TEST_MARK={mark}".encode()
    for pid in processes(lambda environ: needle in environ):
        os.kill(pid, signal.SIGKILL)


def test_a_killed_studio_resumes_its_run_without_calling_finished_steps(
    start_studio, tmp_path
) -> None:
    mark = uuid.uuid4().hex
    own = {"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_TEST_MARK": mark}
    with start_studio(**own) as url:
        session = client(url)
        run = start(session, "covers", steps="40", size="256", models='["sd2-base"]').json()
        wait_for_step(session, run["id"], "art")
        kill(mark)
    with start_studio(**own) as again:
        session.base_url = httpx.URL(again)
        done = wait(session, run["id"])
        report = session.get(f"/api/runs/{run['id']}/files/report.json").json()
    assert done["status"] == "done", done
    assert done["steps"]["art"]["result"]["images"][0]["png"]["file"].endswith(".png")
    # the steps finished before the kill answered from the run's step cache, uncalled
    assert report["steps"]["transcribe"]["cached"] and report["steps"]["genre"]["cached"]
    assert not report["steps"]["art"]["cached"]
    assert "answered from the step cache" in done["steps"]["transcribe"]["detail"]
