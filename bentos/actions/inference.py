"""A video's frames and flow to per-frame class probabilities and segments: the same
code in the service and in training's evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bentos.actions.segments import Segment, frame_probabilities, smooth, to_segments, window_starts

if TYPE_CHECKING:  # the network runs in the model worker and in training, not the front
    from bentos.actions.network import TwoStream


def cut_windows(
    frames: np.ndarray, flow: np.ndarray, length: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, rgb windows (N, T, H, W, 3), flow windows (N, T, H, W, 2)); a video
    shorter than a window repeats its last frame."""
    total = len(frames)
    if total < length:
        pad = length - total
        frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
        flow = np.concatenate([flow, np.zeros((pad, *flow.shape[1:]), flow.dtype)])
    starts = window_starts(total, length, stride)
    index = starts[:, None] + np.arange(length)
    return starts, frames[index], flow[index]


def window_probabilities(
    network: TwoStream, rgb: np.ndarray, flow: np.ndarray, batch: int = 64, device: str = "cpu"
) -> np.ndarray:
    """(N, classes) softmax of windows, ``batch`` at a time."""
    import torch

    from bentos.actions.network import windows_to_tensors

    out = []
    for i in range(0, len(rgb), batch):
        a, b = windows_to_tensors(torch.from_numpy(rgb[i : i + batch]),
                                  torch.from_numpy(flow[i : i + batch]))  # fmt: skip
        with torch.inference_mode():
            logits = network(a.to(device), b.to(device))
        out.append(torch.softmax(logits, dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, network.spec["classes"]))


def segments_of(
    window_probs: np.ndarray, starts: np.ndarray, length: int, total: int, fps: float,
    smooth_seconds: float, min_seconds: float,
) -> tuple[np.ndarray, list[Segment]]:  # fmt: skip
    """Per-frame probabilities (smoothed) and the segments they make."""
    probs = frame_probabilities(window_probs, starts, length, total)
    width = max(1, round(smooth_seconds * fps) | 1)
    probs = smooth(probs, width)
    return probs, to_segments(probs, max(1, round(min_seconds * fps)))


def predict_video(
    network: TwoStream, frames: np.ndarray, flow: np.ndarray, fps: float, stride: int,
    smooth_seconds: float, min_seconds: float, batch: int = 64, device: str = "cpu",
) -> tuple[np.ndarray, list[Segment]]:  # fmt: skip
    length = network.spec["frames"]
    starts, rgb, motion = cut_windows(frames, flow, length, stride)
    window_probs = window_probabilities(network, rgb, motion, batch, device)
    return segments_of(window_probs, starts, length, len(frames), fps, smooth_seconds,
                       min_seconds)  # fmt: skip
