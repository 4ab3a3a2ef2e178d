"""Two studio processes on one PostgreSQL database: one queue, one limit, and the runs of
a process killed for good finish on the other.

Both share the storage folder, as the replicas of a deployment share a volume.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.bentos.studio.test_resume import kill, wait_for_step
from tests.bentos.studio.test_runs import client, start, wait
from tests.conftest import fresh_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(start_studio, postgres: str, tmp_path_factory):
    database, storage = fresh_database(postgres), str(tmp_path_factory.mktemp("shared"))
    marks = {name: uuid.uuid4().hex for name in ("a", "b")}

    def settings(name: str) -> dict[str, str]:
        return {
            "STUDIO_DATABASE_URL": database, "STUDIO_DATA_DIR": storage,
            "STUDIO_EXECUTOR_ID": f"studio-{name}",
            "STUDIO_MAX_RUNNING": "1", "STUDIO_MAX_QUEUED": "100", "STUDIO_HEARTBEAT_S": "0.5",
            "STUDIO_TAKEOVER_AFTER_S": "3", "STUDIO_TEST_MARK": marks[name],
        }  # fmt: skip

    with start_studio(**settings("a")) as a, start_studio(**settings("b")) as b:
        yield {"a": a, "b": b, "marks": marks}


def test_two_studios_share_one_queue_and_its_limit(pair) -> None:
    on_a, on_b = client(pair["a"]), client(pair["b"])
    on_b.headers["X-Studio-Owner"] = on_a.headers["X-Studio-Owner"]  # the same user
    answers = [start(on_a if i % 2 else on_b, "lyrics-report") for i in range(4)]
    assert [a.status_code for a in answers] == [202] * 4, [a.text for a in answers]
    submitted = [a.json() for a in answers]
    runs = [wait(on_a, r["id"]) for r in submitted]  # each visible through either studio
    assert [r["status"] for r in runs] == ["done"] * 4
    assert {r["executor"] for r in runs} <= {"studio-a", "studio-b"}  # either may take any
    spans = sorted((r["started"], r["finished"]) for r in runs)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one at a time, in all


def test_the_runs_of_a_killed_studio_finish_on_the_other(pair) -> None:
    session = client(pair["a"])
    run = start(session, "covers", steps="40", size="256", models='["sd2-base"]').json()
    now = wait_for_step(session, run["id"], "art")
    doomed = now["executor"].removeprefix("studio-")
    kill(pair["marks"][doomed])
    survivor = client(pair["b" if doomed == "a" else "a"])
    survivor.headers["X-Studio-Owner"] = session.headers["X-Studio-Owner"]
    done = wait(survivor, run["id"], timeout=180)
    assert done["status"] == "done", done
    assert done["executor"] == f"studio-{'b' if doomed == 'a' else 'a'}"
    assert "answered from the step cache" in done["steps"]["transcribe"]["detail"]
