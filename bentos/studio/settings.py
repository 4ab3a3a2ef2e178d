"""Settings of the studio (environment variables ``STUDIO_*``)."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StudioSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    data_dir: Path = Field(
        Path.home() / ".cache" / "ai-marketplace" / "studio",
        description="where runs' inputs and results (and, by default, the database) are kept",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the runs' database: postgresql://user:pass@host/db "
        "(several studio processes share it), or sqlite:///path (one process); default: a "
        "SQLite file in data_dir",
    )
    max_running: int = Field(2, ge=1, description="runs executing at once, all processes")
    max_queued: int = Field(200, ge=1, description="runs waiting; beyond: 429 with Retry-After")
    run_ttl_hours: float = Field(72.0, gt=0, description="finished runs are deleted after this")
    max_upload_mb: float = Field(50.0, gt=0, description="largest file input of a run")
    segment_samples: Path | None = Field(
        None,
        description="the segmentation viewer's sample scenes: a folder of photos, each with "
        "an optional <name>_mask.png of category ids; default: synthetic scenes shipped",
    )
    executor_id: str = Field(
        default_factory=socket.gethostname,
        description="this process's name in the queue: stable across its restarts (it "
        "resumes its own runs), unique among the processes sharing the database",
    )
    heartbeat_s: float = Field(5.0, gt=0, description="how often a process says it is alive")
    takeover_after_s: float = Field(
        30.0, gt=0, description="silence after which another process resumes a process's runs"
    )

    def database(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)  # a new data folder is made, not refused
        return f"sqlite:///{self.data_dir / 'studio.sqlite'}"

    def dbos_database(self) -> str:
        """DBOS's own tables: in the same PostgreSQL database (its schema ``dbos``), or a
        SQLite file next to the studio's."""
        url = self.database()
        if url.startswith("sqlite"):
            return url.removesuffix(".sqlite") + "-dbos.sqlite"
        return url
