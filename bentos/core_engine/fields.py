"""Catalogue endpoints as core-engine services: their slugs, fields and tags.

One rule for every endpoint, read from its ports in the catalogue:

- **inputs**: each *required* port is a field, in the catalogue's order (the engine
  matches a task's files to fields by position): a file takes its media types, a string
  ``text/plain``, any other JSON value ``application/json``. Optional ports keep the
  service's defaults: the engine has no optional fields.
- **outputs**: ``result`` first, the whole answer as ``application/json`` (a file that
  has its own field replaced by its S3 key); then each required output that is a file
  (its media types) or a string (``text/plain``), so that engine pipelines can pass it on.
- a media type the engine does not know (video, wav) cannot be a field: an endpoint that
  needs one is not offered, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bentos.core_engine.contract import EngineTag, EngineType, FieldDescription
from bentos.core_engine.contract import ServiceDescription as Description
from marketplace.contracts.catalogue import Catalogue, CatalogueEntry, Endpoint, Port

RESULT = "result"  # the output field holding the whole answer
ENGINE_TYPES = {t.value for t in EngineType}
WILDCARDS = {
    "audio/*": [EngineType.AUDIO_MPEG, EngineType.AUDIO_OGG],
    "image/*": [EngineType.IMAGE_JPEG, EngineType.IMAGE_PNG],
}
Kind = Literal["file", "text", "json"]

# How each service is labelled in the engine's vocabulary (its tag list), and whether it
# runs a model: the engine shows both in its catalogue.
_TAG = {
    "AP": "Audio Processing", "SR": "Speech Recognition", "NLP": "Natural Language Processing",
    "SA": "Sentiment Analysis", "IG": "Image Generation", "S": "Segmentation",
    "IR": "Image Recognition", "NN": "Neural Networks", "VP": "Video Processing",
    "R": "Recommendation",
}  # fmt: skip
ENGINE_LABELS: dict[str, tuple[tuple[str, ...], bool]] = {
    "youtube": (("AP",), False),
    "transcribe": (("SR", "NN"), True),
    "genre": (("AP", "NN"), True),
    "lyrics": (("NLP", "SA"), True),
    "summarize": (("NLP", "NN"), True),
    "art": (("IG", "NN"), True),
    "segment": (("S", "IR"), True),
    "tags": (("R", "NN"), True),
    "actions": (("VP", "NN"), True),
}


class Unsupported(ValueError):
    """An endpoint, or a pipeline, the core engine cannot express; says why."""


@dataclass(frozen=True)
class Field:
    """One engine field and the port it stands for (``result``: the whole answer)."""

    name: str
    kind: Kind
    types: tuple[EngineType, ...]

    def describe(self) -> FieldDescription:
        return FieldDescription(name=self.name, type=list(self.types))


@dataclass(frozen=True)
class Binding:
    """A catalogue endpoint offered to the engine as one service."""

    slug: str
    service: str
    endpoint: Endpoint
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]
    defaults: tuple[str, ...]  # optional inputs left to the service's defaults

    @property
    def call(self) -> str:
        return f"{self.service}/{self.endpoint.name}"

    def output(self, name: str) -> Field | None:
        return next((f for f in self.outputs if f.name == name), None)


def slug(service: str, endpoint: str, prefix: str = "") -> str:
    """``genre-detect``; a service's endpoint of its own name is the service's name."""
    name = service if endpoint == service else f"{service}-{endpoint}"
    return prefix + name.replace("_", "-")


def engine_types(media: str | None) -> tuple[EngineType, ...] | None:
    """The engine's types for a file of media type ``media``, or None if it has none."""
    if media in WILDCARDS:
        return tuple(WILDCARDS[media])
    if media in ENGINE_TYPES:
        return (EngineType(media),)
    return None


def _field(port: Port, where: str) -> Field:
    if port.type == "file":
        types = engine_types(port.media)
        if types is None:
            raise Unsupported(
                f"{where} '{port.name}' is {port.media}, a type the core engine does not "
                f"have (it knows {', '.join(sorted(ENGINE_TYPES))})"
            )
        return Field(port.name, "file", types)
    if port.type == "string":
        return Field(port.name, "text", (EngineType.TEXT_PLAIN,))
    return Field(port.name, "json", (EngineType.APPLICATION_JSON,))


def bind(service: str, endpoint: Endpoint, prefix: str = "") -> Binding:
    """The engine's view of ``service/endpoint``; raises Unsupported with the reason."""
    inputs = tuple(_field(p, "input") for p in endpoint.inputs if p.required)
    if not inputs:
        raise Unsupported("it has no required input: the engine needs at least one file")
    outputs = [Field(RESULT, "json", (EngineType.APPLICATION_JSON,))]
    for port in endpoint.outputs:
        if port.required and not port.nullable and port.type in ("file", "string"):
            if port.name == RESULT:
                raise Unsupported(f"its output '{RESULT}' would hide the whole answer")
            outputs.append(_field(port, "output"))
    defaults = tuple(p.name for p in endpoint.inputs if not p.required)
    return Binding(slug(service, endpoint.name, prefix), service, endpoint, inputs,
                   tuple(outputs), defaults)  # fmt: skip


def bindings(
    catalogue: Catalogue, calls: list[str] | None, exclude: list[str], prefix: str = ""
) -> tuple[dict[str, Binding], dict[str, str]]:
    """The endpoints offered (slug -> binding) and those left out (call -> why).

    ``calls``: services (``genre``) or endpoints (``genre/detect``) to offer; None: all.
    """
    offered: dict[str, Binding] = {}
    left_out: dict[str, str] = {}
    for entry in catalogue.services:
        for endpoint in entry.endpoints:
            call = f"{entry.name}/{endpoint.name}"
            if calls is not None and entry.name not in calls and call not in calls:
                continue
            if call in exclude or entry.name in exclude:
                left_out[call] = "excluded by CORE_ENGINE_EXCLUDE"
                continue
            try:
                binding = bind(entry.name, endpoint, prefix)
            except Unsupported as exc:
                left_out[call] = str(exc)
                continue
            offered[binding.slug] = binding
    return offered, left_out


def describe(binding: Binding, entry: CatalogueEntry, public_url: str) -> Description:
    """What the bridge registers for ``binding`` (``POST /services``)."""
    acronyms, has_ai = ENGINE_LABELS.get(binding.service, (("NN",), True))
    name = binding.service if binding.endpoint.name == binding.service else binding.call
    fields = ", ".join(f"{f.name} ({'/'.join(f.types)})" for f in binding.inputs)
    outputs = ", ".join(f.name for f in binding.outputs)
    text = (
        f"AI Marketplace {binding.call} ({entry.summary}, API version {entry.version}). "
        f"Inputs, in order: {fields}. Outputs: {outputs} ({RESULT}: the whole answer, JSON)."
    )
    if binding.defaults:
        text += f" Left at the service's defaults: {', '.join(binding.defaults)}."
    base = f"{public_url.rstrip('/')}/{binding.slug}"
    return Description(
        name=name.replace("_", " ").replace("/", " ").title(),
        slug=binding.slug,
        url=base,
        summary=binding.endpoint.summary,
        description=text,
        data_in_fields=[f.describe() for f in binding.inputs],
        data_out_fields=[f.describe() for f in binding.outputs],
        tags=[EngineTag(name=_TAG[a], acronym=a) for a in acronyms],
        docs_url=f"{base}/docs",
        has_ai=has_ai,
    )
