"""The runs' database (SQLite and a real PostgreSQL) and storage, without a studio:
admission under contention, queue positions, expiry, the streamed zip, a full disk."""

from __future__ import annotations

import concurrent.futures
import io
import os
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from bentos.studio.database import Database, QueueFull
from bentos.studio.storage import Storage, StorageFailed
from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    return fresh_database(request.getfixturevalue("postgres"))


def row(**values: object) -> dict:
    return {
        "id": uuid.uuid4().hex, "owner": "o" * 32, "pipeline": "p", "version": 1,
        "definition": {}, "inputs": {}, "status": "queued", "created": time.time(),
        "steps": {}, "files": [], **values,
    }  # fmt: skip


def test_submissions_that_arrive_together_never_overfill_the_queue(url: str) -> None:
    db = Database(url)

    def admit(_: int) -> bool:
        try:
            Database(url).admit(row(), max_queued=5)
            return True
        except QueueFull:
            return False

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        admitted = list(pool.map(admit, range(40)))
    assert sum(admitted) == 5 and db.counts() == {"queued": 5}


def test_positions_follow_arrival_and_only_queued_runs_have_one(url: str) -> None:
    db = Database(url)
    runs = [row(created=100.0 + i) for i in range(3)]
    for r in runs:
        db.admit(r, max_queued=10)
    assert [db.position(r) for r in runs] == [1, 2, 3]
    db.start(runs[0]["id"], "me")
    assert db.position(db.run(runs[0]["id"])) is None
    assert [db.position(db.run(r["id"])) for r in runs[1:]] == [1, 2]


def test_only_finished_runs_expire(url: str) -> None:
    db = Database(url)
    old_done, old_running = row(created=1.0, status="done"), row(created=1.0)
    for r in (old_done, old_running, row(status="failed")):
        db.admit(r, max_queued=10)
    assert db.expired(before=time.time() - 60) == [old_done["id"]]


def test_the_archive_is_a_zip_made_piece_by_piece(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    run_id = uuid.uuid4().hex
    files = storage.files(run_id)
    files.mkdir(parents=True)
    (files / "a.png").write_bytes(os.urandom(300_000))
    (files / "report.json").write_text("{}")
    pieces = list(storage.zipped(run_id, ["a.png", "report.json", "gone.png"]))
    assert len(pieces) > 3 and max(map(len, pieces)) < 200_000
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.namelist() == ["a.png", "report.json"]
    assert archive.read("a.png") == (files / "a.png").read_bytes()


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    run_id = uuid.uuid4().hex
    inputs = storage.folder(run_id) / "inputs"
    inputs.mkdir(parents=True)
    (inputs / "audio--song.mp3").symlink_to("/dev/full")  # every write: no space left
    with pytest.raises(StorageFailed, match=r"'audio' could not be stored.*No space left"):
        storage.save_input(run_id, "audio", "song.mp3", b"ID3")
