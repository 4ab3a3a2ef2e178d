"""The engine's own overhead, in one run.

1. Stub services of fixed latencies (in process, no network): the covers pipeline's
   definition run ``--runs`` times; wall time against the run's critical path computed
   from its own step timings, and the overhead per run and per step.
2. ``--stack``: the covers pipeline on the smoke stack (tiny random models), through the
   engine, against the same calls made one after another, and against its critical path.

    .venv/bin/python bench/engine_overhead.py                 # stubs only
    .venv/bin/python bench/engine_overhead.py --stack --steps 4 --size 256
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from marketplace.calls import FileValue
from marketplace.contracts.catalogue import Endpoint
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.engine import Engine, RunReport
from marketplace.runner import load_pipeline
from marketplace.validation import dependencies

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "stack" / "assets" / "demo-song.mp3"
LATENCIES = {  # seconds, roughly the smoke stack's shape
    "transcribe/transcribe": 0.5, "genre/detect": 0.2, "lyrics/analyze": 0.15,
    "summarize/summarize": 0.3, "art/generate": 0.4,
}  # fmt: skip
ANSWERS: dict[str, dict[str, Any]] = {
    "transcribe/transcribe": {"text": "la " * 200, "language": "en", "no_speech": False},
    "genre/detect": {"genre": "Pop", "probabilities": {"Pop": 1.0}},
    "lyrics/analyze": {"emotion": "joy", "keywords": [{"word": "la", "score": 1.0}]},
    "summarize/summarize": {"summary": "la", "chunks": 1},
    "art/generate": {"images": [], "prompt": "p", "seed": 1},
}


class Stubs:
    async def call(self, service: str, endpoint: Endpoint, inputs: dict[str, Any]) -> dict:
        call = f"{service}/{endpoint.name}"
        await asyncio.sleep(LATENCIES[call])
        return ANSWERS[call]


def critical_path(definition: PipelineDefinition, report: RunReport) -> float:
    """The longest chain of dependent steps, from the steps' own durations."""
    memo: dict[str, float] = {}

    def length(step: str) -> float:
        if step not in memo:
            own = report.steps[step].seconds or 0.0
            deps = dependencies(definition, step)
            memo[step] = own + max((length(d) for d in deps), default=0.0)
        return memo[step]

    return max(length(s) for s in definition.steps)


async def stub_runs(definition: PipelineDefinition, runs: int) -> None:
    engine = Engine(Stubs())
    audio = FileValue.read(SONG)
    walls, paths, steps = [], [], 0
    for _ in range(runs):
        start = time.perf_counter()
        report = await engine.run(definition, {"audio": audio})
        walls.append(time.perf_counter() - start)
        paths.append(critical_path(definition, report))
        steps = sum(s.status == "finished" for s in report.steps.values())
    wall, path = statistics.mean(walls), statistics.mean(paths)
    serial = sum(LATENCIES.values())
    print(f"stub services ({runs} runs of {definition.identity}, {steps} steps called)")
    print(f"  wall time            {wall * 1000:8.1f} ms (min {min(walls) * 1000:.1f})")
    print(f"  critical path        {path * 1000:8.1f} ms (from the steps' own timings)")
    print(f"  one after another    {serial * 1000:8.1f} ms (the latencies summed)")
    print(f"  engine overhead      {(wall - path) * 1000:8.2f} ms per run, "
          f"{(wall - path) * 1000 / steps:.2f} ms per step; wall/critical path "
          f"x{wall / path:.3f}")  # fmt: skip


async def stack_runs(definition: PipelineDefinition, runs: int, steps: int, size: int) -> None:
    from marketplace.calls import HttpCaller
    from stack.local import serve_many, stack

    names = ("transcribe", "genre", "lyrics", "summarize", "art")
    with serve_many(stack(names, ROOT, {"MARKETPLACE_PROFILE": "smoke"}), cwd=ROOT) as urls:
        caller = HttpCaller(urls)
        engine = Engine(caller)
        inputs = {"audio": FileValue.read(SONG), "steps": steps, "size": size,
                  "models": ["sd2-base"]}  # fmt: skip
        await engine.run(definition, inputs)  # warm-up: models loaded, caches filled
        one_by_one_engine = Engine(caller, max_parallel=1)
        walls, paths, serial = [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            report = await engine.run(definition, inputs)
            walls.append(time.perf_counter() - start)
            paths.append(critical_path(definition, report))
            start = time.perf_counter()  # the same calls, one after another
            await one_by_one_engine.run(definition, inputs)
            serial.append(time.perf_counter() - start)
        await caller.aclose()
    wall, path, one_by_one = map(statistics.mean, (walls, paths, serial))
    print(f"smoke stack ({runs} runs of {definition.identity}, {steps} steps {size}x{size})")
    print(f"  engine wall time     {wall:8.3f} s")
    print(f"  critical path        {path:8.3f} s (from the steps' own timings)")
    print(f"  one after another    {one_by_one:8.3f} s (the engine, max_parallel=1)")
    print(f"  engine / one by one  x{wall / one_by_one:.3f}; engine - critical path "
          f"{(wall - path) * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--stack", action="store_true", help="also on the smoke stack")
    parser.add_argument("--stack-runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    definition = load_pipeline("covers")
    asyncio.run(stub_runs(definition, args.runs))
    if args.stack:
        asyncio.run(stack_runs(definition, args.stack_runs, args.steps, args.size))


if __name__ == "__main__":
    main()
