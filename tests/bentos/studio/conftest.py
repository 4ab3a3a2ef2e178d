"""The studio, served against the smoke stack by URL (as in a cluster)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from bentos.studio.owners import HEADER
from stack.local import serve
from tests.conftest import ROOT

STUDIO = "bentos.studio.service:Studio"


@pytest.fixture(scope="session")
def studio_env(smoke_stack: dict[str, str], audio_site: str, tmp_path_factory) -> dict[str, str]:
    """One run at a time, three runs in the queue: the limits are easy to reach."""
    return {
        **{f"MARKETPLACE_{s.upper()}_URL": url for s, url in smoke_stack.items()},
        "MARKETPLACE_PROFILE": "smoke",
        "YOUTUBE_TEST_ORIGIN": audio_site,
        "STUDIO_DATA_DIR": str(tmp_path_factory.mktemp("studio")),
        "STUDIO_MAX_RUNNING": "1",
        "STUDIO_MAX_QUEUED": "3",
    }


@pytest.fixture(scope="session")
def start_studio(studio_env) -> Callable[..., AbstractContextManager[str]]:
    """Start a studio: the shared one's settings, with ``env`` on top (tests that stop or
    kill theirs give it its own STUDIO_DATA_DIR)."""
    return lambda **env: serve(STUDIO, env={**studio_env, **env}, cwd=ROOT)


@pytest.fixture(scope="session")
def studio(start_studio):
    """The studio most tests share (started once per session)."""
    with start_studio() as url:
        yield url


OWNER = secrets.token_urlsafe(32)  # the owner token of the runs these helpers submit
ACTIVE = ("queued", "running")


def submit(
    studio: str, song: Path | None = None, owner: str = OWNER, **form: str
) -> httpx.Response:
    """Start a run of the covers pipeline: ``song`` as its ``audio``, ``form`` as its other
    inputs, as text (``url``, ``steps="2"``, ``models='["sd2-base"]'``)."""
    files = {"audio": (song.name, song.read_bytes(), "audio/mpeg")} if song else None
    return httpx.post(
        f"{studio}/api/pipelines/covers/runs",
        files=files,
        data=form,
        headers={HEADER: owner},
        timeout=60,
    )


def wait_done(url: str, run_id: str, timeout: float = 300, owner: str = OWNER) -> dict:
    """The run once it has ended (no longer queued or running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{url}/api/runs/{run_id}", headers={HEADER: owner}, timeout=10).json()
        if run["status"] not in ACTIVE:
            return run
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} still {run['status']} after {timeout} s")
