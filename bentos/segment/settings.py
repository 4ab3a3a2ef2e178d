"""Settings of the segment service (environment variables ``SEGMENT_*``; the image limits
are ``IMAGE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class SegmentSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="SEGMENT_", extra="ignore")

    model_tag: str = Field("segment:latest", description="BentoML model store tag to serve")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$",
                        description="auto: the GPU when there is one")  # fmt: skip
    torch_threads: int = Field(0, ge=0, description="torch CPU threads; 0 = all cores")
    max_batch_size: int = Field(16, ge=1, description="most images in one forward pass")
    max_latency_ms: int = Field(
        20_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
    overlay_opacity: float = Field(0.5, gt=0, le=1, description="the mask's weight in overlays")
