"""A synthetic Mewo-like catalogue: a tagger's scores for every tag of three classes
(genres, instruments, moods) and for the categories that group them, and the true tags.

The problem is built so that per-tag thresholds are not enough, as the challenge's tags
are not: hidden styles make tags co-occur (a style lifts one or two categories of each
class and lowers the others), an "energy" drives moods and some instruments, and a few
tags carry most of the activity (Zipf base rates, a Zipf style prior). The tagger's score
of a tag is its evidence plus noise shared by the whole track (mix, loudness) and by each
class, plus the tag's own noise, then miscalibrated by a monotone map of its own. A
threshold on one tag's score can undo its miscalibration, never the shared noise nor the
evidence the other scores carry. ``shared_noise=False`` gives the control: independent
noise, where one tag's score is all there is to know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = ("Genres", "Instruments", "Moods")


@dataclass(frozen=True)
class Catalogue:
    tags: list[str]  # predicted tags, in column order
    tag_class: list[str]  # each tag's class
    tag_category: list[str]  # each tag's category
    categories: list[str]  # the category columns (inputs only)
    scores: np.ndarray  # (n, T) the tagger's tag scores in (0, 1)
    category_scores: np.ndarray  # (n, K)
    labels: np.ndarray  # (n, T) uint8, the true tags


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def catalogue(
    n_tracks: int,
    seed: int,
    tags_per_class: tuple[int, int, int] = (24, 24, 16),
    categories_per_class: int = 4,
    styles: int = 10,
    shared_noise: bool = True,
) -> Catalogue:
    rng = np.random.default_rng(seed)
    tags, tag_class, tag_category, categories = [], [], [], []
    for cls, count in zip(CLASSES, tags_per_class, strict=True):
        prefix = cls[0].lower()
        names = [f"{cls.lower()}-{k}" for k in range(categories_per_class)]
        categories += names
        for j in range(count):
            tags.append(f"{prefix}{j:02d}")
            tag_class.append(cls)
            tag_category.append(names[j % categories_per_class])
    t, k = len(tags), len(categories)
    of_class = np.array([CLASSES.index(c) for c in tag_class])
    of_category = np.array([categories.index(c) for c in tag_category])

    # a few tags carry most of the activity
    base = np.empty(t)
    for c in range(len(CLASSES)):
        members = np.flatnonzero(of_class == c)
        rates = 0.15 / np.arange(1, len(members) + 1) ** 1.1
        base[members] = rng.permutation(rates)
    # hidden styles: each lifts one or two categories of each class, lowers the rest
    profile = np.full((styles, t), -1.0)
    for s in range(styles):
        for c in range(len(CLASSES)):
            own = [n for n in range(k) if n // categories_per_class == c]
            for lifted in rng.choice(own, size=int(rng.integers(1, 3)), replace=False):
                profile[s, of_category == lifted] = 2.5
    prior = 1.0 / np.arange(1, styles + 1) ** 1.1
    style = rng.choice(styles, n_tracks, p=prior / prior.sum())
    energy = rng.normal(size=n_tracks)
    drive = np.where(of_class == 2, rng.normal(0, 1.2, t), 0.0)  # moods follow the energy
    drive[of_class == 1] = rng.normal(0, 0.5, (of_class == 1).sum())
    logits = np.log(base / (1 - base)) + profile[style] + energy[:, None] * drive
    labels = rng.random((n_tracks, t)) < _sigmoid(logits)
    genres = np.flatnonzero(of_class == 0)
    none = ~labels[:, genres].any(axis=1)  # every track has a genre
    labels[none, genres[logits[none][:, genres].argmax(axis=1)]] = True

    # the tagger: evidence, shared noise, own noise, then a monotone miscalibration per tag
    strength = rng.uniform(0.3, 1.8, t)
    evidence = strength * (2 * labels - 1)
    noise = rng.normal(0, 1.2, (n_tracks, t))
    if shared_noise:
        noise += rng.normal(0, 0.9, (n_tracks, 1))  # the whole track's mix
        noise += rng.normal(0, 0.6, (n_tracks, len(CLASSES)))[:, of_class]  # each class's
    z = evidence + noise
    scores = _sigmoid(rng.uniform(0.5, 1.5, t) * z + rng.normal(-2.0, 0.7, t))
    means = np.stack([z[:, of_category == n].mean(axis=1) for n in range(k)], axis=1)
    category_scores = _sigmoid(means + rng.normal(0, 0.5, (n_tracks, k)) + rng.normal(-1, 0.5, k))
    return Catalogue(tags, tag_class, tag_category, categories,
                     scores.astype(np.float32), category_scores.astype(np.float32),
                     labels.astype(np.uint8))  # fmt: skip
