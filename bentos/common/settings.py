"""Settings every service shares, read from the environment."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from marketplace.contracts.services import SERVICE_TIMEOUTS as TIMEOUTS


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


class BatchingSettings(BaseSettings):
    """Adaptive batching of a service's batchable API; each service sets its defaults."""

    batching: bool = Field(True, description="share model calls across requests")
    max_batch_size: int = Field(32, ge=1, description="most items in one model call")
    max_latency_ms: int = Field(
        10_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )

    def batchable_api(self) -> dict[str, object]:
        """Keyword arguments of ``@bentoml.api`` for the service's batchable API."""
        return {
            "batchable": self.batching,
            "batch_dim": 0,
            "max_batch_size": self.max_batch_size,
            "max_latency_ms": self.max_latency_ms,
        }


# BentoML (>= 1.4.31) replaces a dependency's client session after 100 calls or 300 s by
# closing the old one, which fails every call still in flight on it with "Server
# disconnected". Under steady load that turns slow calls (a batch of covers, a song's
# decode) into 500s; keep one session for the life of the process instead.
KEEP_CONNECTION = {"max_requests": 2**31 - 1, "max_age": 365 * 86400.0}


# Request timeouts (seconds) of each service: marketplace.contracts.services holds them.
SERVICE_TIMEOUTS = TIMEOUTS


def model_service(name: str, timeout: int) -> dict[str, object]:
    """Keyword arguments of ``@bentoml.service`` for a model (inner) service: one worker
    holds the model; its callers keep their connection to it."""
    return {
        "name": name,
        "workers": 1,
        "traffic": {"timeout": timeout},
        "runner_connection": KEEP_CONNECTION,
    }


class ImageLimits(BaseSettings):
    """Limits on uploaded images, enforced from the file's header before decoding."""

    model_config = SettingsConfigDict(env_prefix="IMAGE_", extra="ignore")

    max_upload_mb: float = Field(20.0, gt=0, description="largest accepted upload, in MiB")
    max_pixels: int = Field(
        40_000_000, ge=1, description="most pixels (width x height) an image may have"
    )
    max_side: int = Field(10_000, ge=1, description="longest accepted side, in pixels")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class AudioLimits(BaseSettings):
    """Limits on uploaded audio, enforced before and while decoding."""

    model_config = SettingsConfigDict(env_prefix="AUDIO_", extra="ignore")

    max_upload_mb: float = Field(50.0, gt=0, description="largest accepted upload, in MiB")
    max_seconds: float = Field(900.0, gt=0, description="longest accepted audio, in seconds")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
