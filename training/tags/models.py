"""Fitting the decision models (torch on the CPU; what is kept is numpy arrays that
``bentos.tags.decision`` runs), and their thresholds.

Every threshold is tuned for each tag's own F1 on predictions the model did not fit:
out-of-fold predictions over the tuning rows (k folds stratified on every tag), then the
model is refitted on all of them. The baseline's thresholds are tuned on its raw scores.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bentos.tags.decision import probabilities
from training.tags.scoring import best_thresholds


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), x.std(axis=0) + 1e-6


def fit_linear(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 200) -> dict[str, np.ndarray]:
    """One L2-penalised logistic regression per tag, all at once (full-batch L-BFGS)."""
    mean, std = _standardise(x)
    z = torch.from_numpy((x - mean) / std).float()
    target = torch.from_numpy(y).float()
    layer = nn.Linear(z.shape[1], y.shape[1])
    nn.init.zeros_(layer.weight)  # convex: start from zero, so every fit is the same
    nn.init.zeros_(layer.bias)
    optimiser = torch.optim.LBFGS(layer.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(layer(z), target)
        loss = loss + l2 * layer.weight.pow(2).sum() / len(z)
        loss.backward()
        return loss

    optimiser.step(closure)
    return {"mean": mean, "std": std, "weight": layer.weight.detach().numpy().astype(np.float64),
            "bias": layer.bias.detach().numpy().astype(np.float64)}  # fmt: skip


class _Residual(nn.Module):
    def __init__(self, features: int, tags: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.tags = tags
        self.own_scale = nn.Parameter(torch.ones(tags))
        self.own_shift = nn.Parameter(torch.zeros(tags))
        self.hidden = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.out = nn.Linear(hidden, tags)
        nn.init.zeros_(self.out.weight)  # starts as the per-tag affine map alone
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        own = x[:, : self.tags]
        return own * self.own_scale + self.own_shift + self.out(self.hidden(z))


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    hidden: int,
    dropout: float,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    mean, std = _standardise(x)
    raw = torch.from_numpy(x).float()
    z = torch.from_numpy((x - mean) / std).float()
    target = torch.from_numpy(y).float()
    net = _Residual(x.shape[1], y.shape[1], hidden, dropout)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        for rows in torch.randperm(len(z), generator=generator).split(batch_size):
            optimiser.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(
                net(raw[rows], z[rows]), target[rows]
            )
            loss.backward()
            optimiser.step()
    first, last = net.hidden[0], net.out
    return {"mean": mean, "std": std,
            "own_scale": net.own_scale.detach().numpy().astype(np.float64),
            "own_shift": net.own_shift.detach().numpy().astype(np.float64),
            "w1": first.weight.detach().numpy().astype(np.float64),
            "b1": first.bias.detach().numpy().astype(np.float64),
            "w2": last.weight.detach().numpy().astype(np.float64),
            "b2": last.bias.detach().numpy().astype(np.float64)}  # fmt: skip


def fit(method: str, x: np.ndarray, y: np.ndarray, options: dict) -> dict[str, np.ndarray]:
    if method == "thresholds":
        return {}
    if method == "linear":
        return fit_linear(x, y, options["l2"], options["steps"])
    if method == "mlp":
        return fit_mlp(x, y, **options)
    raise ValueError(f"unknown method {method!r}")


def fit_with_thresholds(
    method: str,
    x: np.ndarray,
    scores: np.ndarray,
    y: np.ndarray,
    options: dict,
    folds: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The model fitted on every row given, thresholds tuned on its out-of-fold
    predictions over those rows (the baseline: on the raw scores), and those predictions."""
    if method == "thresholds":
        return {}, best_thresholds(scores, y), np.asarray(scores, dtype=np.float64)
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    oof = np.zeros(y.shape)
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, held in splitter.split(x, y):
        arrays = fit(method, x[fit_rows], y[fit_rows], options)
        oof[held] = probabilities(method, arrays, x[held], scores[held])
    return fit(method, x, y, options), best_thresholds(oof, y), oof
