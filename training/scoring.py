"""Scores of the genre model, per track as the service answers (windows averaged)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from bentos.genre.model_files import track_probabilities


def track_level(
    window_probs: np.ndarray, y: np.ndarray, track: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted genre index of each track, from its windows' probabilities."""
    tracks = np.unique(track)
    truth = np.array([y[track == t][0] for t in tracks])
    pred = np.array([track_probabilities(window_probs[track == t]).argmax() for t in tracks])
    return truth, pred


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the genres present in ``truth`` (a missing genre is not a zero)."""
    return float(f1_score(truth, pred, labels=np.unique(truth), average="macro", zero_division=0))


def score(labels: tuple[str, ...], truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, and precision, recall, F1 and support of each present genre."""
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, pred, labels=np.arange(len(labels)), zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(truth, pred)),
        "f1_macro": macro_f1(truth, pred),
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
