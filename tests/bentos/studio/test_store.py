"""Studio jobs on disk: recovery after a restart, expiry, and ids that cannot escape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bentos.studio.jobs import JobStore


def test_a_running_job_is_interrupted_by_a_restart_and_its_input_kept(tmp_path: Path) -> None:
    store = JobStore(tmp_path, timedelta(hours=1))
    job = store.create("song.mp3", url=False)
    (store.folder(job.id) / "input.mp3").write_bytes(b"the song")
    again = JobStore(tmp_path, timedelta(hours=1)).get(job.id)
    assert again is not None and again.status == "interrupted"
    assert (store.folder(job.id) / "input.mp3").read_bytes() == b"the song"


def test_finished_jobs_expire_running_ones_do_not(tmp_path: Path) -> None:
    store = JobStore(tmp_path, timedelta(hours=1))
    old, running = store.create("a.mp3", url=False), store.create("b.mp3", url=False)
    old.status = "done"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert store.expired(later) == [old.id] and running.id not in store.expired(later)
    assert store.expired() == []


def test_only_job_ids_name_folders(tmp_path: Path) -> None:
    store = JobStore(tmp_path, timedelta(hours=1))
    for bad in ("../etc", "..", "abc", "0" * 31 + "/"):
        with pytest.raises(KeyError):
            store.folder(bad)


def test_foreign_folders_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "jobs" / "notes").mkdir(parents=True)
    (tmp_path / "jobs" / "notes" / "job.json").write_text("{not json")
    store = JobStore(tmp_path, timedelta(hours=1))
    assert store.jobs == {} and (tmp_path / "jobs" / "notes").exists()


def test_a_url_job_has_the_download_stage(tmp_path: Path) -> None:
    store = JobStore(tmp_path, timedelta(hours=1))
    assert next(iter(store.create("https://youtu.be/x", url=True).stages)) == "youtube"
    assert "youtube" not in store.create("song.mp3", url=False).stages
