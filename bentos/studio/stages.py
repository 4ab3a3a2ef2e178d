"""The cover pipeline's stages through the studio's BentoML dependencies.

Each dependency is a model service: started inside the studio's Bento (``bentoml serve``
at the repository root), or reached by URL in a cluster (``MARKETPLACE_<SERVICE>_URL``).
Answers become the same typed results, and failures the same errors, as with the HTTP
clients, so :class:`~pipeline_client.pipeline.CoverPipeline` treats both alike.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bentos.common.schemas import (
    CoverRequest,
    CoverResult,
    ErrorBody,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    SummaryResult,
    TranscriptResult,
)
from pipeline_client.clients import AudioFile
from pipeline_client.errors import ServiceError, ServiceUnreachable

M = TypeVar("M", bound=BaseModel)


class ProxyStages:
    """:class:`~pipeline_client.stages.Stages` over ``bentoml.depends`` proxies."""

    def __init__(self, services: Any) -> None:
        self.services = services  # the Studio instance: .youtube, .transcribe, ... proxies

    async def fetch(self, url: str) -> FetchedAudio:
        return await _call("youtube", FetchedAudio, self.services.youtube.to_async.fetch, url=url)

    async def transcribe(self, audio: AudioFile, language: str | None) -> TranscriptResult:
        with _on_disk(audio) as path:
            return await _call(
                "transcribe",
                TranscriptResult,
                self.services.transcribe.to_async.transcribe,
                audio=path,
                language=language,
            )

    async def detect_genre(self, audio: AudioFile) -> GenreResult:
        with _on_disk(audio) as path:
            detect = self.services.genre.to_async.detect
            return await _call("genre", GenreResult, detect, audio=path)

    async def analyze(self, text: str, language: str | None) -> LyricsResult:
        analyze = self.services.lyrics.to_async.analyze
        return await _call("lyrics", LyricsResult, analyze, text=text, language=language)

    async def summarize(self, text: str, max_words: int) -> SummaryResult:
        summarize = self.services.summarize.to_async.summarize
        return await _call("summarize", SummaryResult, summarize, text=text, max_words=max_words)

    async def generate(self, request: CoverRequest) -> CoverResult:
        generate = self.services.art.to_async.generate
        return await _call("art", CoverResult, generate, **request.model_dump())


async def _call(service: str, answer: type[M], method: Callable[..., Awaitable[Any]], **kw) -> M:
    import aiohttp
    import httpx
    from bentoml.exceptions import BentoMLException

    try:
        result = await method(**kw)
    except BentoMLException as exc:  # the service answered with an error status
        status = int(exc.error_code)
        raise ServiceError(service, status, _error_body(exc.message), exc.message) from exc
    except (httpx.TransportError, aiohttp.ClientConnectionError, ConnectionError) as exc:
        raise ServiceUnreachable(service, "(dependency)", exc, retryable=True) from exc
    if isinstance(result, BaseModel):
        result = result.model_dump()
    return answer.model_validate(result)


def _error_body(text: str) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate_json(text)
    except ValidationError:
        return None


@contextlib.contextmanager
def _on_disk(audio: AudioFile) -> Iterator[Path]:
    """The audio as a file (BentoML sends file parameters by path)."""
    if audio.path is not None:
        yield audio.path
        return
    suffix = Path(audio.name).suffix[:10]
    with tempfile.TemporaryDirectory(prefix="studio-audio-") as tmp:
        path = Path(tmp) / f"audio{suffix}"
        path.write_bytes(audio.content)
        yield path
