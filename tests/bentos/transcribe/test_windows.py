"""Windows cut at pauses, timestamp tokens to segments, and stitching (no model needed)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bentos.transcribe.stitching import parse_segments, stitch
from bentos.transcribe.windows import SAMPLE_RATE, cut_at_pauses, is_silent
from marketplace.contracts.schemas import Segment

TS = 50_000  # a made-up timestamp_begin: tokens >= TS are timestamps of (t - TS) * 0.02 s


def ts(seconds: float) -> int:
    return TS + round(seconds / 0.02)


def decode(tokens: list[int]) -> str:
    return " ".join(f"w{t}" for t in tokens)


def test_windows_cover_the_song_and_stay_under_30_s() -> None:
    samples = np.random.default_rng(0).standard_normal(SAMPLE_RATE * 95).astype(np.float32)
    windows = cut_at_pauses(samples)
    assert windows[0].start == 0 and windows[-1].end == len(samples)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert all(w.duration <= 30.0 for w in windows)
    assert len(windows) == 4


def test_cuts_fall_in_the_pause() -> None:
    rng = np.random.default_rng(1)
    samples = 0.3 * rng.standard_normal(SAMPLE_RATE * 50).astype(np.float32)
    samples[int(26.0 * SAMPLE_RATE) : int(26.6 * SAMPLE_RATE)] = 0.0  # a breath at 26 s
    (first, second) = cut_at_pauses(samples)
    assert 26.0 <= first.end / SAMPLE_RATE <= 26.6
    assert second.start == first.end


def test_short_audio_is_one_window() -> None:
    windows = cut_at_pauses(np.zeros(SAMPLE_RATE * 12, np.float32))
    assert len(windows) == 1 and windows[0].duration == 12.0
    assert is_silent(np.zeros(100, np.float32))
    assert not is_silent(np.full(100, 0.1, np.float32))


def test_timestamp_tokens_become_segments() -> None:
    tokens = [ts(0.0), 1, 2, ts(2.5), ts(2.5), 3, ts(4.0), ts(5.0), 4, 5]
    segments = parse_segments(tokens, TS, decode, duration=10.0)
    assert segments == [
        Segment(start=0.0, end=2.5, text="w1 w2"),
        Segment(start=2.5, end=4.0, text="w3"),
        Segment(start=5.0, end=10.0, text="w4 w5"),  # unclosed: runs to the window's end
    ]


def test_segments_are_clamped_and_never_go_back() -> None:
    tokens = [ts(8.0), 1, ts(40.0), ts(3.0), 2, ts(1.0)]  # nonsense from a random model
    segments = parse_segments(tokens, TS, decode, duration=20.0)
    assert [s.text for s in segments] == ["w1", "w2"]
    assert all(0.0 <= s.start <= s.end <= 20.0 for s in segments)
    assert segments[1].start >= segments[0].end


def test_text_without_timestamps_is_one_segment() -> None:
    assert parse_segments([7, 8], TS, decode, duration=12.0) == [
        Segment(start=0.0, end=12.0, text="w7 w8")
    ]


def test_stitching_shifts_windows_in_order() -> None:
    first = [Segment(start=0.0, end=2.0, text="a"), Segment(start=2.0, end=28.5, text="b")]
    second = [Segment(start=0.5, end=3.0, text="c")]
    assert stitch([(0.0, first), (28.7, second)]) == [
        Segment(start=0.0, end=2.0, text="a"),
        Segment(start=2.0, end=28.5, text="b"),
        Segment(start=29.2, end=31.7, text="c"),
    ]


@pytest.mark.parametrize("n", [SAMPLE_RATE * 30, SAMPLE_RATE * 30 + 1])
def test_exactly_30_s_is_one_window_and_a_sample_more_is_two(n: int) -> None:
    assert len(cut_at_pauses(np.ones(n, np.float32))) == (1 if n == SAMPLE_RATE * 30 else 2)


def test_tiny_whisper_is_fully_initialised(tmp_path) -> None:
    import torch

    from bentos.transcribe.smoke import tiny_whisper_checkpoint

    state = torch.load(tiny_whisper_checkpoint(tmp_path / "tiny.pt"))["model_state_dict"]
    assert all(torch.isfinite(t).all() and t.abs().max() < 100 for t in state.values())


def test_last_window_is_never_tiny() -> None:
    samples = np.random.default_rng(3).standard_normal(int(SAMPLE_RATE * 30.3))
    windows = cut_at_pauses(samples.astype(np.float32))
    assert len(windows) == 2 and windows[-1].duration >= 5.0
