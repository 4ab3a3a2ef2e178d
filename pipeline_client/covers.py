"""The covers pipeline (``pipelines/covers.yaml``) run by the engine, reported as before.

``covers run`` is a shortcut for ``marketplace run covers``: the options become the
pipeline's inputs, the engine runs it, and the run's steps become the stages of the
:class:`~pipeline_client.pipeline.CoverReport` that ``report.json`` has always held
(fetched, transcript, genre, lyrics, summary, covers, skipped, timings, failure).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bentos.common.schemas import (
    CoverResult,
    FetchedAudio,
    GenreResult,
    LyricsResult,
    SummaryResult,
    TranscriptResult,
)
from marketplace.engine import RunEvent, RunReport
from pipeline_client.pipeline import (
    CoverReport,
    PipelineOptions,
    StageEvent,
    StageFailure,
    StageTiming,
)

PIPELINE = "covers"
# The pipeline's steps, as the report's stages (services) and their results' models.
STAGES: dict[str, tuple[str, str, type[BaseModel]]] = {
    "fetch": ("youtube", "fetched", FetchedAudio),
    "transcribe": ("transcribe", "transcript", TranscriptResult),
    "genre": ("genre", "genre", GenreResult),
    "lyrics": ("lyrics", "lyrics", LyricsResult),
    "summary": ("summarize", "summary", SummaryResult),
    "art": ("art", "covers", CoverResult),
}


def covers_inputs(source: str | Path, options: PipelineOptions) -> dict[str, Any]:
    """The covers pipeline's inputs for a song (a file or a YouTube address)."""
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
    if isinstance(source, Path):
        inputs["audio"] = source
    else:
        inputs["url"] = source
    return {k: v for k, v in inputs.items() if v is not None}


def stage_event(event: RunEvent) -> StageEvent:
    """An engine event as the cover pipeline's stage event (typed result)."""
    stage, _, model = STAGES[event.step]
    result = model.model_validate(event.result) if event.result is not None else None
    return StageEvent(stage, event.kind, event.at, result=result, detail=event.detail)  # type: ignore[arg-type]


def cover_report(run: RunReport, source: str, options: PipelineOptions) -> CoverReport:
    report = CoverReport(source=source, options=options, total_seconds=run.total_seconds)
    for step_id, state in run.steps.items():
        stage, field, model = STAGES[step_id]
        if step_id == "fetch" and state.status == "skipped":
            continue  # a file: there was nothing to fetch
        if state.result is not None:
            setattr(report, field, model.model_validate(state.result))
        if state.status == "skipped":
            report.skipped[stage] = state.detail or ""  # type: ignore[index]
        if state.started is not None:
            report.timings[stage] = StageTiming(  # type: ignore[index]
                started=state.started, finished=state.finished, seconds=state.seconds,
                attempts=state.attempts,
            )  # fmt: skip
    if run.failure is not None:
        stage = STAGES[run.failure.step][0]
        report.failure = StageFailure(stage=stage, error=run.failure.error,  # type: ignore[arg-type]
                                      status=run.failure.status)  # fmt: skip
    return report


async def run_covers(
    source: str | Path,
    options: PipelineOptions,
    urls: dict[str, str],
    on_event: Callable[[StageEvent], None] | None = None,
) -> CoverReport:
    """Covers for a song through the engine; the report as :class:`CoverReport`."""
    from marketplace.runner import arun

    def forward(event: RunEvent) -> None:
        if on_event is not None:
            on_event(stage_event(event))

    run = await arun(
        PIPELINE,
        urls=urls,
        on_event=forward,
        engine_options={"retries": options.retries, "backoff_s": options.backoff_s},
        **covers_inputs(source, options),
    )
    label = source.name if isinstance(source, Path) else str(source)
    return cover_report(run, label, options)
