"""The challenge's metric and what the evaluation reports with it.

Weighted F1 (scikit-learn's ``f1_score(average="weighted", zero_division=0)`` over the
predicted tags: each tag's F1 weighted by its number of true positives), computed from
per-tag counts so that a paired bootstrap over tracks is a few matrix products; and the
per-tag thresholds that maximise each tag's F1 (the challenge's benchmark), tuned on the
rows they are given and no other.
"""

from __future__ import annotations

import numpy as np


def weighted_f1_from_counts(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, support: np.ndarray
) -> np.ndarray:
    """Weighted F1 of per-tag counts (..., T): each tag's F1 weighted by its support."""
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(np.shape(denominator)), where=denominator > 0)
    total = support.sum(axis=-1)
    return np.where(total > 0, (f1 * support).sum(axis=-1) / np.maximum(total, 1), 0.0)


def weighted_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    y, p = np.asarray(truth, bool), np.asarray(predicted, bool)
    counts = [(y & p).sum(0), (~y & p).sum(0), (y & ~p).sum(0), y.sum(0)]
    return float(weighted_f1_from_counts(*(c.astype(np.float64) for c in counts)))


def best_thresholds(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per tag, the threshold t (decide ``score > t``) that maximises that tag's F1 on
    these rows: an exact search between consecutive distinct scores. A tag with no
    positive here is never decided (t = inf)."""
    n, t = scores.shape
    thresholds = np.full(t, np.inf)
    for j in range(t):
        positive = truth[:, j].astype(bool)
        count = int(positive.sum())
        if count == 0:
            continue
        order = np.argsort(-scores[:, j], kind="stable")
        ranked = scores[order, j]
        tp = np.cumsum(positive[order])
        f1 = 2 * tp / (np.arange(1, n + 1) + count)
        f1[:-1][ranked[1:] == ranked[:-1]] = -1.0  # never cut inside a tie
        best = int(f1.argmax())
        if f1[best] > 0:
            thresholds[j] = (ranked[best] + ranked[best + 1]) / 2 if best + 1 < n else -np.inf
    return thresholds


def paired_bootstrap(
    truth: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Weighted F1 of decisions ``b`` minus ``a`` on the same tracks, with a (1 - alpha)
    confidence interval from resampling the tracks (the supports are recomputed in each
    resample), and the share of resamples in which ``b`` does not beat ``a``."""
    y, pa, pb = (np.asarray(m, bool) for m in (truth, a, b))
    parts = {name: m.astype(np.float32) for name, m in {
        "y": y, "tpa": y & pa, "fpa": ~y & pa, "fna": y & ~pa,
        "tpb": y & pb, "fpb": ~y & pb, "fnb": y & ~pb}.items()}  # fmt: skip

    def difference(weights: np.ndarray) -> np.ndarray:
        s = {k: weights @ v for k, v in parts.items()}
        return (weighted_f1_from_counts(s["tpb"], s["fpb"], s["fnb"], s["y"])
                - weighted_f1_from_counts(s["tpa"], s["fpa"], s["fna"], s["y"]))  # fmt: skip

    n = len(y)
    point = float(difference(np.ones((1, n), np.float32))[0])
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, resamples, 100):
        rows = rng.integers(0, n, size=(min(100, resamples - start), n))
        weights = np.stack([np.bincount(r, minlength=n) for r in rows]).astype(np.float32)
        draws.append(difference(weights))
    d = np.concatenate(draws)
    low, high = np.quantile(d, [alpha / 2, 1 - alpha / 2])
    return {"difference": point, "low": float(low), "high": float(high),
            "not_better": float((d <= 0).mean())}  # fmt: skip
