"""A task's S3 objects as a service's inputs, and a service's answer as S3 objects."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import posixpath
from dataclasses import dataclass
from typing import Any

from bentos.core_engine.fields import RESULT, Binding, Field
from marketplace.calls import FileValue

# Leading bytes of the file types a service answers, to name an output's type (the engine
# reads it from the key's extension).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


class BadValue(Exception):
    """A value that does not fit its field; the message names the field."""


@dataclass(frozen=True)
class Output:
    field: Field
    content: bytes
    media: str


def media_of_key(key: str) -> str | None:
    """The media type the engine gives an object: from its key's extension."""
    return mimetypes.guess_type(key)[0]


def check_keys(binding: Binding, keys: list[str]) -> None:
    """One key per input field, each of a type its field takes (by extension)."""
    if len(keys) != len(binding.inputs):
        names = ", ".join(f.name for f in binding.inputs)
        raise BadValue(
            f"{len(keys)} input file(s) for {len(binding.inputs)} field(s) ({names}): the "
            "engine passes one per field, in order"
        )
    for field, key in zip(binding.inputs, keys, strict=True):
        media = media_of_key(key)
        if media not in field.types:
            raise BadValue(
                f"input '{field.name}' is '{key}' ({media or 'unknown type'}); the field "
                f"takes {', '.join(field.types)}"
            )


def to_inputs(binding: Binding, keys: list[str], contents: list[bytes]) -> dict[str, Any]:
    """The service's inputs: files as they are, text decoded, JSON parsed."""
    values: dict[str, Any] = {}
    for field, key, content in zip(binding.inputs, keys, contents, strict=True):
        if field.kind == "file":
            name = posixpath.basename(key) or field.name
            values[field.name] = FileValue(name, content, media_of_key(key))
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise BadValue(f"input '{field.name}' ('{key}') is not UTF-8 text") from None
        if field.kind == "text":
            values[field.name] = text
            continue
        try:
            values[field.name] = json.loads(text)
        except ValueError as exc:
            raise BadValue(f"input '{field.name}' ('{key}') is not JSON: {exc}") from None
    return values


def sniff(content: bytes, allowed: tuple[str, ...]) -> str:
    """The media type of an answered file, among those its field allows."""
    for signature, media in SIGNATURES:
        if content.startswith(signature) and media in allowed:
            return media
    return allowed[0]


def to_outputs(binding: Binding, answer: dict[str, Any]) -> list[Output]:
    """The answer's objects, in the output fields' order (``result`` last to fill in)."""
    outputs: list[Output] = []
    for field in binding.outputs:
        if field.name == RESULT:
            continue
        value = answer.get(field.name)
        if field.kind == "text":
            outputs.append(Output(field, str(value).encode(), "text/plain"))
            continue
        try:
            content = base64.b64decode(value or "", validate=True)
        except (binascii.Error, TypeError):
            raise BadValue(f"the service's '{field.name}' is not a base64 file") from None
        outputs.append(Output(field, content, sniff(content, field.types)))
    return outputs


def result_document(binding: Binding, answer: dict[str, Any], keys: dict[str, str]) -> bytes:
    """The whole answer as JSON, each file that has its own field replaced by its key."""
    files = {f.name for f in binding.outputs if f.kind == "file"}
    document = {name: keys[name] if name in files else value for name, value in answer.items()}
    return json.dumps(document, ensure_ascii=False).encode()
