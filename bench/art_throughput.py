"""Art service throughput: adaptive batching on vs off, same models and requests, one run.

N concurrent clients ask ``POST /generate`` for covers (one image per model, three models
on the smoke profile); the service is started twice with ``ART_BATCHING=true`` and
``false``. With batching, images of concurrent requests for the same model share one
pipeline call; without, each image runs its own. Prints requests/s, images/s, p50 and p95
latency, and the ratios.

    .venv/bin/python bench/art_throughput.py --clients 8 --requests 32 --steps 10 --size 256

The default smoke profile uses tiny random Stable Diffusion pipelines on the CPU: the
ratio shows the batching machinery, not the speed of real models (their images are noise).
For real figures set ``MARKETPLACE_PROFILE=full`` on a machine that can download them.
"""

from __future__ import annotations

import argparse
import os

import httpx
from loadgen import compare_batching, print_comparison

KEYWORDS = ["sunshine", "island", "ocean", "night", "fire", "road", "heart", "rain"]


def sender(steps: int, size: int):
    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        body = {
            "genre": "Reggae",
            "emotion": "joy",
            "keywords": [{"word": KEYWORDS[(i + k) % 8], "score": 1 - k / 4} for k in range(3)],
            "seed": i,
            "steps": steps,
            "width": size,
            "height": size,
        }
        response = await http.post(f"{url}/generate", json=body)
        response.raise_for_status()
        return len(response.json()["images"])

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=32, help="requests per mode")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=256, help="width and height, pixels")
    args = parser.parse_args()
    profile = os.environ.setdefault("MARKETPLACE_PROFILE", "smoke")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    print(
        f"art throughput: profile {profile}, {args.clients} clients, {args.requests} "
        f"requests per mode, {args.size}x{args.size}, {args.steps} steps, "
        f"{os.cpu_count()} CPUs"
    )
    results = compare_batching(
        "bentos.art.service:Art",
        "ART_BATCHING",
        sender(args.steps, args.size),
        args.clients,
        args.requests,
    )
    print_comparison(results, "images")


if __name__ == "__main__":
    main()
