"""Lyrics service throughput: adaptive batching on vs off, same texts, one run.

N concurrent clients send lyrics to ``POST /analyze``; the service is started twice with
``LYRICS_BATCHING=true`` and ``false``. Prints requests/s, chunks/s, p50 and p95 latency.

    .venv/bin/python bench/lyrics_throughput.py --clients 16 --requests 96

With ``MARKETPLACE_PROFILE=smoke`` (the default here) the models are tiny random BERTs:
the ratio shows the batching machinery, not the speed of the real models. Run with
``MARKETPLACE_PROFILE=full`` on a machine that can download pysentimiento's models for
real figures.
"""

from __future__ import annotations

import argparse
import os
import random

import httpx
from loadgen import compare_batching, print_comparison

WORDS = [
    "love",
    "heart",
    "night",
    "fire",
    "dance",
    "rain",
    "tears",
    "alone",
    "street",
    "light",
    "dream",
    "road",
    "home",
    "summer",
    "city",
    "shadow",
    "broken",
    "wild",
    "young",
    "forever",
    "sky",
    "ocean",
    "memory",
    "gold",
    "storm",
]


def make_lyrics(seed: int, lines: int = 24) -> str:
    rng = random.Random(seed)
    return "\n".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10))) for _ in range(lines)
    )


def sender(texts: list[str]):
    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        response = await http.post(f"{url}/analyze", json={"text": texts[i % len(texts)]})
        response.raise_for_status()
        return int(response.json()["chunks"])

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=96, help="requests per mode")
    args = parser.parse_args()
    profile = os.environ.setdefault("MARKETPLACE_PROFILE", "smoke")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    texts = [make_lyrics(i) for i in range(16)]
    print(
        f"lyrics throughput: profile {profile}, {args.clients} clients, {args.requests} "
        f"requests of 24-line lyrics per mode, {os.cpu_count()} CPUs"
    )
    results = compare_batching(
        "bentos.lyrics.service:Lyrics",
        "LYRICS_BATCHING",
        sender(texts),
        args.clients,
        args.requests,
    )
    print_comparison(results, "chunks")


if __name__ == "__main__":
    main()
