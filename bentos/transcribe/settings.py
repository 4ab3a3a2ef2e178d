"""Settings of the transcribe service (environment variables ``TRANSCRIBE_*``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class TranscribeSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSCRIBE_", extra="ignore")

    model: str = Field(
        "base",
        validation_alias=AliasChoices("WHISPER_MODEL", "TRANSCRIBE_MODEL"),
        description="WHISPER_MODEL: a Whisper name (tiny ... large-v3, turbo) or a checkpoint",
    )
    download_root: str | None = Field(None, description="where named models are cached")
    beam_size: int | None = Field(None, ge=1, le=10, description="None: greedy decoding")
    max_batch_size: int = Field(16, ge=1, description="most 30 s windows in one decode")
    max_latency_ms: int = Field(
        120_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
