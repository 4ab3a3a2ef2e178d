"""Cover pipeline latency: the pipeline against its stages run one after another.

The seed's orchestrator called the services one at a time. This starts the model
services once, then, with the same song and the same options (seed included), times
alternately (a) each stage called one after another and (b) ``CoverPipeline``, which
runs transcription with genre detection, and lyrics analysis with the summary, at the
same time. Prints each stage's time, both totals (median of the rounds) and the ratio.

    .venv/bin/python bench/pipeline_latency.py --rounds 3

On the smoke profile the models are tiny and random: the figures show what overlapping
saves on this machine's cores, not the real models' speed. ``MARKETPLACE_PROFILE=full``
on a machine that can download the models gives real figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from pipeline_client.clients import AudioFile
from pipeline_client.local_stack import serve_many, stack
from pipeline_client.pipeline import CoverPipeline, PipelineOptions
from pipeline_client.settings import ServiceUrls
from pipeline_client.stages import HttpStages

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "pipeline_client" / "assets" / "demo-song.mp3"
SERVICES = ("transcribe", "genre", "lyrics", "summarize", "art")


async def one_after_another(stages: HttpStages, audio: AudioFile, options: PipelineOptions):
    """The seed's way: every stage waits for the one before it."""
    from bentos.common.schemas import CoverRequest

    times: dict[str, float] = {}

    async def timed(name, call):
        start = time.perf_counter()
        result = await call
        times[name] = time.perf_counter() - start
        return result

    transcript = await timed("transcribe", stages.transcribe(audio, None))
    genre = await timed("genre", stages.detect_genre(audio))
    lyrics = await timed("lyrics", stages.analyze(transcript.text, None))
    summary = await timed("summarize", stages.summarize(transcript.text, options.summary_words))
    request = CoverRequest(
        genre=genre.genre,
        emotion=lyrics.emotion,
        keywords=lyrics.keywords,
        summary=summary.summary,
        **options.cover.model_dump(),
    )
    await timed("art", stages.generate(request))
    return times


async def rounds(urls: dict[str, str], song: Path, options: PipelineOptions, n: int):
    audio = AudioFile.read(song)
    sequential, pipelined, stage_times = [], [], []
    every = ServiceUrls(**{f"{s}_url": url for s, url in urls.items()}).or_local()
    async with HttpStages(every) as stages:
        await CoverPipeline(stages, options).run(audio)  # warm-up: lazy loads, first calls
        for _ in range(n):
            start = time.perf_counter()
            stage_times.append(await one_after_another(stages, audio, options))
            sequential.append(time.perf_counter() - start)
            start = time.perf_counter()
            await CoverPipeline(stages, options).run(audio)
            pipelined.append(time.perf_counter() - start)
    return sequential, pipelined, stage_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--song", type=Path, default=SONG)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    profile = os.environ.setdefault("MARKETPLACE_PROFILE", "smoke")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    options = PipelineOptions(
        summary="always",  # both ways run every stage
        cover={"seed": 1, "steps": args.steps, "width": args.size, "height": args.size},
    )
    print(
        f"pipeline latency: profile {profile}, {args.song.name}, covers {args.size}x{args.size} "
        f"in {args.steps} steps, {args.rounds} rounds, {os.cpu_count()} CPUs"
    )
    with serve_many(stack(SERVICES, ROOT, {"MARKETPLACE_PROFILE": profile}), cwd=ROOT) as urls:
        sequential, pipelined, stage_times = asyncio.run(
            rounds(urls, args.song, options, args.rounds)
        )
    print(f"\n{'stage (one after another)':<28} {'median s':>9}")
    for stage in SERVICES:
        print(f"{stage:<28} {statistics.median(t[stage] for t in stage_times):9.2f}")
    seq, pipe = statistics.median(sequential), statistics.median(pipelined)
    print(f"\n{'one after another (seed)':<28} {seq:9.2f}")
    print(f"{'CoverPipeline':<28} {pipe:9.2f}")
    print(f"\npipeline / one after another: x{pipe / seq:.2f} ({seq - pipe:+.2f} s saved)")


if __name__ == "__main__":
    main()
