"""The engine's behaviour, with services of scripted answers and latencies standing in
for the real ones (the same definitions run on the smoke stack in test_run.py)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from marketplace.calls import CallFailed, FileValue
from marketplace.contracts.catalogue import Endpoint
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.engine import Engine, InvalidInputs, RunEvent, RunReport, StepCache
from marketplace.validation import validate_definition

Script = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ScriptedServices:
    """Answers each ``service/endpoint`` with a script; counts and records the calls."""

    def __init__(self, scripts: dict[str, Script]) -> None:
        self.scripts = scripts
        self.calls: Counter[str] = Counter()
        self.received: dict[str, dict[str, Any]] = {}

    async def call(self, service: str, endpoint: Endpoint, inputs: dict[str, Any]) -> dict:
        name = f"{service}/{endpoint.name}"
        self.calls[name] += 1
        self.received[name] = inputs
        return await self.scripts[name](inputs)


def after(seconds: float, answer: dict[str, Any]) -> Script:
    async def script(inputs: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(seconds)
        return answer

    return script


TRANSCRIPT = {"text": "la la love " * 50, "language": "en", "language_probability": 1.0,
              "duration": 3.0, "segments": [], "no_speech": False, "windows": 1,
              "model": "tiny"}  # fmt: skip
LYRICS = {"language": "en", "language_detected": True, "model_language": "en",
          "emotions": {"joy": 0.9}, "emotion": "joy", "sentiment": {"POS": 1.0},
          "keywords": [{"word": "love", "score": 1.0}], "chunks": 1}  # fmt: skip
GENRE = {"genre": "Pop", "probabilities": {"Pop": 1.0}, "windows": 1, "duration": 3.0,
         "model": "genre:x"}  # fmt: skip
SUMMARY = {"summary": "a song of love", "chunks": 1}

REPORT = """
pipeline: report
version: 1
inputs:
  audio: {media: "audio/*"}
steps:
  transcribe:
    call: transcribe/transcribe
    with: {audio: $inputs.audio}
  genre:
    call: genre/detect
    with: {audio: $inputs.audio}
  analyze:
    call: lyrics/analyze
    when: words($transcribe.text) > 0
    with: {text: $transcribe.text}
  summary:
    call: summarize/summarize
    when: words($transcribe.text) >= 120
    with: {text: $transcribe.text, max_words: 40}
outputs:
  genre: $genre.genre
  emotion: {from: $analyze.emotion, default: calm}
  story: {from: $summary.summary, default: $transcribe.text}
"""


def definition(text: str = REPORT, **step_changes: dict[str, Any]) -> PipelineDefinition:
    data = yaml.safe_load(text)
    for step, changes in step_changes.items():
        data["steps"][step].update(changes)
    result = validate_definition(data)
    assert result.valid, [str(p) for p in result.errors]
    return result.definition


def services(**overrides: Script) -> ScriptedServices:
    scripts: dict[str, Script] = {
        "transcribe/transcribe": after(0.3, TRANSCRIPT),
        "genre/detect": after(0.3, GENRE),
        "lyrics/analyze": after(0.2, LYRICS),
        "summarize/summarize": after(0.2, SUMMARY),
    }
    scripts.update({k.replace("__", "/"): v for k, v in overrides.items()})
    return ScriptedServices(scripts)


def run(d: PipelineDefinition, scripted: ScriptedServices, **engine: Any
        ) -> tuple[RunReport, list[RunEvent]]:  # fmt: skip
    events: list[RunEvent] = []
    audio = FileValue("song.mp3", b"ID3 not really audio", "audio/mpeg")
    report = asyncio.run(
        Engine(scripted, backoff_s=0.01, **engine).run(d, {"audio": audio}, events.append)
    )
    return report, events


def test_independent_steps_run_at_the_same_time_and_results_flow() -> None:
    scripted = services()
    report, events = run(definition(), scripted)
    assert report.status == "done" and report.failure is None
    steps = report.steps
    # transcribe and genre overlap; analyze and summary overlap, after transcribe
    assert steps["genre"].started < steps["transcribe"].finished
    assert steps["transcribe"].started < steps["genre"].finished
    assert steps["analyze"].started >= steps["transcribe"].finished
    assert steps["summary"].started < steps["analyze"].finished
    assert report.total_seconds < 0.3 + 0.2 + 0.25  # the critical path, not the sum (1.0)
    assert report.outputs == {"genre": "Pop", "emotion": "joy", "story": "a song of love"}
    assert scripted.received["genre/detect"]["audio"].name == "song.mp3"
    assert scripted.received["summarize/summarize"] == {"text": TRANSCRIPT["text"], "max_words": 40}
    kinds = [(e.step, e.kind) for e in events]
    assert kinds.index(("transcribe", "finished")) < kinds.index(("analyze", "started"))
    assert report.definition["pipeline"] == "report" and report.version == 1


def test_a_false_condition_skips_and_the_fallbacks_stand_in() -> None:
    instrumental = TRANSCRIPT | {"text": "", "no_speech": True}
    report, events = run(definition(), services(transcribe__transcribe=after(0.05, instrumental)))
    assert report.status == "done"
    assert report.steps["analyze"].status == "skipped"
    assert "its condition is false: words($transcribe.text) > 0" in report.steps["analyze"].detail
    assert report.outputs == {"genre": "Pop", "emotion": "calm", "story": ""}
    assert ("summary", "skipped") in [(e.step, e.kind) for e in events]


def test_retryable_failures_are_retried_others_fail_at_once() -> None:
    tries: Counter[str] = Counter()

    async def busy_twice(inputs: dict[str, Any]) -> dict[str, Any]:
        tries["busy"] += 1
        if tries["busy"] <= 2:
            raise CallFailed("genre service answered 503: overloaded", status=503, retryable=True)
        return GENRE

    report, events = run(definition(), services(genre__detect=busy_twice))
    assert report.status == "done" and report.steps["genre"].attempts == 3
    assert [e.kind for e in events if e.step == "genre"] == [
        "started",
        "retrying",
        "retrying",
        "finished",
    ]

    async def bad(inputs: dict[str, Any]) -> dict[str, Any]:
        raise CallFailed("genre service answered 415: unsupported_media_type", status=415)

    report, _ = run(definition(), services(genre__detect=bad))
    assert report.steps["genre"].attempts == 1 and report.steps["genre"].status == "failed"
    assert report.failure.step == "genre" and report.failure.status == 415


def test_a_failure_cancels_the_running_siblings_and_keeps_what_was_obtained() -> None:
    async def fails_fast(inputs: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        raise CallFailed("genre service answered 422: corrupt_audio", status=422)

    scripted = services(genre__detect=fails_fast, transcribe__transcribe=after(5, TRANSCRIPT))
    report, events = run(definition(), scripted)
    assert report.status == "failed"
    assert report.failure.step == "genre" and "corrupt_audio" in report.failure.error
    steps = report.steps
    assert steps["transcribe"].status == "cancelled"  # it was running: it ends, cancelled
    assert steps["transcribe"].detail == "cancelled: step 'genre' failed"
    assert steps["analyze"].status == "cancelled" and steps["summary"].status == "cancelled"
    assert report.total_seconds < 1
    ends = {e.step: e.kind for e in events if e.kind != "started"}
    assert ends == {"genre": "failed", "transcribe": "cancelled", "analyze": "cancelled",
                    "summary": "cancelled"}  # fmt: skip


def test_an_optional_step_may_fail_and_the_run_goes_on() -> None:
    async def down(inputs: dict[str, Any]) -> dict[str, Any]:
        raise CallFailed("summarize did not answer", retryable=True)

    report, _ = run(definition(summary={"optional": True, "retries": 1}),
                    services(summarize__summarize=down))  # fmt: skip
    assert report.status == "done" and report.steps["summary"].status == "failed"
    assert report.steps["summary"].attempts == 2
    assert report.outputs["story"] == TRANSCRIPT["text"]  # the fallback


def test_timeouts_the_steps_own_and_the_services_are_named_and_not_retried() -> None:
    report, _ = run(definition(genre={"timeout": 0.1}), services(genre__detect=after(5, GENRE)))
    assert report.failure.step == "genre"
    assert report.failure.error == "no answer within 0.1 s (the step's timeout)"

    async def gave_up(inputs: dict[str, Any]) -> dict[str, Any]:
        raise CallFailed("genre service answered 504: deadline_exceeded", status=504)

    report, _ = run(definition(), services(genre__detect=gave_up))
    assert report.steps["genre"].attempts == 1
    assert report.failure.error.endswith("(the service's own timeout; not retried)")


def test_a_rerun_with_the_cache_calls_no_service(tmp_path: Path) -> None:
    first = services()
    report, _ = run(definition(), first, cache=StepCache(tmp_path))
    assert sum(first.calls.values()) == 4 and not any(s.cached for s in report.steps.values())
    again = services()
    report, events = run(definition(), again, cache=StepCache(tmp_path))
    assert sum(again.calls.values()) == 0 and all(s.cached for s in report.steps.values())
    finished = [e for e in events if e.kind == "finished"]
    assert finished and all("from the step cache" in (e.detail or "") for e in finished)
    assert report.outputs == {"genre": "Pop", "emotion": "joy", "story": "a song of love"}


def test_inputs_are_checked_before_anything_runs(tmp_path: Path) -> None:
    engine = Engine(services())
    with pytest.raises(InvalidInputs, match="input 'audio' is required"):
        asyncio.run(engine.run(definition(), {}))
    with pytest.raises(InvalidInputs, match="unknown input"):
        asyncio.run(engine.run(definition(), {"audio": tmp_path, "mood": "x"}))
    with pytest.raises(InvalidInputs, match="no file"):
        asyncio.run(engine.run(definition(), {"audio": str(tmp_path / "none.mp3")}))


def test_max_parallel_one_runs_the_steps_one_after_another() -> None:
    report, _ = run(definition(), services(), max_parallel=1)
    spans = sorted((s.started, s.finished) for s in report.steps.values() if s.started)
    assert all(a[1] <= b[0] + 0.01 for a, b in itertools.pairwise(spans))
    assert report.total_seconds >= 0.3 + 0.3 + 0.2 + 0.2
