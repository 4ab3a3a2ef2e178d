"""Cutting a song into windows of at most 30 s (Whisper's input) at its quietest moments.

Windows do not overlap, so no text is repeated; each cut falls on the quietest 100 ms in
the last ``search_seconds`` before the 30 s limit (a breath or a pause between lines is
usually there), so words are rarely cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000  # Whisper's
WINDOW_SECONDS = 30.0
MIN_LAST_SECONDS = 5.0  # a last window of a few ms would invite hallucinated text


@dataclass(frozen=True)
class Window:
    start: int  # first sample
    end: int  # one past the last sample

    @property
    def offset(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def duration(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


def cut_at_pauses(
    samples: np.ndarray, search_seconds: float = 8.0, frame_seconds: float = 0.1
) -> list[Window]:
    """Windows covering ``samples`` (mono, 16 kHz) end to end, each at most 30 s."""
    n = len(samples)
    limit = int(WINDOW_SECONDS * SAMPLE_RATE)
    frame = int(frame_seconds * SAMPLE_RATE)
    windows, start = [], 0
    tail = int(MIN_LAST_SECONDS * SAMPLE_RATE)
    while n - start > limit:
        hi = min(start + limit, n - tail)  # leave the last window a few seconds at least
        lo = max(start + SAMPLE_RATE, hi - int(search_seconds * SAMPLE_RATE))
        region = samples[lo:hi]
        frames = region[: len(region) // frame * frame].reshape(-1, frame)
        quietest = int(np.argmin(np.square(frames, dtype=np.float64).mean(axis=1)))
        cut = lo + quietest * frame + frame // 2
        windows.append(Window(start, cut))
        start = cut
    if n > start:
        windows.append(Window(start, n))
    return windows


def is_silent(samples: np.ndarray, dbfs: float = -60.0) -> bool:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return 20 * np.log10(max(rms, 1e-12)) < dbfs
