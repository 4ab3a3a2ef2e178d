"""The cover pipeline, written once: a song (file or YouTube address) to album covers.

```
[youtube] -> transcribe ┐             ┌ lyrics ───────┐
             genre ─────┴ (together) ─┴ [summarize] ──┴ (together) -> art
```

Stages that need only the same input run at the same time: transcription and genre
detection both need only the audio; lyrics analysis and the optional summary both need
only the transcript. Every stage has a timeout, and connection failures and 503 answers
are retried with exponential backoff; any other failure stops the run, names the stage
and keeps every result obtained so far. Progress is reported as :class:`StageEvent`s.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from bentos.common.schemas import (
    CoverRequest,
    CoverResult,
    CoverSettings,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    OptionalLanguage,
    SummaryResult,
    TranscriptResult,
)
from marketplace.contracts.services import CALL_TIMEOUTS
from pipeline_client.clients import AudioFile
from pipeline_client.errors import ServiceError, is_retryable
from pipeline_client.settings import SERVICES, Service
from pipeline_client.stages import Stages

R = TypeVar("R")
EventKind = Literal["started", "retrying", "finished", "skipped", "failed", "cancelled"]
# Where each stage's result goes in the report.
REPORT_FIELD: dict[Service, str] = {
    "youtube": "fetched", "transcribe": "transcript", "genre": "genre", "lyrics": "lyrics",
    "summarize": "summary", "art": "covers",
}  # fmt: skip
DEFAULT_TIMEOUTS: dict[Service, float] = {s: float(CALL_TIMEOUTS[s]) for s in SERVICES}


class PipelineOptions(BaseModel):
    """Choices for one run; the defaults suit a song of a few minutes."""

    language: OptionalLanguage = None
    summary: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: summarise lyrics of at least summary_min_words words"
    )
    summary_min_words: int = Field(120, ge=0)
    summary_words: int = Field(40, ge=5, le=500, description="length of the summary")
    emotion_without_lyrics: str = Field(
        "calm", min_length=1, max_length=60, description="the emotion of an instrumental"
    )
    cover: CoverSettings = Field(default_factory=CoverSettings)
    timeouts: dict[Service, float] = Field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    retries: int = Field(3, ge=0, le=10, description="retries of a stage after the first try")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay; doubles each time")


class StageTiming(BaseModel):
    started: float = Field(description="seconds from the start of the run")
    finished: float | None = None
    seconds: float | None = None
    attempts: int = 0


class StageFailure(BaseModel):
    stage: Service
    error: str
    status: int | None = Field(None, description="the service's HTTP status, if it answered")


class CoverReport(BaseModel):
    """Everything a run produced, also when it failed part way."""

    source: str
    options: PipelineOptions
    fetched: FetchedAudio | None = None
    transcript: TranscriptResult | None = None
    genre: GenreResult | None = None
    lyrics: LyricsResult | None = None
    summary: SummaryResult | None = None
    covers: CoverResult | None = None
    skipped: dict[Service, str] = Field(default_factory=dict, description="stage -> why")
    timings: dict[Service, StageTiming] = Field(default_factory=dict)
    total_seconds: float | None = None
    failure: StageFailure | None = None


@dataclass(frozen=True)
class StageEvent:
    stage: Service
    kind: EventKind
    at: float  # seconds from the start of the run
    result: BaseModel | None = None  # with "finished"
    detail: str | None = None  # why it is retried, skipped or failed
    report: CoverReport | None = None  # the run's report so far (filled as stages finish)


class PipelineFailed(Exception):
    """A stage failed; ``report`` holds the results so far and ``report.failure``."""

    def __init__(self, report: CoverReport) -> None:
        assert report.failure is not None
        self.report = report
        failure = report.failure
        super().__init__(f"stage '{failure.stage}' failed: {failure.error}")


class _StageFailed(Exception):
    def __init__(self, failure: StageFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


class CoverPipeline:
    def __init__(self, stages: Stages, options: PipelineOptions | None = None) -> None:
        self.stages = stages
        self.options = options or PipelineOptions()

    async def run(
        self,
        source: str | Path | AudioFile,
        on_event: Callable[[StageEvent], None] | None = None,
    ) -> CoverReport:
        """Covers for ``source``: a YouTube address, an audio file's path, or its bytes."""
        run = _Run(self, source, on_event)
        try:
            await run.all_stages()
        except _StageFailed as failed:
            run.fail(failed.failure)
        except ExceptionGroup as group:  # from stages running together: the first failure
            run.fail(_first(group).failure)
        run.report.total_seconds = round(run.now(), 3)
        if run.report.failure is not None:
            raise PipelineFailed(run.report)
        return run.report


def _first(group: BaseExceptionGroup) -> _StageFailed:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if isinstance(exc, _StageFailed):
            return exc
    raise group


class _Run:
    """One run's state: the report being filled and the clock."""

    def __init__(
        self, pipeline: CoverPipeline, source, on_event: Callable[[StageEvent], None] | None
    ) -> None:
        self.stages, self.options = pipeline.stages, pipeline.options
        self.source = source
        self.on_event = on_event
        self.start = time.perf_counter()
        label = source.name if isinstance(source, AudioFile) else str(source)
        self.report = CoverReport(source=label, options=self.options)

    def now(self) -> float:
        return time.perf_counter() - self.start

    def emit(self, stage: Service, kind: EventKind, **about: object) -> None:
        if self.on_event is not None:
            event = StageEvent(stage, kind, round(self.now(), 3), report=self.report, **about)
            self.on_event(event)  # type: ignore[arg-type]

    async def all_stages(self) -> None:
        report, opts = self.report, self.options
        audio = await self.audio()
        async with asyncio.TaskGroup() as together:
            together.create_task(
                self.stage("transcribe", lambda: self.stages.transcribe(audio, opts.language))
            )
            together.create_task(self.stage("genre", lambda: self.stages.detect_genre(audio)))
        assert report.transcript is not None and report.genre is not None
        text = report.transcript.text.strip()
        if not text:
            for stage in ("lyrics", "summarize"):
                self.skip(stage, "no lyrics: the song is instrumental or the voice was not heard")
        else:
            async with asyncio.TaskGroup() as together:
                together.create_task(
                    self.stage("lyrics", lambda: self.stages.analyze(text, opts.language))
                )
                together.create_task(self.summary(text))
        request = CoverRequest(
            genre=report.genre.genre,
            emotion=report.lyrics.emotion if report.lyrics else opts.emotion_without_lyrics,
            keywords=report.lyrics.keywords if report.lyrics else [],
            summary=report.summary.summary if report.summary else None,
            **opts.cover.model_dump(),
        )
        await self.stage("art", lambda: self.stages.generate(request))

    async def audio(self) -> AudioFile:
        source = self.source
        if isinstance(source, AudioFile):
            return source
        if isinstance(source, Path):
            return AudioFile.read(source)
        fetched: FetchedAudio = await self.stage("youtube", lambda: self.stages.fetch(source))
        name = f"{fetched.video_id or 'audio'}.{fetched.format}"
        return AudioFile(name, base64.b64decode(fetched.audio))

    async def summary(self, text: str) -> None:
        opts = self.options
        words = len(text.split())
        if opts.summary == "never" or (opts.summary == "auto" and words < opts.summary_min_words):
            why = "not asked for" if opts.summary == "never" else (
                f"the lyrics are short ({words} words < {opts.summary_min_words})"
            )  # fmt: skip
            self.skip("summarize", why)
            return
        await self.stage("summarize", lambda: self.stages.summarize(text, opts.summary_words))

    def skip(self, stage: Service, why: str) -> None:
        self.report.skipped[stage] = why
        self.emit(stage, "skipped", detail=why)

    def fail(self, failure: StageFailure) -> None:
        self.report.failure = failure
        self.emit(failure.stage, "failed", detail=failure.error)

    async def stage(self, stage: Service, call: Callable[[], Awaitable[R]]) -> R:
        """Run one stage: timeout, retries of what is worth retrying, events, timing."""
        timing = StageTiming(started=round(self.now(), 3))
        self.report.timings[stage] = timing
        self.emit(stage, "started")
        limit = self.options.timeouts.get(stage, DEFAULT_TIMEOUTS[stage])
        try:
            async with asyncio.timeout(limit):
                result = await self._attempts(stage, call, timing)
        except TimeoutError:
            raise _StageFailed(
                StageFailure(stage=stage, error=f"no answer within {limit:g} s (stage timeout)")
            ) from None
        except asyncio.CancelledError:  # a sibling stage failed: this one ends, cancelled
            timing.finished = round(self.now(), 3)
            timing.seconds = round(timing.finished - timing.started, 3)
            self.emit(stage, "cancelled", detail="cancelled: another stage failed")
            raise
        except Exception as exc:
            status = exc.status if isinstance(exc, ServiceError) else None
            raise _StageFailed(StageFailure(stage=stage, error=str(exc), status=status)) from exc
        setattr(self.report, REPORT_FIELD[stage], result)
        timing.finished = round(self.now(), 3)
        timing.seconds = round(timing.finished - timing.started, 3)
        self.emit(stage, "finished", result=result)
        return result

    async def _attempts(self, stage: Service, call: Callable[[], Awaitable[R]], timing) -> R:
        while True:
            timing.attempts += 1
            try:
                return await call()
            except Exception as exc:
                if not is_retryable(exc) or timing.attempts > self.options.retries:
                    raise
                delay = self.options.backoff_s * 2 ** (timing.attempts - 1)
                self.emit(stage, "retrying", detail=f"{exc}; retry in {delay:g} s")
                await asyncio.sleep(delay)
