"""Genre service throughput: adaptive batching on vs off, same model, same clips, one run.

N concurrent clients send MP3 clips to ``POST /detect``; the same service is started twice
with ``GENRE_BATCHING=true`` and ``false`` (windows of concurrent requests share one
forward pass, or each request runs its own). Prints requests/s, windows/s, p50 and p95
latency for each, and the ratios.

    .venv/bin/python bench/genre_throughput.py --clients 16 --requests 96 --seconds 30

Uses ``GENRE_MODEL_TAG`` (default ``genre:latest``); with no model in the store it trains
the smoke model first. Random or synthetic weights time the same as trained ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from loadgen import compare_batching, print_comparison


def make_clips(count: int, seconds: float) -> list[bytes]:
    from marketplace.contracts.schemas import GENRES
    from training.clips import write_clip

    with tempfile.TemporaryDirectory() as tmp:
        return [
            write_clip(
                Path(tmp) / f"{i}.mp3", GENRES[i % len(GENRES)], seconds, seed=123, index=i
            ).read_bytes()
            for i in range(count)
        ]


def sender(clips: list[bytes]):
    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        response = await http.post(
            f"{url}/detect", files={"audio": ("clip.mp3", clips[i % len(clips)])}
        )
        response.raise_for_status()
        return int(response.json()["windows"])

    return send


def _ms(fn, repeat: int = 10) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def stage_breakdown(clip: bytes, tag: str, big_batch: int = 96) -> dict[str, float]:
    """Where one request's time goes, measured in this process on the same model."""
    import bentoml
    import torch

    from bentos.common.audio import decode_audio
    from bentos.genre.features import LogMel, window_features
    from bentos.genre.model_files import GenreModel

    model = GenreModel.load(bentoml.models.get(tag).path)
    fc = model.config.features
    extractor = LogMel(fc)
    decoded = decode_audio(clip, sample_rate=fc.sample_rate, channels=fc.channels)
    features = window_features(decoded.samples, fc, extractor=extractor)
    many = torch.from_numpy(np.resize(features, (big_batch, *features.shape[1:])))
    one = torch.from_numpy(features)
    with torch.inference_mode():
        per_request = _ms(lambda: model.network(one))
        batched = _ms(lambda: model.network(many))
    return {
        "decode_ms": _ms(
            lambda: decode_audio(clip, sample_rate=fc.sample_rate, channels=fc.channels)
        ),
        "features_ms": _ms(lambda: window_features(decoded.samples, fc, extractor=extractor)),
        "windows": len(features),
        "forward_ms_per_window_request_batch": per_request / len(features),
        "forward_ms_per_window_big_batch": batched / big_batch,
        "big_batch": big_batch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=96, help="requests per mode")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each clip")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    os.environ.setdefault("MARKETPLACE_PROFILE", "smoke")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    from bentos.genre.settings import GenreSettings
    from training.smoke import ensure_smoke_model

    tag = GenreSettings().model_tag
    if tag == "genre:latest":
        ensure_smoke_model()
    clips = make_clips(8, args.seconds)
    print(
        f"genre throughput: model {tag}, {args.clients} clients, {args.requests} requests "
        f"of {args.seconds:g} s MP3 clips per mode, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()})"
    )

    results = compare_batching(
        "bentos.genre.service:Genre",
        "GENRE_BATCHING",
        sender(clips),
        args.clients,
        args.requests,
        env={"GENRE_MODEL_TAG": tag},
    )
    print_comparison(results, "windows")
    cost = stage_breakdown(clips[0], tag)
    results["breakdown"] = cost
    print(
        f"\nwhere one request goes ({cost['windows']} windows): decode {cost['decode_ms']:.1f} ms, "
        f"features {cost['features_ms']:.1f} ms, network "
        f"{cost['forward_ms_per_window_request_batch']:.2f} ms/window alone vs "
        f"{cost['forward_ms_per_window_big_batch']:.2f} ms/window in a batch of "
        f"{cost['big_batch']}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "model": tag, "results": results},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
