"""Settings of the tags service (environment variables ``TAGS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class TagsSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="TAGS_", extra="ignore")

    model_tag: str = Field("tags:latest", description="BentoML model store tag to serve")
    max_tracks: int = Field(1000, ge=1, description="most tracks in one request")
    max_upload_mb: float = Field(20.0, gt=0, description="largest CSV upload, in MiB")
    max_batch_size: int = Field(2048, ge=1, description="most tracks in one model call")
    max_latency_ms: int = Field(
        10_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
