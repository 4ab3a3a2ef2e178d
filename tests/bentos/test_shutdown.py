"""Stopping: the whole stack (``bentoml serve .``, the studio starting every service it
depends on) answers readiness while it starts, serves a covers run end to end, and stops
on SIGTERM within 10 s, every process of it, freeing its port and keeping its unfinished
runs to resume; the studio served alone against the services by URL (as in a cluster)
does the same on Ctrl-C. The whole stack starts once: it is two minutes of a CI machine."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bentos.common.http import READY_TIMEOUT_S
from bentos.studio.database import Database
from stack.local import STACK_MARK, free_port, marked
from tests.bentos.studio.conftest import wait_done
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
STOP_WITHIN_S = 10.0
FIRST_ANSWER_S = 300  # importing torch, transformers, diffusers... beside 14 other workers


STUDIO = "bentos.studio.service:Studio"


def start_stack(
    tmp_path: Path, scratch: Path, port: int, mark: str, services: dict[str, str] | None = None
) -> subprocess.Popen:
    """``bentoml serve .``, or with ``services`` (their URLs) the studio alone."""
    env = {
        **os.environ,
        "MARKETPLACE_PROFILE": "smoke",
        "MARKETPLACE_SMOKE_DIR": str(tmp_path / "smoke"),
        "STUDIO_DATA_DIR": str(tmp_path / "studio"),
        STACK_MARK: mark,
        # what a signalled worker leaves behind stays in here; short: BentoML puts its
        # Unix sockets in it, and a socket's path has at most 107 bytes
        "TMPDIR": str(scratch),
        **{f"MARKETPLACE_{name.upper()}_URL": url for name, url in (services or {}).items()},
    }
    if services is None:  # the explicit step `make serve PROFILE=smoke` runs first
        subprocess.run([sys.executable, "-m", "training.smoke"], cwd=ROOT, env=env, check=True)
    bentoml = Path(sys.executable).with_name("bentoml")
    target = "." if services is None else STUDIO
    return subprocess.Popen(
        [str(bentoml), "serve", target, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def wait_ready(url: str, proc: subprocess.Popen) -> list[tuple[int, float]]:
    """Poll /readyz until 200; every answer's status and how long it took."""
    answers: list[tuple[int, float]] = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        start = time.monotonic()
        try:
            # the first waits until the studio's worker has imported every service
            status = httpx.get(f"{url}/readyz", timeout=FIRST_ANSWER_S).status_code
        except httpx.ConnectError:
            time.sleep(0.2)  # the arbiter has not bound the port yet
            continue
        answers.append((status, time.monotonic() - start))
        if status == 200:
            return answers
        time.sleep(0.2)
    raise TimeoutError(f"not ready: {answers[-5:]}")


def port_is_free(port: int) -> bool:
    """Nothing listens on it: a new server (which sets SO_REUSEADDR, as uvicorn does) can
    bind it, whatever closed connections are still in TIME_WAIT."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


def covers_run_end_to_end(url: str, api: httpx.Client, song: dict) -> str:
    started = api.post("/api/pipelines/covers/runs", files=song, data={"steps": "2", "size": "256"})
    run = wait_done(
        url, started.raise_for_status().json()["id"], owner=api.headers["X-Studio-Owner"]
    )
    assert run["status"] == "done", run
    covers = ["covers-1-sd2-base.png", "covers-2-openjourney.png", "covers-3-album-cover.png"]
    assert [c["png"]["file"] for c in run["outputs"]["covers"]] == covers
    assert {*covers, "outputs.json", "report.json"} <= set(run["files"])
    return run["id"]


@pytest.mark.parametrize(
    ("signum", "whole"), [(signal.SIGINT, False), (signal.SIGTERM, True)],
    ids=["ctrl-c, the studio alone", "sigterm, the whole stack"],
)  # fmt: skip
def test_the_stack_answers_while_starting_and_stops_within_10_s(
    tmp_path: Path, signum: int, whole: bool, request: pytest.FixtureRequest
) -> None:
    port, mark = free_port(), uuid.uuid4().hex
    scratch = Path(tempfile.mkdtemp(prefix="stack-"))
    services = None if whole else request.getfixturevalue("smoke_stack")
    proc = start_stack(tmp_path, scratch, port, mark, services)
    try:
        answers = wait_ready(f"http://127.0.0.1:{port}", proc)
        assert {status for status, _ in answers} <= {200, 503}
        # The first waits in the port's backlog until the studio's worker has imported
        # every service (BentoML binds the port before starting workers); from then on
        # each answer comes within the readiness bound, never the service timeout (900 s).
        assert all(seconds < READY_TIMEOUT_S + 1 for _, seconds in answers[1:]), answers
        # the arbiter and a worker per service, or the arbiter and the studio's worker
        assert len(marked(mark)) >= (15 if whole else 2)
        song = {"audio": ("song.mp3", (ROOT / "stack/assets/demo-song.mp3").read_bytes())}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
            api.headers["X-Studio-Owner"] = owner = api.get("/api/owner").json()["owner"]
            done = set()
            if signum == signal.SIGTERM:  # the stack serves a run end to end first
                done.add(covers_run_end_to_end(f"http://127.0.0.1:{port}", api, song))
            # work in flight at the signal: covers being painted, which stay pending to be
            # resumed at the next start, and a shorter run (it may have ended by then)
            covers = api.post(
                "/api/pipelines/covers/runs", files=song, data={"steps": "40", "size": "512"}
            )
            painting = covers.raise_for_status().json()["id"]
            report = api.post("/api/pipelines/lyrics-report/runs", files=song)
            runs = {painting, report.raise_for_status().json()["id"], *done}
        time.sleep(4)
        os.killpg(proc.pid, signum)  # as a terminal sends Ctrl-C: to the whole group
        start = time.monotonic()
        while marked(mark) and time.monotonic() - start < 30:
            time.sleep(0.2)
        took = time.monotonic() - start
        assert not marked(mark), f"still running after {took:.0f} s: {marked(mark)}"
        assert took < STOP_WITHIN_S, took
        assert port_is_free(port)
        db = Database(f"sqlite:///{tmp_path / 'studio' / 'studio.sqlite'}")
        try:
            kept = {row["id"]: row["status"] for row in db.runs_of(owner)}
        finally:
            db.close()
        assert kept.keys() == runs and kept[painting] in ("queued", "running"), kept
        assert set(kept.values()) <= {"queued", "running", "done"}, kept  # none failed
        assert all(kept[run] == "done" for run in done), kept
        assert list((tmp_path / "studio" / "runs" / painting / "inputs").iterdir())
    finally:
        for pid in marked(mark):
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
