"""Pipeline definitions: the YAML files users write, as pydantic models.

```yaml
pipeline: lyrics-report
version: 1
inputs:
  audio: {media: "audio/*"}
steps:
  transcribe:
    call: transcribe/transcribe          # service/endpoint, from the catalogue
    with: {audio: $inputs.audio}
outputs:
  transcript: $transcribe.text
```

A value in ``with`` or ``outputs`` is a reference when it is a string ``$inputs.<name>``
or ``$<step>.<field>[.<field>...]``, a fallback when it is a mapping
``{from: <reference>, default: <value or reference>}`` (the default is used when the
producer was skipped or failed, or the field is absent), and a literal otherwise (``$$``
starts a literal string with ``$``). ``pipelines/pipeline.schema.json`` is this model's
JSON Schema, for editors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marketplace.contracts.catalogue import PortType

NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"
STEP_ID = r"^[a-z][a-z0-9_]{0,39}$"
INPUTS = "inputs"  # the root of references to the pipeline's inputs; no step may be called so
REFERENCE = re.compile(r"^\$([a-z][a-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$")
FALLBACK_KEYS = {"from", "default"}


@dataclass(frozen=True)
class Reference:
    """``$root.path...``: root is ``inputs`` or a step id."""

    root: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return "$" + ".".join((self.root, *self.path))


def parse_reference(value: Any) -> Reference | None:
    """The reference ``value`` is, or None for a literal (``$$`` escapes a ``$``)."""
    if not isinstance(value, str) or not value.startswith("$") or value.startswith("$$"):
        return None
    match = REFERENCE.match(value)
    if match is None:
        raise ValueError(
            f"'{value}' is not a reference: write $inputs.<name> or $<step>.<field>"
            " (or $$ for a literal starting with $)"
        )
    return Reference(match[1], tuple(match[2].split(".")[1:]))


def is_fallback(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == FALLBACK_KEYS


def literal(value: Any) -> Any:
    """A literal as the service gets it: ``$$x`` is the string ``$x``."""
    if isinstance(value, str) and value.startswith("$$"):
        return value[1:]
    return value


class PipelineInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: PortType | None = Field(None, description="JSON type; 'file' for a file")
    media: str | None = Field(None, description="a file input's media type, e.g. 'audio/*'")
    required: bool = True
    default: Any = Field(None, description="the value when the input is not given")
    description: str | None = None

    @property
    def port_type(self) -> str:
        return "file" if self.media else (self.type or "any")


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call: str = Field(pattern=r"^[a-z0-9_-]+/[a-z0-9_-]+$", description="service/endpoint")
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="endpoint input -> value"
    )
    needs: list[str] = Field(default_factory=list, description="steps to finish first")
    when: str | None = Field(None, description="a CEL condition; false: the step is skipped")
    timeout: float | None = Field(None, gt=0, description="seconds; default: the service's")
    retries: int = Field(3, ge=0, le=10, description="retries of retryable failures")
    optional: bool = Field(False, description="its failure does not fail the run")


class PipelineDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pipeline: str = Field(pattern=NAME, description="the pipeline's name")
    version: int = Field(ge=1, description="part of its identity: runs record it")
    description: str = ""
    inputs: dict[str, PipelineInput] = Field(default_factory=dict)
    steps: dict[str, Step] = Field(min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict, description="name -> reference")

    @property
    def identity(self) -> str:
        return f"{self.pipeline}@{self.version}"


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of a pipeline file."""
    schema = PipelineDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "AI Marketplace pipeline"
    step = schema["$defs"]["Step"]["properties"]
    step["needs"]["items"]["pattern"] = STEP_ID
    schema["properties"]["steps"]["propertyNames"] = {"pattern": STEP_ID, "not": {"const": INPUTS}}
    return schema
