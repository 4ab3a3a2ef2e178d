"""What the decision models read of a track: numpy only, so the service and training
compute the same features.

The tagger's scores as logits (tags, then categories), and summaries that let a model
see what no single score shows: the mean logit of each category's tags, of each class's,
and of the whole track (a track whose every score is high was probably mixed loud, not
tagged with everything).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-4


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Vocabulary:
    tags: list[str]
    tag_class: list[str]
    tag_category: list[str]
    categories: list[str]  # the category columns: inputs, never decided

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.tag_class))

    def members(self, of: list[str], name: str) -> np.ndarray:
        return np.flatnonzero(np.array(of) == name)


def features(scores: np.ndarray, category_scores: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """(n, F) float32: [tag logits | category logits | per-category, per-class and track
    means of the tag logits]."""
    tags = logit(scores)
    by_category = [tags[:, vocab.members(vocab.tag_category, c)].mean(axis=1)
                   for c in sorted(set(vocab.tag_category))]  # fmt: skip
    by_class = [tags[:, vocab.members(vocab.tag_class, c)].mean(axis=1) for c in vocab.classes]
    summaries = np.stack([*by_category, *by_class, tags.mean(axis=1)], axis=1)
    return np.hstack([tags, logit(category_scores), summaries]).astype(np.float32)
