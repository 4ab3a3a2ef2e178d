"""Settings of the lyrics service (environment variables ``LYRICS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings

# pysentimiento's own models for the languages it supports (the `full` profile).
EMOTION_MODELS = {
    "en": "finiteautomata/bertweet-base-emotion-analysis",
    "es": "pysentimiento/robertuito-emotion-analysis",
    "it": "pysentimiento/bert-it-emotion",
    "pt": "pysentimiento/bert-pt-emotion",
}
SENTIMENT_MODELS = {
    "en": "finiteautomata/bertweet-base-sentiment-analysis",
    "es": "pysentimiento/robertuito-sentiment-analysis",
    "it": "pysentimiento/bert-it-sentiment",
    "pt": "pysentimiento/bertweet-pt-sentiment",
}
FALLBACK_LANGUAGE = "en"


class LyricsSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="LYRICS_", extra="ignore")

    emotion_models: dict[str, str] = Field(
        default_factory=lambda: dict(EMOTION_MODELS),
        description="language -> hub id or local folder (JSON in the environment)",
    )
    sentiment_models: dict[str, str] = Field(default_factory=lambda: dict(SENTIMENT_MODELS))
    max_text_chars: int = Field(20_000, ge=1, description="longest accepted text")
    max_keywords: int = Field(10, ge=1, le=50)
    max_batch_size: int = Field(64, ge=1, description="most texts in one model call")
    max_latency_ms: int = Field(
        30_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
