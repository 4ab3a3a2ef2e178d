"""The Mewo challenge's files: the tagger's scores (``train_X_*.csv``: a row id, then one
column per tag and per category), the true tags (``train_y_*.csv``: a row id, then one
column per predicted tag) and the table of each tag's class and category
(``mewo-labels.csv``: one column per tag, rows ``class`` and ``category``). Read as the
participants' code reads them (``index_col=0``); nothing is assumed that the files do not
say: the tags are the label file's columns, the categories the score columns that are
not tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bentos.tags.features import Vocabulary


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one {pattern} in {folder}, found {len(found)}")
    return found[0]


def read(folder: Path, inputs: str, labels: str, table: str):
    """(vocabulary, tag scores (n, T), category scores (n, K), labels (n, T) uint8)."""
    import pandas as pd

    x = pd.read_csv(_one(folder, inputs), index_col=0)
    y = pd.read_csv(_one(folder, labels), index_col=0)
    classes = pd.read_csv(folder / table, index_col=0)
    tags = list(y.columns)
    if not x.index.equals(y.index):
        raise ValueError("the scores and the labels are not of the same tracks, in order")
    missing = [t for t in tags if t not in x.columns or t not in classes.columns]
    if missing:
        raise ValueError(f"tags without scores or without a class: {missing[:5]}")
    categories = [c for c in x.columns if c not in set(tags)]
    vocab = Vocabulary(
        tags=tags,
        tag_class=[str(classes.loc["class", t]) for t in tags],
        tag_category=[str(classes.loc["category", t]) for t in tags],
        categories=categories,
    )
    return (vocab, x[tags].to_numpy(np.float32), x[categories].to_numpy(np.float32),
            y.to_numpy(np.uint8))  # fmt: skip
