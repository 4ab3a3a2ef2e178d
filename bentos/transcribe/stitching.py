"""Whisper's timestamp tokens to segments, and windows' segments to one transcript."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from marketplace.contracts.schemas import Segment

SECONDS_PER_TIMESTAMP = 0.02  # Whisper's timestamp token resolution


def parse_segments(
    tokens: Sequence[int],
    timestamp_begin: int,
    decode: Callable[[list[int]], str],
    duration: float,
) -> list[Segment]:
    """Segments of one window, times relative to the window and clamped to its duration.

    Text between two timestamp tokens is one segment; text with no closing timestamp runs
    to the end of the window; times never go backwards.
    """
    segments: list[Segment] = []
    start: float | None = None
    text: list[int] = []
    last = 0.0

    def close(end: float) -> None:
        nonlocal text
        words = decode(text).strip()
        if words:
            begin = min(max(start if start is not None else last, last), duration)
            segments.append(Segment(start=begin, end=min(max(end, begin), duration), text=words))
        text = []

    for token in tokens:
        if token >= timestamp_begin:
            time = (token - timestamp_begin) * SECONDS_PER_TIMESTAMP
            if text:
                close(time)
                last = segments[-1].end if segments else last
                start = None
            else:
                start = time
        else:
            text.append(token)
    if text:
        close(duration)
    return segments


def stitch(windows: Sequence[tuple[float, list[Segment]]]) -> list[Segment]:
    """Shift each window's segments by the window's offset, in window order."""
    return [
        Segment(start=round(offset + s.start, 3), end=round(offset + s.end, 3), text=s.text)
        for offset, segments in windows
        for s in segments
    ]
