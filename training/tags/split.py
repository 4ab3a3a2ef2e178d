"""The 64/16/20 split of the labelled tracks, stratified on every tag at once
(iterative stratification, Sechidis et al. 2011, as the ``iterative-stratification``
package implements it), seeded: each tag's share of positives is about the same in the
three splits, so rare tags are in all three."""

from __future__ import annotations

import numpy as np


def split_tracks(
    labels: np.ndarray, val_fraction: float, test_fraction: float, seed: int
) -> np.ndarray:
    """Each track's split: an array of "train", "val" and "test"."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    n = len(labels)
    rows = np.zeros((n, 1))
    outer = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    rest, test = next(outer.split(rows, labels))
    inner = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=val_fraction / (1 - test_fraction), random_state=seed + 1
    )
    train, val = next(inner.split(rows[rest], labels[rest]))
    where = np.empty(n, dtype=object)
    where[rest[train]], where[rest[val]], where[test] = "train", "val", "test"
    return where.astype(str)
