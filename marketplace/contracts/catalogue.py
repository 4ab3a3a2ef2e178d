"""The catalogue: every service endpoint once, with typed input and output ports.

It is generated from the services' own code (``python -m bentos.catalogue``: their
pydantic input and output models, their bentofile metadata) into ``catalogue.json``
beside this module, which the engine, the command line and the studio read without
importing a service. A test holds the file equal to what the code generates.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
PortType = Literal["string", "integer", "number", "boolean", "array", "object", "file", "any"]


JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object"}


def port_type(schema: dict[str, Any]) -> tuple[PortType, str | None, bool]:
    """(type, media type, nullable) of a flat JSON Schema: an upload, or a string with a
    ``contentMediaType`` (a base64 file), is a ``file``; ``anyOf [X, null]`` is X,
    nullable."""
    core, nullable = schema, False
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        nullable = True
        rest = [o for o in options if o.get("type") != "null"]
        core = rest[0] if len(rest) == 1 else {"anyOf": rest}
    media = core.get("contentMediaType") or schema.get("contentMediaType")  # beside anyOf
    if core.get("type") == "file" or core.get("format") == "binary" or media:
        return "file", media or "application/octet-stream", nullable
    kind = core.get("type")
    return (kind if kind in JSON_TYPES else "any"), None, nullable  # type: ignore[return-value]


def media_fits(given: str | None, wanted: str | None) -> bool:
    """A file of media type ``given`` may go where ``wanted`` is accepted ('audio/*'
    takes 'audio/mpeg'; 'application/octet-stream' is any file)."""
    if not wanted or wanted in ("*/*", "application/octet-stream"):
        return True
    if not given or given in ("*/*", "application/octet-stream"):
        return False
    g_type, _, g_sub = given.partition("/")
    w_type, _, w_sub = wanted.partition("/")
    return g_type == w_type and w_sub in ("*", g_sub)


class Port(BaseModel):
    """One input or output of an endpoint: a field of its request or of its answer."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    type: PortType = Field(description="JSON Schema type; 'file' for uploads and base64 files")
    media: str | None = Field(None, description="files: their media type ('audio/*', 'image/png')")
    required: bool = False
    nullable: bool = False
    description: str | None = None
    json_schema: dict[str, Any] = Field(
        default_factory=dict, alias="schema", description="the port's whole JSON Schema"
    )


class Endpoint(BaseModel):
    name: str = Field(description="the endpoint's name: its route without the slash")
    route: str
    summary: str
    inputs: list[Port]
    outputs: list[Port]
    input_schema: dict[str, Any] = Field(description="JSON Schema of the request")
    output_schema: dict[str, Any] = Field(description="JSON Schema of the answer")

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)


class CatalogueEntry(BaseModel):
    name: str
    version: str = Field(description="the API's version (bentofile label 'version')")
    summary: str
    tags: list[str] = Field(description="what it works on: audio, text, image, video")
    gpu: bool = Field(description="production runs it on a GPU")
    openapi: str = Field("/docs.json", description="path of its OpenAPI document")
    endpoints: list[Endpoint]


class Catalogue(BaseModel):
    services: list[CatalogueEntry]

    def service(self, name: str) -> CatalogueEntry | None:
        return next((s for s in self.services if s.name == name), None)

    def endpoint(self, call: str) -> Endpoint | None:
        """``service/endpoint`` from the catalogue, or None."""
        service_name, _, endpoint_name = call.partition("/")
        service = self.service(service_name)
        if service is None:
            return None
        return next((e for e in service.endpoints if e.name == endpoint_name), None)

    def calls(self) -> list[str]:
        return [f"{s.name}/{e.name}" for s in self.services for e in s.endpoints]


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    return Catalogue.model_validate_json(path.read_text())
