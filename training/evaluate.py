"""Stage evaluate: score the trained model on the test split, per track, as served.

Each track's windows are averaged exactly like the service does. Writes
``dvclive/evaluate/metrics.json`` (accuracy, macro-F1, per-genre precision, recall, F1
and support, window accuracy) and the confusion matrix that ``dvc plots show`` renders.
"""

from __future__ import annotations

import logging
from typing import Any

from dvclive import Live

from bentos.genre.model_files import GenreModel
from training.datasets import load_split
from training.layout import Layout
from training.params import Params
from training.scoring import score, track_level

log = logging.getLogger(__name__)


def run(params: Params, layout: Layout) -> dict[str, Any]:
    model = GenreModel.load(layout.model_dir)
    labels = model.config.labels
    x, y, track = load_split(layout, "test")
    window_probs = model.window_probabilities(x)
    truth, pred = track_level(window_probs, y, track)
    metrics = score(labels, truth, pred)
    metrics["window_accuracy"] = float((window_probs.argmax(1) == y).mean())
    metrics["test_tracks"] = len(truth)

    with Live(dir=str(layout.eval_live_dir), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        live.summary.update(metrics)
        live.log_sklearn_plot(
            "confusion_matrix",
            [labels[i] for i in truth],
            [labels[i] for i in pred],
            name="confusion_matrix.json",
        )
    log.info(
        "evaluate: %d test tracks, accuracy %.3f, macro-F1 %.3f",
        len(truth),
        metrics["accuracy"],
        metrics["f1_macro"],
    )
    return metrics


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
