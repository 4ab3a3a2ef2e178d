"""Calling a catalogue endpoint over HTTP: one request shape for every service.

Endpoints with a file input take a multipart form (files as parts, other fields as form
fields, JSON-encoded when they are not strings); the others take a JSON body. Answers
are JSON. Errors keep the service's status and ``{"error", "detail"}`` body.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from marketplace.contracts.catalogue import Endpoint

# 429 too many requests at once, 502 an upstream site failed, 503 busy or restarting: the
# same request may succeed later. A 504 (the service's own deadline) would time out again.
RETRYABLE_STATUSES = frozenset({429, 502, 503})
CONNECTION_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class FileValue:
    """A file flowing through a pipeline: read once, uploaded as it is."""

    name: str
    content: bytes
    media: str | None = None

    @classmethod
    def read(cls, path: Path, media: str | None = None) -> FileValue:
        return cls(path.name, path.read_bytes(), media)

    @classmethod
    def from_base64(cls, name: str, data: str, media: str | None = None) -> FileValue:
        return cls(name, base64.b64decode(data), media)


class CallFailed(Exception):
    """A call that did not give an answer: ``status`` when the service answered."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None,
        retryable: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.retryable = status, code, retryable


class Caller(Protocol):
    async def call(self, service: str, endpoint: Endpoint, inputs: dict[str, Any]) -> dict: ...


class HttpCaller:
    """Calls the services at ``urls`` (service name -> base URL), one connection pool."""

    def __init__(
        self, urls: dict[str, str], *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        # No read timeout here: each step has its own.
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0),
                                       transport=transport)  # fmt: skip

    async def call(self, service: str, endpoint: Endpoint, inputs: dict[str, Any]) -> dict:
        base = self.urls[service]
        files = {k: v for k, v in inputs.items() if isinstance(v, FileValue)}
        try:
            if files:
                data = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in inputs.items() if k not in files
                }  # fmt: skip
                parts = {k: (f.name, f.content, f.media or "application/octet-stream")
                         for k, f in files.items()}  # fmt: skip
                response = await self._http.post(f"{base}{endpoint.route}", files=parts, data=data)
            else:
                response = await self._http.post(f"{base}{endpoint.route}", json=inputs)
        except httpx.TransportError as exc:
            raise CallFailed(
                f"{service} at {base} did not answer ({type(exc).__name__}: {exc})",
                retryable=isinstance(exc, CONNECTION_ERRORS),
            ) from exc
        if response.status_code != 200:
            raise answered(service, response.status_code, response.text)
        return response.json()

    async def aclose(self) -> None:
        await self._http.aclose()


def answered(service: str, status: int, body: str) -> CallFailed:
    """A service's error answer (``{"error", "detail"}`` or any text) as a failure."""
    code = None
    try:
        parsed = json.loads(body)
        code, detail = parsed.get("error"), parsed.get("detail")
        reason = f"{code}: {detail}" if code else body[:300]
    except (ValueError, AttributeError):
        reason = body[:300]
    return CallFailed(f"{service} service answered {status}: {reason}", status=status,
                      code=code, retryable=status in RETRYABLE_STATUSES)  # fmt: skip
