"""Settings of the summarize service (environment variables ``SUMMARIZE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class SummarizeSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="SUMMARIZE_", extra="ignore")

    model: str = Field(
        "philschmid/bart-large-cnn-samsum", description="hub id or local folder (seq2seq)"
    )
    max_text_chars: int = Field(50_000, ge=1)
    num_beams: int = Field(4, ge=1, le=8)
    max_batch_size: int = Field(16, ge=1, description="most texts in one model call")
    max_latency_ms: int = Field(
        60_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
