"""The covers pipeline (``pipelines/covers.yaml``) run by the engine, reported by stage.

``covers run`` is a shortcut for ``marketplace run covers``: the options become the
pipeline's inputs, the engine runs it, and the run's steps become the stages of the
:class:`CoverReport` that ``report.json`` has always held (fetched, transcript, genre,
lyrics, summary, covers, skipped, timings, failure). :class:`CoverProgress` keeps that
report up to date while the run goes on, for a progress table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from marketplace.calls import Caller, FileValue
from marketplace.contracts.schemas import (
    CoverResult,
    CoverSettings,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    OptionalLanguage,
    SummaryResult,
    TranscriptResult,
)
from marketplace.engine import EventKind, RunEvent, RunReport

Service = str  # a service name (marketplace.contracts.services.SERVICE_NAMES)

PIPELINE = "covers"
# The pipeline's steps, as the report's stages (services) and their results' models.
STAGES: dict[str, tuple[Service, str, type[BaseModel]]] = {
    "fetch": ("youtube", "fetched", FetchedAudio),
    "transcribe": ("transcribe", "transcript", TranscriptResult),
    "genre": ("genre", "genre", GenreResult),
    "lyrics": ("lyrics", "lyrics", LyricsResult),
    "summary": ("summarize", "summary", SummaryResult),
    "art": ("art", "covers", CoverResult),
}


class CoverOptions(BaseModel):
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
    options: CoverOptions
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
    detail: str | None = None  # why it is retried, skipped, failed or cancelled
    report: CoverReport | None = None  # the run's report so far


def covers_inputs(source: str | Path | FileValue, options: CoverOptions) -> dict[str, Any]:
    """The covers pipeline's inputs for a song: a file (path or content) or a YouTube
    address."""
    cover = options.cover
    inputs: dict[str, Any] = {
        "language": options.language,
        "models": cover.models,
        "steps": cover.steps,
        "size": cover.width,
        "seed": cover.seed,
        "guidance": cover.guidance,
        "summary": options.summary,
        "summary_min_words": options.summary_min_words,
        "summary_words": options.summary_words,
        "emotion_without_lyrics": options.emotion_without_lyrics,
    }
    if isinstance(source, str):
        inputs["url"] = source
    else:
        inputs["audio"] = source
    return {k: v for k, v in inputs.items() if v is not None}


def source_label(source: str | Path | FileValue) -> str:
    return source.name if isinstance(source, Path | FileValue) else source


class CoverProgress:
    """Turns the engine's events into stage events, keeping the report so far."""

    def __init__(self, source: str, options: CoverOptions) -> None:
        self.report = CoverReport(source=source, options=options)

    def __call__(self, event: RunEvent) -> StageEvent:
        stage, field, model = STAGES[event.step]
        result = model.model_validate(event.result) if event.result is not None else None
        report = self.report
        if event.kind == "started":
            report.timings[stage] = StageTiming(started=event.at, attempts=1)
        elif event.kind == "retrying":
            report.timings[stage].attempts += 1
        elif event.kind == "skipped" and event.step != "fetch":  # a file: nothing to fetch
            report.skipped[stage] = event.detail or ""
        if event.kind in ("finished", "failed", "cancelled") and stage in report.timings:
            timing = report.timings[stage]
            timing.finished = event.at
            timing.seconds = round(event.at - timing.started, 3)
        if result is not None:
            setattr(report, field, result)
        return StageEvent(stage, event.kind, event.at, result, event.detail, report)


def cover_report(run: RunReport, source: str, options: CoverOptions) -> CoverReport:
    """The finished run as a :class:`CoverReport`."""
    report = CoverReport(source=source, options=options, total_seconds=run.total_seconds)
    for step_id, state in run.steps.items():
        stage, field, model = STAGES[step_id]
        if step_id == "fetch" and state.status == "skipped":
            continue  # a file: there was nothing to fetch
        if state.result is not None:
            setattr(report, field, model.model_validate(state.result))
        if state.status == "skipped":
            report.skipped[stage] = state.detail or ""
        if state.started is not None:
            report.timings[stage] = StageTiming(
                started=state.started, finished=state.finished, seconds=state.seconds,
                attempts=state.attempts,
            )  # fmt: skip
    if run.failure is not None:
        report.failure = StageFailure(stage=STAGES[run.failure.step][0], error=run.failure.error,
                                      status=run.failure.status)  # fmt: skip
    return report


async def run_covers(
    source: str | Path | FileValue,
    options: CoverOptions,
    *,
    urls: dict[str, str] | None = None,
    caller: Caller | None = None,
    on_event: Callable[[StageEvent], None] | None = None,
) -> CoverReport:
    """Covers for a song through the engine, calling the services at ``urls`` (or through
    ``caller``). A failed stage is in ``report.failure``, with every result obtained."""
    from marketplace.runner import arun

    progress = CoverProgress(source_label(source), options)

    def forward(event: RunEvent) -> None:
        stage_event = progress(event)
        if on_event is not None:
            on_event(stage_event)

    run = await arun(
        PIPELINE,
        urls=urls,
        caller=caller,
        on_event=forward,
        engine_options={"retries": options.retries, "backoff_s": options.backoff_s},
        **covers_inputs(source, options),
    )
    return cover_report(run, source_label(source), options)
