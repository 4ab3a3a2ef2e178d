"""Settings of the studio (environment variables ``STUDIO_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StudioSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    data_dir: Path = Field(
        Path.home() / ".cache" / "ai-marketplace" / "studio",
        description="where jobs, their inputs and their covers are kept",
    )
    max_jobs: int = Field(2, ge=1, description="jobs running at once; the next gets 429")
    job_ttl_hours: float = Field(24.0, gt=0, description="jobs are deleted this long after")
    max_upload_mb: float = Field(50.0, gt=0, description="largest audio upload")
