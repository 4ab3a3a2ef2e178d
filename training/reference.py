"""Stage reference: the drift reference, the training split as the service would log it.

For every training track: the same audio summary the genre service logs per request
(``bentos.genre.monitoring``), and the trained model's prediction summary computed the
way the service computes it (serving windows, averaged). Writes
``data/reference/genre.csv``; the drift report compares what production logs with it.
"""

from __future__ import annotations

import csv
import logging
from concurrent.futures import ThreadPoolExecutor

from bentos.common.audio import decode_audio
from bentos.common.errors import ClientError
from bentos.genre.features import LogMel, window_features
from bentos.genre.model_files import GenreModel, track_probabilities
from bentos.genre.monitoring import COLUMNS, audio_summary, prediction_summary
from training.datasets import Track, read_tracks
from training.featurize import TRAINING_LIMITS
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)


def run(params: Params, layout: Layout) -> int:
    model = GenreModel.load(layout.model_dir)
    config = model.config.features
    extractor = LogMel(config)
    labels = model.config.labels
    tracks = [t for t in read_tracks(layout.tracks_csv) if t.split == "train"]

    def one(track: Track) -> dict[str, object] | None:
        try:
            decoded = decode_audio(
                layout.resolve(track.path),
                sample_rate=config.sample_rate,
                channels=config.channels,
                limits=TRAINING_LIMITS,
            )
        except ClientError as exc:
            log.warning("reference: skipping %s: %s", track.track_id, exc.detail)
            return None
        windows = window_features(decoded.samples, config, extractor=extractor)
        probs = track_probabilities(model.window_probabilities(windows))
        prediction = prediction_summary(dict(zip(labels, map(float, probs), strict=True)))
        return {
            "track_id": track.track_id,
            **audio_summary(decoded.samples, config.sample_rate),
            **prediction,
        }

    with ThreadPoolExecutor(params.featurize.workers) as pool:
        rows = [row for row in pool.map(one, tracks) if row is not None]
    if not rows:
        raise ValueError("no decodable training track for the drift reference")
    layout.reference_csv.parent.mkdir(parents=True, exist_ok=True)
    with layout.reference_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=("track_id", *COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    log.info("reference: %d training tracks -> %s", len(rows), layout.reference_csv)
    return len(rows)


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
