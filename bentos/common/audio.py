"""Decode any audio ffmpeg reads to float32 PCM, with clear errors for bad input.

ffmpeg is the static binary shipped in the ``imageio-ffmpeg`` wheel, so a fresh machine
needs no system package. Only audio container formats are probed (``-format_whitelist``)
and only the ``file`` protocol is allowed, so an upload that is a playlist or an image
cannot make ffmpeg open other files or URLs.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bentos.common.errors import AudioTooLarge, AudioTooLong, CorruptAudio, EmptyAudio, NotAudio
from bentos.common.settings import AudioLimits

# ffmpeg demuxers for the audio formats we accept (mov covers mp4/m4a, matroska covers webm).
AUDIO_DEMUXERS = "wav,w64,mp3,ogg,flac,mov,matroska,aac,aiff,au,caf,ape,wv,amr,oga,opus"
# Below the services' 120 s traffic timeout, so no decode outlives its request.
DECODE_TIMEOUT_S = 90


@dataclass(frozen=True)
class DecodedAudio:
    """PCM samples, shape ``(channels, frames)``, float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# (offset, magic bytes, container) of audio files whose first bytes name their format.
SIGNATURES = (
    (0, b"OggS", "Ogg"),
    (0, b"fLaC", "FLAC"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b".snd", "AU"),
    (0, b"caff", "CAF"),
)


def sniff_container(head: bytes) -> str | None:
    """Name the audio container a file's first bytes announce, if any.

    Only unambiguous signatures count. A bare MPEG frame sync (0xFFE) is not one: text in
    UTF-16 or random bytes start that way too, and such input is not audio.
    """
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    for offset, magic, name in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def decode_audio(
    source: Path | bytes,
    *,
    sample_rate: int,
    channels: int,
    limits: AudioLimits | None = None,
) -> DecodedAudio:
    """Decode ``source`` (a file path or the file's bytes) to ``channels`` x frames PCM.

    Raises a :class:`~bentos.common.errors.ClientError` subclass for empty, oversized,
    over-long, non-audio or corrupt input. Bytes are written to a temporary file (seekable
    input is needed for MP4/M4A), which is always removed.
    """
    limits = limits or AudioLimits()
    if isinstance(source, bytes):
        _check_size(len(source), limits)
        fd, name = tempfile.mkstemp(prefix="marketplace-audio-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(source)
            return _decode_file(Path(name), sample_rate, channels, limits)
        finally:
            Path(name).unlink(missing_ok=True)
    path = Path(source)
    _check_size(path.stat().st_size, limits)
    return _decode_file(path, sample_rate, channels, limits)


def _check_size(size: int, limits: AudioLimits) -> None:
    if size == 0:
        raise EmptyAudio("the uploaded file is empty (0 bytes)")
    if size > limits.max_upload_bytes:
        raise AudioTooLarge(
            f"the uploaded file is {size / 2**20:.1f} MiB; the limit is "
            f"{limits.max_upload_mb:g} MiB (AUDIO_MAX_UPLOAD_MB)"
        )


def _decode_file(path: Path, sample_rate: int, channels: int, limits: AudioLimits) -> DecodedAudio:
    with path.open("rb") as handle:
        container = sniff_container(handle.read(16))
    # Decode at most a little past the limit: an over-long upload never fills memory.
    max_seconds = limits.max_seconds + 1.0
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-format_whitelist", AUDIO_DEMUXERS, "-protocol_whitelist", "file",
        "-i", f"file:{path}",
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-t", f"{max_seconds:.3f}",
        "-ac", str(channels), "-ar", str(sample_rate),
        "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CorruptAudio(f"decoding did not finish within {DECODE_TIMEOUT_S} s") from exc
    errors = proc.stderr.decode("utf-8", "replace").strip()
    pcm = np.frombuffer(proc.stdout, dtype="<f4")
    if proc.returncode != 0:
        _raise_for_failure(errors, container)
    if pcm.size == 0:
        raise EmptyAudio("the file contains no audio samples")
    frames = pcm.size // channels
    samples = pcm[: frames * channels].reshape(frames, channels).T.copy()
    if not np.isfinite(samples).all():
        raise CorruptAudio("the audio contains invalid samples (NaN or infinite values)")
    if frames > limits.max_seconds * sample_rate:
        raise AudioTooLong(
            f"the audio is longer than the limit of {limits.max_seconds:g} s (AUDIO_MAX_SECONDS)"
        )
    return DecodedAudio(samples=samples, sample_rate=sample_rate)


def _raise_for_failure(errors: str, container: str | None) -> None:
    reason = _first_reason(errors)
    if "matches no streams" in errors:
        raise NotAudio("the file has no audio stream")
    if "not on whitelist" in errors:
        raise NotAudio("the file is not in an audio format (it looks like an image or video)")
    if container is not None:
        raise CorruptAudio(f"the file looks like {container} but cannot be decoded: {reason}")
    raise NotAudio(
        "the file is not in an audio format that can be read "
        "(mp3, ogg/opus, wav, flac, m4a/aac, webm and others are accepted)"
    )


def _first_reason(errors: str) -> str:
    for line in errors.splitlines():
        text = line.split("] ", 1)[-1].strip()
        if text.lower().startswith("error opening input:"):
            return text.split(":", 1)[1].strip()
    return (errors.splitlines() or ["ffmpeg gave no reason"])[0]


@dataclass(frozen=True)
class AudioProbe:
    codec: str  # ffmpeg's name of the first audio stream's codec, e.g. opus, mp3, aac
    seconds: float


def probe_audio(path: Path) -> AudioProbe:
    """Codec and duration of a file's first audio stream, measured by decoding it (the
    ``imageio-ffmpeg`` wheel has no ffprobe)."""
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats",
        "-format_whitelist", AUDIO_DEMUXERS, "-protocol_whitelist", "file",
        "-i", f"file:{path}", "-map", "0:a:0", "-f", "null", "-",
        "-progress", "pipe:1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    errors = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        _raise_for_failure(errors, None)
    codec = re.search(r"Stream #0:\d+.*?: Audio: ([A-Za-z0-9_]+)", errors)
    times = [
        int(line.split("=", 1)[1])
        for line in proc.stdout.decode().splitlines()
        if line.startswith("out_time_us=") and line.split("=", 1)[1].isdigit()
    ]
    return AudioProbe(codec.group(1) if codec else "", max(times, default=0) / 1e6)
