"""How action segmentation and detection are scored, as the literature on MERL Shopping
scores them (background excluded from segments and detections):

- frame accuracy: the share of frames given their true class (background included);
- segmental F1@k (Lea et al. 2017, as MS-TCN computes it): predicted segments matched in
  time order to the same-class true segment of highest IoU (at least k, each true segment
  once), true and false positives summed over every video, then one F1;
- midpoint-hit mAP (MPII Cooking's criterion, used for MERL Shopping): a detection is a
  hit when its midpoint lies in a free true segment of its class; per class, detections of
  every video ranked by confidence, non-interpolated AP; the mean over the classes present.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bentos.actions.segments import runs

BACKGROUND = 0


def frame_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float((np.asarray(truth) == np.asarray(predicted)).mean())


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    return np.bincount(classes * np.asarray(truth) + np.asarray(predicted),
                       minlength=classes * classes).reshape(classes, classes)  # fmt: skip


def _foreground(labels: np.ndarray) -> list[tuple[int, int, int]]:
    return [r for r in runs(np.asarray(labels)) if r[0] != BACKGROUND]


def f1_counts(truth: np.ndarray, predicted: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(tp, fp, fn) of one video's frame labels at IoU ``threshold``."""
    true, pred = _foreground(truth), _foreground(predicted)
    used = [False] * len(true)
    tp = fp = 0
    for label, s, e in pred:
        ious = [
            (min(e, te) - max(s, ts)) / (max(e, te) - min(s, ts)) if label == tl else -1.0
            for tl, ts, te in true
        ]
        j = int(np.argmax(ious)) if ious else -1
        if j >= 0 and ious[j] >= threshold and not used[j]:
            tp += 1
            used[j] = True
        else:
            fp += 1
    return tp, fp, len(true) - sum(used)


def segment_f1(
    videos: Sequence[tuple[np.ndarray, np.ndarray]], thresholds: Sequence[float]
) -> dict[str, float]:
    """F1@k for each k, over (truth, predicted) frame labels of every video."""
    out = {}
    for k in thresholds:
        tp, fp, fn = (sum(c) for c in zip(*(f1_counts(t, p, k) for t, p in videos), strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[f"f1@{k:g}"] = round(f1, 4)
    return out


def midpoint_map(
    videos: Sequence[tuple[np.ndarray, list[tuple[int, int, int, float]]]], classes: int
) -> dict[str, float | dict[int, float]]:
    """mAP of detections ``(label, start, end, confidence)`` against each video's true
    frame labels; and each class's AP."""
    per_class: dict[int, float] = {}
    for c in range(classes):
        if c == BACKGROUND:
            continue
        scored: list[tuple[float, bool]] = []
        total = 0
        for truth, detections in videos:
            true = [(s, e) for label, s, e in _foreground(truth) if label == c]
            total += len(true)
            free = [True] * len(true)
            mine = sorted((d for d in detections if d[0] == c), key=lambda d: -d[3])
            for _, s, e, confidence in mine:
                middle = (s + e - 1) / 2
                hit = next((j for j, (ts, te) in enumerate(true)
                            if free[j] and ts <= middle < te), None)  # fmt: skip
                if hit is not None:
                    free[hit] = False
                scored.append((confidence, hit is not None))
        if total == 0:
            continue
        scored.sort(key=lambda item: -item[0])
        hits = np.array([h for _, h in scored], dtype=bool)
        tp = np.cumsum(hits)
        precision = tp / np.arange(1, len(hits) + 1)
        per_class[c] = round(float(precision[hits].sum() / total), 4) if len(hits) else 0.0
    mean = float(np.mean(list(per_class.values()))) if per_class else 0.0
    return {"map": round(mean, 4), "ap": per_class}
