"""Segmentation metrics from one confusion matrix: IoU and Dice per category and their
means, pixel accuracy. Categories absent from both truth and prediction are left out of
the means (their IoU is undefined), as Cityscapes' own evaluation does."""

from __future__ import annotations

import numpy as np

from bentos.segment.categories import CATEGORIES

K = len(CATEGORIES)


def confusion(truth: np.ndarray, predicted: np.ndarray, k: int = K) -> np.ndarray:
    """(k, k) counts: row the true category, column the predicted one."""
    index = truth.astype(np.int64).ravel() * k + predicted.astype(np.int64).ravel()
    return np.bincount(index, minlength=k * k).reshape(k, k)


def scores(matrix: np.ndarray) -> dict[str, object]:
    """mIoU, mean Dice, pixel accuracy, and per-category IoU and Dice (None: absent)."""
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    union = tp + fp + fn
    present = union > 0
    iou = np.where(present, tp / np.maximum(union, 1), np.nan)
    dice = np.where(present, 2 * tp / np.maximum(2 * tp + fp + fn, 1), np.nan)
    total = matrix.sum()
    return {
        "miou": float(np.nanmean(iou)) if present.any() else 0.0,
        "dice": float(np.nanmean(dice)) if present.any() else 0.0,
        "pixel_accuracy": float(tp.sum() / total) if total else 0.0,
        "iou": {
            c: (None if np.isnan(v) else float(v)) for c, v in zip(CATEGORIES, iou, strict=True)
        },
        "dice_per_category": {
            c: (None if np.isnan(v) else float(v)) for c, v in zip(CATEGORIES, dice, strict=True)
        },
    }
