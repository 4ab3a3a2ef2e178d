"""The decision models' forward passes, numpy only (the service needs no torch):
probabilities of every tag from a track's features, then a threshold per tag.

- ``thresholds``: the challenge's benchmark; the "probability" is the tag's own score.
- ``linear``: one logistic regression per tag over all the features (stacking), as one
  weight matrix.
- ``mlp``: a small network over all the features, added to a per-tag affine map of the
  tag's own logit (it starts from "trust the tag's own score" and learns corrections).
"""

from __future__ import annotations

import numpy as np

METHODS = ("thresholds", "linear", "mlp")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def probabilities(
    method: str, arrays: dict[str, np.ndarray], x: np.ndarray, scores: np.ndarray
) -> np.ndarray:
    """(n, T) of features ``x`` (n, F) and raw tag scores (n, T)."""
    if method == "thresholds":
        return np.asarray(scores, dtype=np.float64)
    z = (x - arrays["mean"]) / arrays["std"]
    if method == "linear":
        return sigmoid(z @ arrays["weight"].T + arrays["bias"])
    if method == "mlp":
        own = x[:, : arrays["own_scale"].shape[0]]  # the tag logits come first
        hidden = np.maximum(z @ arrays["w1"].T + arrays["b1"], 0.0)
        return sigmoid(own * arrays["own_scale"] + arrays["own_shift"]
                       + hidden @ arrays["w2"].T + arrays["b2"])  # fmt: skip
    raise ValueError(f"unknown method {method!r} (one of {', '.join(METHODS)})")


def decide(probability: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    return probability > thresholds
