"""Shared load generator: the same service with batching on and off, same requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np

# send(client, i) makes request i and returns how many items it carried (windows, texts...)
Send = Callable[[httpx.AsyncClient, int], Awaitable[int]]
ROOT = Path(__file__).resolve().parents[1]


# BentoML's batcher times its first 11 model calls one at a time before it batches: warm
# up past them, so both modes are measured in their steady state.
WARMUP = 12


async def load(send: Send, clients: int, requests: int, warmup: int = WARMUP) -> dict[str, float]:
    """``clients`` concurrent clients share ``requests`` requests; latency per request."""
    latencies: list[float] = []
    items = 0
    counter = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal items
        for i in counter:
            start = time.perf_counter()
            carried = await send(http, i)  # not `items += await ...`: that loses updates
            latencies.append(time.perf_counter() - start)
            items += carried

    async with httpx.AsyncClient(timeout=600) as http:
        for i in range(warmup):  # not measured: lazy loading, the batcher's training
            await send(http, i)
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - start
    lat = np.array(latencies)
    return {
        "requests": len(lat),
        "wall_s": wall,
        "req_per_s": len(lat) / wall,
        "items_per_s": items / wall,
        "p50_ms": float(np.percentile(lat, 50) * 1000),
        "p95_ms": float(np.percentile(lat, 95) * 1000),
    }


def compare_batching(
    target: str,
    batching_env: str,
    send: Send,
    clients: int,
    requests: int,
    env: dict[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """Serve ``target`` with ``batching_env`` true, then false; load each the same way."""
    from stack.local import serve

    results = {}
    for mode, flag in (("batched", "true"), ("unbatched", "false")):
        with serve(target, env={**(env or {}), batching_env: flag}, cwd=ROOT) as url:
            results[mode] = asyncio.run(
                load(lambda http, i, url=url: send(http, i, url), clients, requests)
            )
    return results


def print_comparison(results: dict[str, dict[str, float]], item: str) -> None:
    print(f"\n{'mode':<10} {'req/s':>8} {item + '/s':>12} {'p50 ms':>9} {'p95 ms':>9}")
    for mode in ("batched", "unbatched"):
        r = results[mode]
        print(
            f"{mode:<10} {r['req_per_s']:8.2f} {r['items_per_s']:12.1f} "
            f"{r['p50_ms']:9.0f} {r['p95_ms']:9.0f}"
        )
    b, u = results["batched"], results["unbatched"]
    print(
        f"\nbatched / unbatched: throughput x{b['req_per_s'] / u['req_per_s']:.2f}, "
        f"p50 x{b['p50_ms'] / u['p50_ms']:.2f}, p95 x{b['p95_ms'] / u['p95_ms']:.2f}"
    )
