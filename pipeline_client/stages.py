"""The six calls the cover pipeline makes, behind one interface.

:class:`Stages` is what :class:`~pipeline_client.pipeline.CoverPipeline` needs; the
``covers`` command gives it :class:`HttpStages` (the typed HTTP clients), the studio its
BentoML dependencies. The composition itself exists once, in the pipeline.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from bentos.common.schemas import (
    CoverRequest,
    CoverResult,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    SummaryResult,
    TranscriptResult,
)
from pipeline_client.clients import (
    ArtClient,
    AudioFile,
    GenreClient,
    LyricsClient,
    SummarizeClient,
    TranscribeClient,
    YoutubeClient,
)
from pipeline_client.settings import Service


class Stages(Protocol):
    async def fetch(self, url: str) -> FetchedAudio: ...

    async def transcribe(self, audio: AudioFile, language: str | None) -> TranscriptResult: ...

    async def detect_genre(self, audio: AudioFile) -> GenreResult: ...

    async def analyze(self, text: str, language: str | None) -> LyricsResult: ...

    async def summarize(self, text: str, max_words: int) -> SummaryResult: ...

    async def generate(self, request: CoverRequest) -> CoverResult: ...


class HttpStages:
    """The stages over HTTP, one typed client per service, sharing one connection pool."""

    def __init__(
        self,
        urls: dict[Service, str],
        *,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # No read timeout of its own: each stage of the pipeline has its timeout.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0), transport=transport
        )
        self.youtube = YoutubeClient(urls["youtube"], client=self._http)
        self.transcriber = TranscribeClient(urls["transcribe"], client=self._http)
        self.genre = GenreClient(urls["genre"], client=self._http)
        self.lyrics = LyricsClient(urls["lyrics"], client=self._http)
        self.summarizer = SummarizeClient(urls["summarize"], client=self._http)
        self.art = ArtClient(urls["art"], client=self._http)

    async def fetch(self, url: str) -> FetchedAudio:
        return await self.youtube.fetch(url)

    async def transcribe(self, audio: AudioFile, language: str | None) -> TranscriptResult:
        return await self.transcriber.transcribe(audio, language)

    async def detect_genre(self, audio: AudioFile) -> GenreResult:
        return await self.genre.detect(audio)

    async def analyze(self, text: str, language: str | None) -> LyricsResult:
        return await self.lyrics.analyze(text, language)

    async def summarize(self, text: str, max_words: int) -> SummaryResult:
        return await self.summarizer.summarize(text, max_words)

    async def generate(self, request: CoverRequest) -> CoverResult:
        return await self.art.generate(request)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> HttpStages:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
