"""Settings of the youtube service (environment variables ``YOUTUBE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class YoutubeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YOUTUBE_", extra="ignore")

    max_seconds: float = Field(900.0, gt=0, description="longest video accepted, in seconds")
    max_download_mb: float = Field(100.0, gt=0, description="largest audio stream downloaded")
    timeout_s: float = Field(30.0, gt=0, description="network timeout of one connection")
    test_origin: str | None = Field(
        None,
        description="tests only: an http origin (e.g. http://127.0.0.1:8000) whose files are "
        "admitted and fetched with yt-dlp's generic extractor. An environment setting of the "
        "server: no request can set it.",
    )
