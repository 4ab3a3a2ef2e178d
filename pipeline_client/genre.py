"""Typed async client of the genre service."""

from __future__ import annotations

from pathlib import Path

import httpx

from bentos.common.schemas import GenreResult
from pipeline_client.errors import ServiceError


class GenreClient:
    """``await GenreClient(url).detect(path_or_bytes)`` returns a :class:`GenreResult`."""

    service = "genre"

    def __init__(
        self, base_url: str, *, timeout: float = 120.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None

    async def detect(self, audio: Path | bytes, filename: str | None = None) -> GenreResult:
        if isinstance(audio, Path):
            filename, content = filename or audio.name, audio.read_bytes()
        else:
            filename, content = filename or "audio", audio
        response = await self._client.post(
            f"{self.base_url}/detect", files={"audio": (filename, content)}
        )
        if response.status_code != 200:
            raise ServiceError.from_response(self.service, response)
        return GenreResult.model_validate(response.json())

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> GenreClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
