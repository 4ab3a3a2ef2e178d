"""Settings every service shares, read from the environment."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Profile(StrEnum):
    """Which models the services load.

    ``full``: the real models (downloaded or trained). ``smoke``: tiny models with the
    real architectures, built offline on first use; their output is meaningless.
    """

    FULL = "full"
    SMOKE = "smoke"


class MarketplaceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETPLACE_", extra="ignore")

    profile: Profile = Profile.FULL


class AudioLimits(BaseSettings):
    """Limits on uploaded audio, enforced before and while decoding."""

    model_config = SettingsConfigDict(env_prefix="AUDIO_", extra="ignore")

    max_upload_mb: float = Field(50.0, gt=0, description="largest accepted upload, in MiB")
    max_seconds: float = Field(900.0, gt=0, description="longest accepted audio, in seconds")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
