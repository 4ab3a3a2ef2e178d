"""Segment service throughput: adaptive batching on vs off, same model, same photos, one run.

N concurrent clients send street photos to ``POST /segment``; the same service is started
twice with ``SEGMENT_BATCHING=true`` and ``false`` (the photos of concurrent requests share
one forward pass, or each request runs its own). Prints images/s, p50 and p95 latency for
each, and the ratios.

    .venv/bin/python bench/segment_throughput.py --size 256x512 --clients 8 --requests 48
    .venv/bin/python bench/segment_throughput.py --size 1024x2048  # on a GPU machine

The model is the U-Net of params.yaml with random weights at the given input size,
registered in a temporary model store: random weights time the same as trained ones. The
service runs it on the GPU when there is one (``SEGMENT_DEVICE``, default ``auto``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import tempfile
from pathlib import Path

import httpx
from loadgen import compare_batching, print_comparison


def photos(count: int, height: int, width: int) -> list[bytes]:
    from PIL import Image

    from training.segment.synthetic import scene

    out = []
    for i in range(count):
        buffer = io.BytesIO()
        Image.fromarray(scene(500 + i, height, width)[0]).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def sender(images: list[bytes]):
    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        response = await http.post(
            f"{url}/segment", files={"image": ("street.jpg", images[i % len(images)])}
        )
        response.raise_for_status()
        return 1

    return send


def random_model(height: int, width: int) -> str:
    import torch

    from bentos.segment.model_files import SegmentConfig, register, save
    from bentos.segment.network import build
    from training.params import load_params

    spec = load_params(Path(__file__).resolve().parents[1] / "params.yaml").segment.network_spec()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        save(tmp, build(spec), SegmentConfig(spec=spec, height=height, width=width))
        return register(tmp, "segment-bench", labels={"trained": "no"}, metadata={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="256x512", help="the model's input, HxW")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48, help="requests per mode")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))

    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    with tempfile.TemporaryDirectory(prefix="segment-bench-") as home:
        os.environ["BENTOML_HOME"] = home
        tag = random_model(height, width)
        images = photos(8, height, width)
        print(f"segment throughput: U-Net (random weights) at {height}x{width}, "
              f"{args.clients} clients, {args.requests} requests per mode, "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")  # fmt: skip
        results = compare_batching(
            "bentos.segment.service:Segment", "SEGMENT_BATCHING", sender(images),
            args.clients, args.requests,
            env={"SEGMENT_MODEL_TAG": tag, "MARKETPLACE_PROFILE": "full", "BENTOML_HOME": home},
        )  # fmt: skip
    print_comparison(results, "images")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
