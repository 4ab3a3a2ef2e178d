"""Settings of the core-engine bridge (environment variables ``CORE_ENGINE_*``).

Where each marketplace service is comes from ``MARKETPLACE_<SERVICE>_URL``
(:mod:`marketplace.contracts.urls`), as for the command line.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The actions service's own task routes: the core engine runs tasks itself.
TASK_ROUTES = ["actions/submit", "actions/status", "actions/result", "actions/cancel"]


class CoreEngineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CORE_ENGINE_", extra="ignore")

    url: str | None = Field(
        None,
        description="the core engine's base URL (http://engine:8080); unset: the bridge "
        "serves tasks but registers nothing",
    )
    public_url: str = Field(
        "http://localhost:3000",
        description="this bridge's base URL as the engine reaches it: each service is "
        "registered at <public_url>/<slug>",
    )
    services: Annotated[list[str] | None, NoDecode] = Field(
        None,
        description="comma-separated services (genre) or endpoints (genre/detect) to "
        "register; unset: every endpoint the engine can express",
    )
    exclude: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(TASK_ROUTES),
        description="comma-separated services or endpoints never registered",
    )
    slug_prefix: str = Field(
        "", pattern=r"^[a-z0-9-]*$", description="prepended to every slug (e.g. 'market-')"
    )
    max_tasks: int = Field(50, ge=1, description="tasks queued or running; beyond: 503")
    max_running: int = Field(4, ge=1, description="tasks calling their service at once")
    keep_finished: int = Field(1000, ge=0, description="finished tasks whose status is kept")
    max_input_mb: float = Field(200.0, gt=0, description="largest S3 object a task reads")
    heartbeat_s: float = Field(20.0, gt=0, description="how often each service pings the engine")
    announce_retry_s: float = Field(
        3.0, gt=0, description="first wait before registering again after a failure (doubles, "
        "up to a minute)",
    )  # fmt: skip
    engine_timeout_s: float = Field(10.0, gt=0, description="a request to the engine or to S3")
    callback_attempts: int = Field(4, ge=1, description="tries to report a task to the engine")

    @field_validator("services", "exclude", mode="before")
    @classmethod
    def _comma_separated(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            return items if items or info.field_name == "exclude" else None
        return value

    @property
    def max_input_bytes(self) -> int:
        return int(self.max_input_mb * 2**20)
