"""Stage featurize: decode every track with the serving decoder and cut log-mel windows.

Train windows overlap (``featurize.train_hop_seconds``); val and test windows use the
serving hop, so evaluation sees a track exactly as the service does. A track that cannot
be decoded is skipped and listed in ``skipped.csv`` with the reason. Outputs
``data/features/{train,val,test}.npz`` with ``x`` (float16 features), ``y`` (genre index)
and ``track`` (track index within the split).
"""

from __future__ import annotations

import csv
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bentos.common.audio import decode_audio
from bentos.common.errors import ClientError
from bentos.common.settings import AudioLimits
from bentos.genre.features import FeatureConfig, LogMel, window_features
from marketplace.contracts.schemas import GENRES
from training.datasets import SPLITS, Track, read_tracks
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)
# Training data is trusted and may be long: no upload limits here.
TRAINING_LIMITS = AudioLimits(max_upload_mb=4096, max_seconds=3 * 3600)


def track_features(
    path: Path, config: FeatureConfig, hop_seconds: float, extractor: LogMel
) -> np.ndarray:
    decoded = decode_audio(
        path, sample_rate=config.sample_rate, channels=config.channels, limits=TRAINING_LIMITS
    )
    return window_features(decoded.samples, config, hop_seconds=hop_seconds, extractor=extractor)


def run(params: Params, layout: Layout) -> dict[str, int]:
    config = params.features
    extractor = LogMel(config)
    tracks = read_tracks(layout.tracks_csv)
    layout.features_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[tuple[Track, str]] = []
    counts = {}
    for split in SPLITS:
        items = [t for t in tracks if t.split == split]
        hop = params.featurize.train_hop_seconds if split == "train" else config.window_hop_seconds

        def one(t: Track, hop: float = hop) -> np.ndarray | str:
            try:
                return track_features(layout.resolve(t.path), config, hop, extractor)
            except ClientError as exc:
                return exc.detail

        xs, ys, idx = [], [], []
        with ThreadPoolExecutor(params.featurize.workers) as pool:
            for i, (t, out) in enumerate(zip(items, pool.map(one, items), strict=True)):
                if isinstance(out, str):
                    skipped.append((t, out))
                    continue
                xs.append(out.astype(np.float16))
                ys.append(np.full(len(out), GENRES.index(t.genre), dtype=np.int64))
                idx.append(np.full(len(out), i, dtype=np.int64))
                if (i + 1) % 100 == 0:
                    log.info("featurize %s: %d/%d tracks", split, i + 1, len(items))
        if not xs:
            raise ValueError(f"no decodable track in split {split!r}")
        x = np.concatenate(xs)
        np.savez(
            layout.features_dir / f"{split}.npz",
            x=x,
            y=np.concatenate(ys),
            track=np.concatenate(idx),
        )
        counts[split] = len(x)
        log.info("featurize %s: %d windows from %d tracks", split, len(x), len(xs))
    with (layout.features_dir / "skipped.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["track_id", "path", "reason"])
        writer.writerows((t.track_id, t.path, reason) for t, reason in skipped)
    if skipped:
        log.warning("featurize: skipped %d undecodable tracks (see skipped.csv)", len(skipped))
    return counts


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
