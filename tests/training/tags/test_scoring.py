"""The tag-decision metric, the benchmark's thresholds and the synthetic catalogue."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from training.tags.scoring import best_thresholds, paired_bootstrap, weighted_f1
from training.tags.synthetic import CLASSES, catalogue


def test_weighted_f1_is_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((300, 12)) < np.linspace(0.01, 0.4, 12)
    predicted = np.where(rng.random((300, 12)) < 0.8, truth, ~truth)
    truth[:, 3] = False  # a tag no track has: weight 0
    expected = f1_score(truth, predicted, average="weighted", zero_division=0)
    assert weighted_f1(truth, predicted) == pytest.approx(expected)


def test_thresholds_maximise_each_tags_f1_on_the_rows_given() -> None:
    rng = np.random.default_rng(1)
    truth = (rng.random((80, 5)) < 0.3).astype(np.uint8)
    scores = np.clip(truth * 0.3 + rng.random((80, 5)) * 0.7, 0, 1).round(2)  # ties too
    chosen = best_thresholds(scores, truth)
    for j in range(5):
        best = max(f1_score(truth[:, j], scores[:, j] > t, zero_division=0)
                   for t in np.concatenate([[-1.0], np.unique(scores[:, j])]))  # fmt: skip
        got = f1_score(truth[:, j], scores[:, j] > chosen[j], zero_division=0)
        assert got == pytest.approx(best), j
    none = best_thresholds(scores, np.zeros_like(truth))
    assert np.isinf(none).all() and not (scores > none).any()  # no positive: never decided


def test_the_paired_bootstrap_brackets_the_difference() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random((400, 8)) < 0.2
    a = np.where(rng.random(truth.shape) < 0.75, truth, ~truth)
    b = np.where(rng.random(truth.shape) < 0.9, truth, ~truth)
    result = paired_bootstrap(truth, a, b, resamples=300)
    assert result["difference"] == pytest.approx(weighted_f1(truth, b) - weighted_f1(truth, a))
    assert result["low"] < result["difference"] < result["high"]
    assert result["low"] > 0 and result["not_better"] == 0.0
    same = paired_bootstrap(truth, a, a, resamples=50)
    assert same["difference"] == same["low"] == same["high"] == 0.0


def test_the_synthetic_catalogue_is_seeded_sparse_and_every_track_has_a_genre() -> None:
    one, again = catalogue(500, seed=3), catalogue(500, seed=3)
    assert np.array_equal(one.scores, again.scores) and np.array_equal(one.labels, again.labels)
    assert one.scores.shape == one.labels.shape == (500, 64)
    assert one.category_scores.shape == (500, 12) and len(one.categories) == 12
    assert set(one.tag_class) == set(CLASSES)
    assert ((one.scores > 0) & (one.scores < 1)).all()
    genres = [j for j, c in enumerate(one.tag_class) if c == "Genres"]
    assert one.labels[:, genres].any(axis=1).all()
    activity = np.sort(one.labels.sum(axis=0))[::-1]
    assert activity[: len(activity) // 5].sum() > 0.4 * activity.sum()  # a few tags, most tags


def test_the_split_is_64_16_20_seeded_and_keeps_rare_tags_in_every_split() -> None:
    from training.tags.split import split_tracks

    labels = catalogue(2000, seed=4).labels
    where = split_tracks(labels, 0.16, 0.20, seed=7)
    shares = {s: float((where == s).mean()) for s in ("train", "val", "test")}
    assert shares == pytest.approx({"train": 0.64, "val": 0.16, "test": 0.20}, abs=0.01)
    assert np.array_equal(where, split_tracks(labels, 0.16, 0.20, seed=7))
    assert not np.array_equal(where, split_tracks(labels, 0.16, 0.20, seed=8))
    for j in np.flatnonzero(labels.sum(axis=0) >= 10):  # each tag with 10 positives or more
        assert all(labels[where == s, j].any() for s in ("train", "val", "test")), j
