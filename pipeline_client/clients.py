"""Typed async clients of every service: one method per API, pydantic answers.

Each client takes the service's base URL: ``bentoml serve`` on this machine or a KServe
endpoint in a cluster. Errors raise :class:`~pipeline_client.errors.ServiceError` (an
answer with an error status) or :class:`~pipeline_client.errors.ServiceUnreachable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

import httpx
from pydantic import BaseModel

from marketplace.calls import CONNECTION_ERRORS
from marketplace.contracts.schemas import (
    CoverRequest,
    CoverResult,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    SummaryResult,
    TranscriptResult,
)
from pipeline_client.errors import ServiceError, ServiceUnreachable

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class AudioFile:
    """An audio file to upload: its name (the extension helps the services) and bytes,
    and where it lies on disk when it was read from a file."""

    name: str
    content: bytes
    path: Path | None = None

    @classmethod
    def read(cls, path: Path) -> AudioFile:
        return cls(path.name, path.read_bytes(), path)


class ServiceClient:
    service: ClassVar[str]

    def __init__(
        self, base_url: str, *, timeout: float = 900.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None

    async def _post(self, route: str, answer: type[M], **request: object) -> M:
        url = f"{self.base_url}{route}"
        try:
            response = await self._client.post(url, **request)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            retryable = isinstance(exc, CONNECTION_ERRORS)
            raise ServiceUnreachable(self.service, self.base_url, exc, retryable=retryable) from exc
        if response.status_code != 200:
            raise ServiceError.from_response(self.service, response)
        return answer.model_validate(response.json())

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _upload(audio: Path | bytes | AudioFile, filename: str | None = None) -> AudioFile:
    if isinstance(audio, AudioFile):
        return audio
    if isinstance(audio, Path):
        return AudioFile(filename or audio.name, audio.read_bytes())
    return AudioFile(filename or "audio", audio)


class GenreClient(ServiceClient):
    """``await GenreClient(url).detect(path_or_bytes)`` returns a :class:`GenreResult`."""

    service = "genre"

    async def detect(
        self, audio: Path | bytes | AudioFile, filename: str | None = None
    ) -> GenreResult:
        upload = _upload(audio, filename)
        return await self._post(
            "/detect", GenreResult, files={"audio": (upload.name, upload.content)}
        )


class TranscribeClient(ServiceClient):
    service = "transcribe"

    async def transcribe(
        self, audio: Path | bytes | AudioFile, language: str | None = None
    ) -> TranscriptResult:
        upload = _upload(audio)
        data = {"language": language} if language else None
        return await self._post(
            "/transcribe",
            TranscriptResult,
            files={"audio": (upload.name, upload.content)},
            data=data,
        )


class LyricsClient(ServiceClient):
    service = "lyrics"

    async def analyze(self, text: str, language: str | None = None) -> LyricsResult:
        body: dict[str, object] = {"text": text}
        if language:
            body["language"] = language
        return await self._post("/analyze", LyricsResult, json=body)


class SummarizeClient(ServiceClient):
    service = "summarize"

    async def summarize(self, text: str, max_words: int = 60) -> SummaryResult:
        return await self._post(
            "/summarize", SummaryResult, json={"text": text, "max_words": max_words}
        )


class ArtClient(ServiceClient):
    service = "art"

    async def generate(self, request: CoverRequest) -> CoverResult:
        body = request.model_dump(mode="json", exclude_none=True)
        return await self._post("/generate", CoverResult, json=body)


class YoutubeClient(ServiceClient):
    service = "youtube"

    async def fetch(self, url: str) -> FetchedAudio:
        return await self._post("/fetch", FetchedAudio, json={"url": url})
