"""The covers pipeline's rules (``pipelines/covers.yaml`` on the engine), as the covers
command and the studio report them: order, overlap, skips, the instrumental fallback, the
cover request, a failure named with what was obtained, the report kept up to date.

The services are played by an in-process transport answering as they do (valid bodies of
their schemas, or their error statuses); the engine's general rules (retries, timeouts,
cancellation) are tested in tests/marketplace, the pipeline against the real services in
test_stack.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from collections.abc import Callable

import httpx

from marketplace.calls import FileValue, HttpCaller
from marketplace.contracts.schemas import (
    GENRES,
    CoverImage,
    CoverResult,
    FetchedAudio,
    GenreResult,
    Keyword,
    LyricsResult,
    SummaryResult,
    TranscriptResult,
)
from marketplace.contracts.services import SERVICE_NAMES
from pipeline_client.covers import CoverOptions, CoverReport, StageEvent, run_covers

URLS = {s: f"http://{s}.test" for s in SERVICE_NAMES}
SONG = FileValue("song.mp3", b"ID3 not really audio: the services here are played")
LYRICS_TEXT = " ".join(["fire in the night"] * 40)  # 160 words


def answer(service: str, request: httpx.Request) -> dict:
    if service == "youtube":
        audio = base64.b64encode(b"OggS...").decode()
        return FetchedAudio(video_id="dQw4w9WgXcQ", url="u", title="A song", duration=3,
                            format="ogg", audio=audio).model_dump()  # fmt: skip
    if service == "transcribe":
        return TranscriptResult(text=LYRICS_TEXT, language="en", language_probability=0.9,
                                duration=3, segments=[], no_speech=False, windows=1,
                                model="tiny").model_dump()  # fmt: skip
    if service == "genre":
        probabilities = {g: 1 / len(GENRES) for g in GENRES}
        return GenreResult(genre="Rock", probabilities=probabilities, windows=1, duration=3,
                           model="genre:x").model_dump()  # fmt: skip
    if service == "lyrics":
        emotions = {e: 0.0 for e in ("joy", "sadness", "anger", "surprise", "disgust", "fear")}
        return LyricsResult(
            language="en", language_detected=True, model_language="en",
            emotions={**emotions, "sadness": 0.8, "others": 0.2}, emotion="sadness",
            sentiment={"POS": 0.1, "NEU": 0.2, "NEG": 0.7},
            keywords=[Keyword(word="fire", score=1.0)], chunks=1,
        ).model_dump()  # fmt: skip
    if service == "summarize":
        return SummaryResult(summary="A fire burns all night.", chunks=1).model_dump()
    body = json.loads(request.content)
    images = [CoverImage(model=m, png="iVBORw0KGgo=") for m in body.get("models") or ["a", "b"]]
    return CoverResult(prompt=f"cover for {body['emotion']}", negative_prompt="text", seed=1,
                       steps=body["steps"], guidance=body["guidance"], width=body["width"],
                       height=body["height"], images=images).model_dump()  # fmt: skip


class Services:
    """Plays the six services; ``behaviour[service]`` can replace an answer."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: Counter[str] = Counter()
        self.bodies: dict[str, bytes] = {}
        self.behaviour: dict[str, Callable[[int], httpx.Response | None]] = {}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.removesuffix(".test")
        self.calls[service] += 1
        self.bodies[service] = request.content
        await asyncio.sleep(self.delay)
        if service in self.behaviour:
            forced = self.behaviour[service](self.calls[service])
            if forced is not None:
                return forced
        return httpx.Response(200, json=answer(service, request))


def run(services: Services, source=SONG, **options) -> tuple[CoverReport, list[StageEvent]]:
    events: list[StageEvent] = []
    opts = CoverOptions(backoff_s=0.01, **options)

    async def go() -> CoverReport:
        caller = HttpCaller(URLS, transport=httpx.MockTransport(services))
        try:
            return await run_covers(source, opts, caller=caller, on_event=events.append)
        finally:
            await caller.aclose()

    return asyncio.run(go()), events


def kinds(events: list[StageEvent]) -> list[tuple[str, str]]:
    return [(e.stage, e.kind) for e in events]


def test_a_file_goes_through_every_stage_in_order() -> None:
    report, events = run(Services())
    assert report.covers.images and report.failure is None
    order = [k for k in kinds(events) if k[0] != "youtube"]
    for stage in ("transcribe", "genre", "lyrics", "summarize", "art"):
        assert order.index((stage, "started")) < order.index((stage, "finished"))
    assert ("youtube", "started") not in kinds(events)  # a file needs no download
    assert "youtube" not in report.timings and "youtube" not in report.skipped
    first_after_audio = {s for s, k in order[:2]}
    assert first_after_audio == {"transcribe", "genre"}  # both start before either ends
    assert order.index(("lyrics", "started")) > order.index(("transcribe", "finished"))
    assert order.index(("art", "started")) > max(
        order.index((s, "finished")) for s in ("genre", "lyrics", "summarize")
    )
    assert [e.kind for e in events if e.stage == "art"] == ["started", "finished"]
    finished = [e for e in events if e.kind == "finished"]
    assert all(e.result is not None for e in finished)


def test_transcribe_and_genre_overlap_and_lyrics_with_summary() -> None:
    report, _ = run(Services(delay=0.3))
    t = report.timings
    assert t["transcribe"].started < t["genre"].finished
    assert t["genre"].started < t["transcribe"].finished
    assert t["lyrics"].started < t["summarize"].finished
    assert t["summarize"].started < t["lyrics"].finished
    # the whole run takes about three waits (audio stages, text stages, art), not five
    assert report.total_seconds < 4 * 0.3 + 0.5


def test_the_report_is_kept_up_to_date_while_the_run_goes_on() -> None:
    report, events = run(Services())
    genre_done = next(e for e in events if (e.stage, e.kind) == ("genre", "finished"))
    assert genre_done.report.genre.genre == "Rock"  # shown before the covers are painted
    last = events[-1].report
    assert last.covers is not None and last.timings["art"].seconds > 0
    assert last.timings == report.timings


def test_a_youtube_address_is_fetched_first() -> None:
    services = Services()
    report, events = run(services, source="https://youtu.be/dQw4w9WgXcQ")
    assert kinds(events)[:2] == [("youtube", "started"), ("youtube", "finished")]
    assert report.fetched.title == "A song" and report.source == "https://youtu.be/dQw4w9WgXcQ"
    assert b"OggS..." in services.bodies["transcribe"]  # the fetched audio, uploaded as is


def test_the_cover_request_carries_every_result() -> None:
    services = Services()
    run(services, cover={"steps": 7, "width": 256, "height": 256, "models": ["a"]})
    body = json.loads(services.bodies["art"])
    assert body["genre"] == "Rock" and body["emotion"] == "sadness"
    assert body["keywords"] == [{"word": "fire", "score": 1.0}]
    assert body["summary"] == "A fire burns all night."
    assert (body["steps"], body["width"], body["models"]) == (7, 256, ["a"])


def test_503_is_retried_and_the_attempts_are_reported() -> None:
    services = Services()
    services.behaviour["genre"] = lambda n: httpx.Response(503) if n <= 2 else None
    report, events = run(services)
    assert report.failure is None and report.timings["genre"].attempts == 3
    assert [e.kind for e in events if e.stage == "genre"].count("retrying") == 2


def test_a_failure_is_named_and_keeps_the_results_so_far() -> None:
    services = Services()
    body = {"error": "text_too_long", "detail": "the text has 30000 characters"}
    services.behaviour["lyrics"] = lambda n: httpx.Response(413, json=body)
    report, events = run(services)
    assert report.failure.stage == "lyrics" and report.failure.status == 413
    assert "text_too_long" in report.failure.error and services.calls["lyrics"] == 1
    assert report.transcript is not None and report.genre is not None  # kept
    assert report.covers is None and services.calls["art"] == 0
    ended = {e.stage: e.kind for e in events if e.kind != "started"}
    assert ended["lyrics"] == "failed" and ended["art"] == "cancelled"


def test_short_lyrics_are_not_summarised_unless_asked() -> None:
    services = Services()
    services.behaviour["transcribe"] = lambda n: httpx.Response(
        200, json={**answer("transcribe", None), "text": "fire in the night"}
    )
    report, _ = run(services)
    assert "summarize" in report.skipped and services.calls["summarize"] == 0
    report, _ = run(services, summary="always")
    assert report.summary is not None
    report, _ = run(Services(), summary="never")
    assert "summarize" in report.skipped and report.summary is None


def test_an_instrumental_skips_the_text_stages() -> None:
    services = Services()
    silent = {**answer("transcribe", None), "text": "", "no_speech": True}
    services.behaviour["transcribe"] = lambda n: httpx.Response(200, json=silent)
    report, events = run(services)
    assert set(report.skipped) == {"lyrics", "summarize"}
    body = json.loads(services.bodies["art"])
    assert body["emotion"] == "calm" and body["keywords"] == []
    assert ("lyrics", "skipped") in kinds(events)
