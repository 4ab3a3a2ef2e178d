"""Losses as a parameter: cross-entropy, soft Dice, or their sum; class weights for the
rare categories (people, poles and signs cover a few per cent of a street) in the
cross-entropy. Soft Dice already gives every category an equal share (what mean IoU
rewards), so weighting it too would count the rare ones twice and fatten them."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

LOSSES = ("ce", "dice", "ce+dice")


def class_weights(pixel_counts: np.ndarray, power: float = 0.5, cap: float = 10.0) -> torch.Tensor:
    """Weights ~ 1 / frequency**power, mean 1 over the categories present, capped; absent
    categories get weight 0 (nothing to learn from)."""
    counts = pixel_counts.astype(np.float64)
    present = counts > 0
    freq = counts / max(counts.sum(), 1)
    weights = np.zeros_like(freq)
    weights[present] = 1.0 / freq[present] ** power
    weights[present] /= weights[present].mean()
    return torch.tensor(np.minimum(weights, cap), dtype=torch.float32)


def dice_loss(
    logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """1 - soft Dice, averaged over the categories (weighted when given)."""
    probabilities = logits.softmax(dim=1)
    onehot = F.one_hot(target.long(), logits.shape[1]).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    intersection = (probabilities * onehot).sum(dims)
    total = probabilities.sum(dims) + onehot.sum(dims)
    dice = (2 * intersection + 1.0) / (total + 1.0)
    if weights is None:
        return 1 - dice.mean()
    w = weights.to(logits.device)
    return 1 - (dice * w).sum() / w.sum().clamp(min=1e-6)


def loss(
    name: str, logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r} (one of {', '.join(LOSSES)})")
    total = logits.new_zeros(())
    if "ce" in name.split("+"):
        total = total + F.cross_entropy(
            logits, target.long(), weight=None if weights is None else weights.to(logits.device)
        )
    if "dice" in name.split("+"):
        total = total + dice_loss(logits, target, None)
    return total
