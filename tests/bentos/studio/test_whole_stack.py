"""`bentoml serve` at the repository root: the studio starts every service it depends on."""

from __future__ import annotations

import pytest

from stack.local import serve
from tests.bentos.studio.conftest import submit, wait_done
from tests.conftest import DEMO_SONG, ROOT

pytestmark = pytest.mark.slow


def test_the_root_bento_serves_the_whole_stack(tmp_path_factory) -> None:
    env = {
        "MARKETPLACE_PROFILE": "smoke",
        "MARKETPLACE_SMOKE_DIR": str(tmp_path_factory.mktemp("smoke")),
        "STUDIO_DATA_DIR": str(tmp_path_factory.mktemp("studio")),
    }
    with serve(".", env=env, cwd=ROOT, ready_timeout=600) as url:
        run = wait_done(url, submit(url, DEMO_SONG, steps="2", size="256").json()["id"])
    assert run["status"] == "done", run
    covers = ["covers-1-sd2-base.png", "covers-2-openjourney.png", "covers-3-album-cover.png"]
    assert [c["png"]["file"] for c in run["outputs"]["covers"]] == covers
    assert {*covers, "outputs.json", "report.json"} <= set(run["files"])
