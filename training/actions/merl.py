"""MERL Shopping as it ships: ``Videos_MERL_Shopping_Dataset/<subject>_<session>_crop.mp4``
and ``Labels_MERL_Shopping_Dataset/<subject>_<session>_label.mat`` (a MATLAB cell array
``tlabs``: for each of the five actions, in the order of :data:`ACTIONS`, a K x 2 array of
start and end frames, 1-based and inclusive, at the video's own frame rate). Frames no
action covers are background. The official split is by subject: 1-20 train, 21-26
validation, 27-41 test, so no shopper is in two splits.

Labels are placed by time: frame f of the native rate spans [(f - 1) / fps, f / fps), and
each frame of the 15 fps grid takes the action covering its time. Where two actions
overlap (the files have a few shared boundary frames), the one listed later wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bentos.actions.video import VideoLimits, decode, probe
from training.params import Params

log = logging.getLogger(__name__)
ACTIONS = ("reach to shelf", "retract from shelf", "hand in shelf", "inspect product",
           "inspect shelf")  # fmt: skip
NAME = re.compile(r"^(\d+)_(\d+)_(crop|label)$")


def split_of(subject: int) -> str:
    if 1 <= subject <= 20:
        return "train"
    if 21 <= subject <= 26:
        return "val"
    if 27 <= subject <= 41:
        return "test"
    raise ValueError(f"subject {subject} is not in MERL Shopping (1 to 41)")


def read_labels(path: Path) -> list[np.ndarray]:
    """Each action's (K, 2) int64 [start, end] frames, sorted; checked."""
    from scipy.io import loadmat

    tlabs = loadmat(str(path))["tlabs"]
    if tlabs.shape[0] != len(ACTIONS):
        raise ValueError(f"{path}: tlabs has {tlabs.shape[0]} cells, not {len(ACTIONS)}")
    out = []
    for c in range(len(ACTIONS)):
        rows = np.asarray(tlabs[c, 0], dtype=np.int64).reshape(-1, 2)
        if (rows[:, 0] < 1).any() or (rows[:, 1] < rows[:, 0]).any():
            raise ValueError(f"{path}: {ACTIONS[c]} has a segment that ends before it starts")
        out.append(rows[np.argsort(rows[:, 0])])
    return out


def frame_labels(segments: list[np.ndarray], native_fps: float, times: np.ndarray) -> np.ndarray:
    """Class ids (0 background, 1 + action) of frames shown at ``times`` seconds."""
    labels = np.zeros(len(times), dtype=np.int64)
    for c, rows in enumerate(segments, start=1):
        for start, end in rows:
            inside = (times >= (start - 1) / native_fps) & (times < end / native_fps)
            labels[inside] = c
    return labels


def videos(root: Path) -> list[tuple[str, int, Path, Path]]:
    """(name, subject, video, labels) of every video with its label file."""
    found = []
    for video in sorted(root.rglob("*_crop.mp4")):
        match = NAME.match(video.stem)
        if not match:
            continue
        subject, session = int(match[1]), int(match[2])
        labels = next(root.rglob(f"{subject}_{session}_label.mat"), None)
        if labels is None:
            raise FileNotFoundError(f"no {subject}_{session}_label.mat for {video}")
        found.append((f"{subject}_{session}", subject, video, labels))
    if not found:
        raise FileNotFoundError(f"no <subject>_<session>_crop.mp4 under {root}")
    return found


def prepare(
    root: Path, params: Params, out: Path, save: Callable[[Path, str, np.ndarray, np.ndarray], int]
) -> list[dict[str, object]]:
    p = params.actions.data
    limits = VideoLimits(max_upload_mb=10_000, max_seconds=3600)
    rows = []
    for name, subject, video, label_file in videos(root):
        info = probe(video, limits)
        frames, times = decode(video, p.fps, p.height, p.width)
        labels = frame_labels(read_labels(label_file), info.fps, times)
        split = split_of(subject)
        count = save(out / split, name, frames, labels)
        rows.append({"clip": name, "split": split, "frames": count, "source": str(video)})
        log.info("actions_prepare: %s (%s), %d frames", name, split, count)
    return rows
