"""Studio jobs on disk: one folder per job, so jobs survive a restart until deleted or expired.

``<data_dir>/jobs/<id>/`` holds ``job.json`` (status, each stage's progress, the report so
far), the uploaded audio (``input.<ext>``) and, once done, the covers, the fetched audio
and ``report.json``. A job that was running when the studio stopped is marked
``interrupted`` on the next start; its input stays, so nothing the user sent is lost.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from marketplace.contracts.services import SERVICE_NAMES as SERVICES
from pipeline_client.covers import Service
from pipeline_client.outputs import write_json

JobStatus = Literal["running", "done", "failed", "interrupted"]
StageState = Literal["waiting", "started", "retrying", "finished", "skipped", "failed", "cancelled"]
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
JOB_FILE = "job.json"


class StageProgress(BaseModel):
    state: StageState = "waiting"
    seconds: float | None = Field(None, description="how long the stage took")
    detail: str | None = Field(None, description="why it was retried, skipped or failed")


class Job(BaseModel):
    id: str
    status: JobStatus
    created: datetime
    source: str = Field(description="the uploaded file's name, or the YouTube address")
    stages: dict[Service, StageProgress]
    report: dict | None = Field(None, description="results so far, as in report.json")
    files: list[str] = Field(default_factory=list, description="files ready to download")
    failed_stage: Service | None = None
    error: str | None = None


class JobStore:
    """Jobs in memory, each saved to its folder on every change."""

    def __init__(self, root: Path, ttl: timedelta) -> None:
        self.root = root / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self.jobs: dict[str, Job] = {}
        for folder in sorted(self.root.iterdir()):
            job = self._load(folder)
            if job is not None:
                self.jobs[job.id] = job
        self.interrupt_running()  # the studio stopped under them without saying so

    def interrupt_running(self) -> None:
        """Mark every running job interrupted (the studio is stopping, or has stopped)."""
        for job in self.jobs.values():
            if job.status == "running":
                job.status = "interrupted"
                job.error = "the studio stopped while this job ran; its input is kept"
                self.save(job)

    def _load(self, folder: Path) -> Job | None:
        try:
            return Job.model_validate_json((folder / JOB_FILE).read_text())
        except (OSError, ValidationError):
            return None  # not a job folder (or a half-created one): left alone

    def create(self, source: str, url: bool) -> Job:
        stages = SERVICES if url else SERVICES[1:]
        job = Job(
            id=uuid.uuid4().hex,
            status="running",
            created=datetime.now(UTC),
            source=source,
            stages={stage: StageProgress() for stage in stages},
        )
        self.folder(job.id).mkdir(parents=True)
        self.jobs[job.id] = job
        self.save(job)
        return job

    def folder(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise KeyError(job_id)
        return self.root / job_id

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def save(self, job: Job) -> None:
        write_json(self.folder(job.id) / JOB_FILE, job.model_dump(mode="json"))

    def delete(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def expired(self, now: datetime | None = None) -> list[str]:
        """Ids of finished jobs older than the time to live."""
        limit = (now or datetime.now(UTC)) - self.ttl
        return [j.id for j in self.jobs.values() if j.status != "running" and j.created < limit]

    def running(self) -> int:
        return sum(job.status == "running" for job in self.jobs.values())
