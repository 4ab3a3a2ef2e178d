"""The Swiss AI Center core engine's side of the contract, as pydantic models.

Read from the engine's code (swiss-ai-center/core-engine, ``backend/src``) and its
services' shared code (swiss-ai-center/common-code): what a service sends to register
(``POST /services``), what the engine sends to ``POST {service}/compute``, what the
service sends back to the task's ``callback_url`` (``PATCH``), and a pipeline's steps
(``POST /pipelines``). Only the fields this bridge reads or writes are modelled; the
engine's extra fields are ignored.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class EngineType(StrEnum):
    """The media types a core-engine field may take (common-code's FieldDescriptionType):
    the engine refuses any other."""

    IMAGE_JPEG = "image/jpeg"
    IMAGE_PNG = "image/png"
    TEXT_PLAIN = "text/plain"
    TEXT_CSV = "text/csv"
    APPLICATION_JSON = "application/json"
    APPLICATION_PDF = "application/pdf"
    APPLICATION_ZIP = "application/zip"
    AUDIO_MPEG = "audio/mpeg"
    AUDIO_OGG = "audio/ogg"


class EngineTag(BaseModel):
    """One of the engine's execution-unit tags: a name and its acronym, from its list."""

    name: str
    acronym: str


class FieldDescription(BaseModel):
    name: str
    type: list[EngineType] = Field(min_length=1)
    format_hint: dict[str, str] | None = Field(
        None, description="a pipeline's output: {'pipeline_source': '<step>.<field>'}"
    )


ServiceStatus = Literal["available", "unavailable", "disabled", "sleeping"]
TaskStatus = Literal[
    "pending", "fetching", "processing", "saving", "finished", "error", "scheduled",
    "skipped", "unavailable",
]  # fmt: skip


class ExecutionUnit(BaseModel):
    """What the engine's services and pipelines have in common (its ExecutionUnitBase)."""

    name: str
    slug: str
    summary: str
    description: str
    status: ServiceStatus = "available"
    data_in_fields: list[FieldDescription]
    data_out_fields: list[FieldDescription]
    tags: list[EngineTag]


class ServiceDescription(ExecutionUnit):
    """What a service registers with (``POST /services``) and updates with (``PATCH
    /services/{id}``)."""

    url: str = Field(description="where the engine reaches the service's routes")
    docs_url: str | None = None
    has_ai: bool = True


class EngineTask(BaseModel):
    """The task inside a compute request: its inputs are S3 keys, one per input field,
    in the fields' order."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    data_in: list[str] = Field(max_length=64)


class ComputeRequest(BaseModel):
    """``POST {service}/compute``: the storage to read and write, the task, and where to
    report. The credentials are secrets: never logged, never kept past the task."""

    model_config = ConfigDict(extra="ignore")

    s3_access_key_id: SecretStr
    s3_secret_access_key: SecretStr
    s3_region: str
    s3_host: str = Field(description="the S3 endpoint URL")
    s3_bucket: str = Field(min_length=1)
    task: EngineTask
    callback_url: str = Field(pattern=r"^https?://", max_length=2048)


class TaskUpdate(BaseModel):
    """``PATCH {callback_url}``: the engine requires ``data_out`` and ``status``."""

    data_out: list[str]
    status: Literal["finished", "error"]
    error_message: str | None = None


class PipelineStep(BaseModel):
    identifier: str
    needs: list[str] = Field(description="always a list: the engine sorts the steps with it")
    condition: str | None = None
    inputs: list[str] = Field(description="'pipeline.<field>' or '<step>.<field>', in order")
    service_slug: str


class PipelineDescription(ExecutionUnit):
    """``POST /pipelines``."""

    steps: list[PipelineStep]
