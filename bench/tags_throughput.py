"""Tags service throughput: adaptive batching on vs off, same model, same tracks, one run.

N concurrent clients each send one track's scores to ``POST /decide`` (the way a
catalogue's ingest calls it, track by track); the same service is started twice with
``TAGS_BATCHING=true`` and ``false`` (the tracks of concurrent requests share one model
call, or each request runs its own). Prints tracks/s, p50 and p95 latency for each, and
the ratios. ``--per-request`` sends several tracks in each request instead.

    .venv/bin/python bench/tags_throughput.py --clients 16 --requests 800

The model is the residual network (``mlp``) trained for a few epochs on a synthetic
catalogue the Mewo challenge's size (248 tags: 90 genres, 112 instruments, 46 moods; 39
categories), registered in a temporary model store: its decisions are synthetic, its
cost is the real one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import httpx
from loadgen import compare_batching, print_comparison

MEWO_SIZE = {"tags_per_class": [90, 112, 46], "categories_per_class": 13}


def train_model(tracks: int) -> tuple[str, list[dict[str, float]]]:
    """A registered mlp decision model of the challenge's size, and tracks to send."""
    from training.layout import Layout
    from training.params import load_params
    from training.tags import evaluate, prepare, register, train

    overrides = {
        "data": {"synthetic": {"tracks": tracks, **MEWO_SIZE}},
        "models": {"methods": ["thresholds", "mlp"], "folds": 2, "mlp": {"epochs": 3}},
        "evaluate": {"resamples": 100},
        "registry_name": "tags-bench",
    }
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml", tags=overrides)
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp))
        folder = prepare.prepare(params, layout)
        train.train(params, layout)
        (train.chosen_json(layout)).write_text(json.dumps({"method": "mlp"}))  # the costlier
        evaluate.run(params, layout)
        tag = register.run(params, layout)
        import numpy as np

        data = np.load(folder / "tracks.npz")
        vocab = json.loads((folder / "vocabulary.json").read_text())
        columns = [*vocab["tags"], *vocab["categories"]]
        rows = np.hstack([data["scores"][:64], data["category_scores"][:64]])
    return tag, [dict(zip(columns, map(float, row), strict=True)) for row in rows]


def sender(tracks: list[dict[str, float]], per_request: int):
    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        batch = [tracks[(i * per_request + k) % len(tracks)] for k in range(per_request)]
        response = await http.post(f"{url}/decide", json={"tracks": batch})
        response.raise_for_status()
        return per_request

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=800, help="requests per mode")
    parser.add_argument("--per-request", type=int, default=1, help="tracks in each request")
    parser.add_argument("--train-tracks", type=int, default=3000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    with tempfile.TemporaryDirectory(prefix="tags-bench-") as home:
        os.environ["BENTOML_HOME"] = home
        tag, tracks = train_model(args.train_tracks)
        print(f"tags throughput: mlp decisions over 248 tags + 39 categories, "
              f"{args.per_request} track(s) a request, {args.clients} clients, "
              f"{args.requests} requests per mode, "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")  # fmt: skip
        results = compare_batching(
            "bentos.tags.service:Tags", "TAGS_BATCHING", sender(tracks, args.per_request),
            args.clients, args.requests,
            env={"TAGS_MODEL_TAG": tag, "MARKETPLACE_PROFILE": "full", "BENTOML_HOME": home},
        )  # fmt: skip
    print_comparison(results, "tracks")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
