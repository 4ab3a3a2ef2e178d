"""Stage evaluate: score the trained model on the test split, per track, as served.

Each track's windows are averaged exactly like the service does. Writes
``dvclive/evaluate/metrics.json`` (accuracy, macro-F1, per-genre precision, recall, F1
and support, window accuracy) and the confusion matrix that ``dvc plots show`` renders.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from dvclive import Live
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from bentos.genre.model_files import GenreModel, track_probabilities
from training.featurize import load_split
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)


def score(labels: tuple[str, ...], truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1 over the genres present in ``truth``, and per-genre figures."""
    present = np.unique(truth)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, pred, labels=np.arange(len(labels)), zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(truth, pred)),
        "f1_macro": float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)),
        "per_genre": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
            if support[i] > 0
        },
    }


def run(params: Params, layout: Layout) -> dict[str, Any]:
    model = GenreModel.load(layout.model_dir)
    labels = model.config.labels
    x, y, track = load_split(layout, "test")
    window_probs = model.window_probabilities(x)
    tracks = np.unique(track)
    truth = np.array([y[track == t][0] for t in tracks])
    pred = np.array([track_probabilities(window_probs[track == t]).argmax() for t in tracks])
    metrics = score(labels, truth, pred)
    metrics["window_accuracy"] = float((window_probs.argmax(1) == y).mean())
    metrics["test_tracks"] = len(tracks)

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
        len(tracks),
        metrics["accuracy"],
        metrics["f1_macro"],
    )
    return metrics


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
