"""Settings of the actions service (environment variables ``ACTIONS_*``; the video limits
are ``VIDEO_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings


class ActionsSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONS_", extra="ignore")

    model_tag: str = Field("actions:latest", description="BentoML model store tag to serve")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$",
                        description="auto: the GPU when there is one")  # fmt: skip
    torch_threads: int = Field(0, ge=0, description="torch CPU threads; 0 = all cores")
    max_batch_size: int = Field(64, ge=1, description="most windows in one forward pass")
    max_latency_ms: int = Field(
        60_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
    chunk_windows: int = Field(64, ge=1, description="windows a request sends the model at once")
    max_running: int = Field(2, ge=1, description="submitted videos recognised at once")
    max_tasks: int = Field(32, ge=1, description="submitted videos kept unfinished at most")
    task_ttl_s: float = Field(3600.0, gt=0, description="how long a finished task is kept")
