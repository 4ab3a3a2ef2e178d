"""From window scores to action segments.

Windows of ``frames`` frames start every ``stride`` frames; each window's class
probabilities count for every frame it covers, and a frame's probability is the mean over
its windows (frames of a window's edge are seen by fewer windows). A moving average over
``smooth`` frames then removes flicker, each frame takes its most probable class, and
runs of one class become segments; a segment shorter than ``min_frames`` goes to the
neighbour it resembles most. The segments cover the video without gap or overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def window_starts(total: int, frames: int, stride: int) -> np.ndarray:
    """Start frames of the windows covering ``total`` frames (the last one ends at the
    video's end; a video shorter than a window is padded by repeating its last frame)."""
    if total <= frames:
        return np.array([0])
    starts = np.arange(0, total - frames + 1, stride)
    if starts[-1] != total - frames:
        starts = np.append(starts, total - frames)
    return starts


def frame_probabilities(
    window_probs: np.ndarray, starts: np.ndarray, frames: int, total: int
) -> np.ndarray:
    """(total, classes): each frame's mean over the windows that cover it."""
    acc = np.zeros((total, window_probs.shape[1]))
    count = np.zeros(total)
    for p, s in zip(window_probs, starts, strict=True):
        end = min(total, s + frames)
        acc[s:end] += p
        count[s:end] += 1
    return acc / np.maximum(count, 1)[:, None]


def smooth(probs: np.ndarray, width: int) -> np.ndarray:
    """Moving average over ``width`` frames (odd), edges averaged over what exists."""
    if width <= 1:
        return probs
    half = width // 2
    padded = np.concatenate([np.zeros((1, probs.shape[1])), np.cumsum(probs, axis=0)])
    idx = np.arange(len(probs))
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, len(probs))
    return (padded[hi] - padded[lo]) / (hi - lo)[:, None]


@dataclass(frozen=True)
class Segment:
    label: int
    start: int  # first frame
    end: int  # one past the last frame
    confidence: float  # mean probability of its class over its frames


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, start, end) of each run of equal labels."""
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, len(labels)]
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def to_segments(probs: np.ndarray, min_frames: int = 1) -> list[Segment]:
    """Segments of per-frame probabilities (already smoothed)."""
    labels = probs.argmax(axis=1)
    pieces = runs(labels)
    changed = True
    while changed and len(pieces) > 1:  # fold short segments into a neighbour
        changed = False
        for i, (_label, s, e) in enumerate(pieces):
            if e - s >= min_frames:
                continue
            options = [j for j in (i - 1, i + 1) if 0 <= j < len(pieces)]
            best = max(options, key=lambda j: probs[s:e, pieces[j][0]].mean())
            labels[s:e] = pieces[best][0]
            pieces = runs(labels)
            changed = True
            break
    return [Segment(label, s, e, round(float(probs[s:e, label].mean()), 4))
            for label, s, e in pieces]  # fmt: skip
