"""Windows to segments, and the metrics, on cases worked out by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bentos.actions.metrics import f1_counts, frame_accuracy, midpoint_map, segment_f1
from bentos.actions.segments import (
    frame_probabilities,
    runs,
    smooth,
    to_segments,
    window_starts,
)


def test_windows_cover_every_frame_and_end_at_the_end() -> None:
    assert window_starts(20, 8, 4).tolist() == [0, 4, 8, 12]
    assert window_starts(21, 8, 4).tolist() == [0, 4, 8, 12, 13]
    assert window_starts(5, 8, 4).tolist() == [0]
    probs = np.eye(3)[[0, 1, 2, 1, 0]]
    starts = window_starts(21, 8, 4)
    frames = frame_probabilities(probs, starts, 8, 21)
    assert frames.shape == (21, 3) and np.allclose(frames.sum(axis=1), 1)
    assert frames[0].tolist() == [1, 0, 0] and frames[20].tolist() == [1, 0, 0]


def test_segments_cover_the_video_without_overlap_and_fold_short_runs() -> None:
    labels = np.array([0] * 10 + [1] * 2 + [0] * 5 + [2] * 8)
    probs = np.eye(3)[labels] * 0.8 + 0.2 / 3
    segments = to_segments(probs, min_frames=3)
    assert [(s.label, s.start, s.end) for s in segments] == [(0, 0, 17), (2, 17, 25)]
    assert segments[0].start == 0 and segments[-1].end == len(labels)
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))
    assert smooth(probs, 1) is probs
    assert np.allclose(smooth(probs, 5).sum(axis=1), 1)


def test_f1_matches_in_time_order_without_falling_back_to_the_second_best() -> None:
    truth = np.array([0] * 5 + [1] * 10 + [0] * 5)
    assert f1_counts(truth, truth, 0.5) == (1, 0, 0)
    # two predictions of the one true segment: the second is a false positive
    split = truth.copy()
    split[10] = 0
    assert f1_counts(truth, split, 0.1) == (1, 1, 0)
    assert f1_counts(truth, np.zeros(20, int), 0.1) == (0, 0, 1)
    shifted = np.array([0] * 12 + [1] * 8)  # IoU 3 / 15 = 0.2
    assert f1_counts(truth, shifted, 0.1) == (1, 0, 0)
    assert f1_counts(truth, shifted, 0.25) == (0, 1, 1)
    scores = segment_f1([(truth, truth), (truth, shifted)], (0.1, 0.25))
    assert scores == {"f1@0.1": 1.0, "f1@0.25": pytest.approx(2 * 0.5 * 0.5 / 1.0, abs=1e-4)}
    assert frame_accuracy(truth, shifted) == pytest.approx(8 / 20)


def test_midpoint_map_ranks_detections_by_confidence() -> None:
    truth = np.array([0] * 4 + [1] * 4 + [0] * 4 + [1] * 4)
    hits = [(1, 4, 8, 0.9), (1, 12, 16, 0.8)]
    assert midpoint_map([(truth, hits)], 2) == {"map": 1.0, "ap": {1: 1.0}}
    # a confident false alarm first: precision at the two hits is 1/2 and 2/3
    noisy = [(1, 0, 3, 0.95), *hits]
    result = midpoint_map([(truth, noisy)], 2)
    assert result["ap"][1] == pytest.approx((1 / 2 + 2 / 3) / 2, abs=1e-4)
    assert runs(truth) == [(0, 0, 4), (1, 4, 8), (0, 8, 12), (1, 12, 16)]
