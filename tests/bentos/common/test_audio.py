"""Decoding any format to PCM, and a clear client error for each kind of bad input."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from bentos.common.audio import decode_audio
from bentos.common.errors import AudioTooLarge, AudioTooLong, CorruptAudio, EmptyAudio, NotAudio
from bentos.common.settings import AudioLimits
from tests.conftest import ffmpeg, make_audio, rms


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".ogg", ".flac", ".m4a", ".webm"])
def test_decodes_every_common_format(tmp_path: Path, suffix: str) -> None:
    path = make_audio(tmp_path / f"tone{suffix}", seconds=2.0, rate=44100, channels=2)
    audio = decode_audio(path, sample_rate=22050, channels=1)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == 1
    assert audio.duration == pytest.approx(2.0, abs=0.1)
    assert 0.06 < rms(audio.samples) < 0.12  # lavfi sine: amplitude 1/8, RMS 0.088


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 2), (48000, 2), (22050, 1)])
def test_resamples_and_remixes(tmp_path: Path, rate: int, channels: int) -> None:
    path = make_audio(tmp_path / "tone.flac", seconds=1.0, rate=44100, channels=1)
    audio = decode_audio(path, sample_rate=rate, channels=channels)
    assert audio.samples.shape == (channels, pytest.approx(rate, abs=rate // 50))
    assert audio.sample_rate == rate
    if channels == 2:
        np.testing.assert_allclose(audio.samples[0], audio.samples[1], atol=1e-4)


def test_sine_frequency_survives_decoding(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "tone.mp3", seconds=1.0, freq=1000.0)
    audio = decode_audio(path, sample_rate=16000, channels=1)
    spectrum = np.abs(np.fft.rfft(audio.samples[0]))
    peak_hz = np.argmax(spectrum) * 16000 / audio.samples.shape[1]
    assert peak_hz == pytest.approx(1000, abs=5)


def test_bytes_input_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    data = make_audio(tmp_path / "tone.m4a").read_bytes()  # m4a needs a seekable file
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    audio = decode_audio(data, sample_rate=16000, channels=1)
    assert audio.duration == pytest.approx(2.0, abs=0.1)
    with pytest.raises(NotAudio):
        decode_audio(b"plain text, not audio", sample_rate=16000, channels=1)
    assert list(scratch.iterdir()) == []


def test_empty_upload(tmp_path: Path) -> None:
    with pytest.raises(EmptyAudio, match="empty"):
        decode_audio(b"", sample_rate=16000, channels=1)
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(EmptyAudio):
        decode_audio(tmp_path / "empty.mp3", sample_rate=16000, channels=1)


def test_audio_file_with_no_samples(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", str(path))
    with pytest.raises(EmptyAudio, match="no audio samples"):
        decode_audio(path, sample_rate=16000, channels=1)


def test_not_audio(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"  # the name does not make it audio
    text.write_text("these are the lyrics, not the song\n" * 20)
    with pytest.raises(NotAudio, match="not in an audio format"):
        decode_audio(text, sample_rate=16000, channels=1)
    image = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-frames:v", "1", str(image))
    with pytest.raises(NotAudio, match="image or video"):
        decode_audio(image, sample_rate=16000, channels=1)


def test_video_without_sound_is_not_audio(tmp_path: Path) -> None:
    video = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:d=1", str(video))
    with pytest.raises(NotAudio, match="no audio stream"):
        decode_audio(video, sample_rate=16000, channels=1)


@pytest.mark.parametrize("suffix", [".flac", ".ogg", ".wav"])
def test_corrupt_audio(tmp_path: Path, suffix: str) -> None:
    good = make_audio(tmp_path / f"tone{suffix}").read_bytes()
    rng = np.random.default_rng(0)
    broken = good[:64] + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(CorruptAudio, match="cannot be decoded"):
        decode_audio(broken, sample_rate=16000, channels=1)


def test_too_large(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "tone.wav", seconds=3.0)  # ~1 MiB of PCM
    with pytest.raises(AudioTooLarge, match="AUDIO_MAX_UPLOAD_MB"):
        decode_audio(path, sample_rate=16000, channels=1, limits=AudioLimits(max_upload_mb=0.1))


def test_too_long(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "long.mp3", seconds=12.0)
    limits = AudioLimits(max_seconds=10)
    with pytest.raises(AudioTooLong, match="announces 12 s of audio; the limit is 10 s"):
        decode_audio(path, sample_rate=16000, channels=1, limits=limits)
    no_header = tmp_path / "long.raw.mp3"  # no header with a duration: decoded, then refused
    no_header.write_bytes(path.read_bytes()[path.read_bytes().find(b"\xff\xfb", 4096) :])
    with pytest.raises(AudioTooLong, match="longer than the limit of 10 s"):
        decode_audio(no_header, sample_rate=16000, channels=1, limits=limits)
    assert decode_audio(
        path, sample_rate=16000, channels=1, limits=AudioLimits(max_seconds=13)
    ).duration == pytest.approx(12, abs=0.1)


def test_client_errors_have_distinct_statuses() -> None:
    errors = [EmptyAudio("x"), AudioTooLarge("x"), NotAudio("x"), CorruptAudio("x")]
    assert [int(e.status) for e in errors] == [400, 413, 415, 422]
    assert AudioTooLong("x").to_body() == {"error": "audio_too_long", "detail": "x"}


def test_text_in_utf16_is_not_audio() -> None:
    text = "\ufeffThese are lyrics saved as UTF-16, not a song.\n".encode("utf-16-le")
    with pytest.raises(NotAudio):
        decode_audio(text * 20, sample_rate=16000, channels=1)


def test_non_finite_samples_are_corrupt(tmp_path: Path) -> None:
    samples = np.sin(np.linspace(0, 100, 16000)).astype("<f4")
    samples[5000:5010] = np.nan
    raw = tmp_path / "nan.f32"
    raw.write_bytes(samples.tobytes())
    wav = tmp_path / "nan.wav"
    ffmpeg("-f", "f32le", "-ar", "16000", "-ac", "1", "-i", str(raw), "-c:a", "pcm_f32le", str(wav))
    with pytest.raises(CorruptAudio, match="NaN"):
        decode_audio(wav, sample_rate=16000, channels=1)
