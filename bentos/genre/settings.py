"""Settings of the genre service (environment variables ``GENRE_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class GenreSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="GENRE_", extra="ignore")

    model_tag: str = Field("genre:latest", description="BentoML model store tag to serve")
    torch_threads: int = Field(0, ge=0, description="torch CPU threads; 0 = all cores")
    max_batch_size: int = Field(128, ge=1, description="most windows in one forward pass")
    max_latency_ms: int = Field(
        10_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
    monitoring: bool = Field(True, description="log each request's audio summary and answer")
    monitor_dir: Path = Field(
        Path("monitoring"), description="where bentoml.monitor writes genre_requests/data/*.log"
    )
