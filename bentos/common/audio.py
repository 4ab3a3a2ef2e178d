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

from bentos.common.errors import (
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    NotAudio,
    Overloaded,
    TruncatedAudio,
)
from bentos.common.settings import AudioLimits

# ffmpeg demuxers for the audio formats we accept (mov covers mp4/m4a, matroska covers webm).
AUDIO_DEMUXERS = "wav,w64,mp3,ogg,flac,mov,matroska,aac,aiff,au,caf,ape,wv,amr,oga,opus"
# Below the services' 120 s traffic timeout, so no decode outlives its request.
DECODE_TIMEOUT_S = 90
HEADER_TIMEOUT_S = 15  # reading a file's header takes milliseconds; longer means overload
# A file is cut short when it decodes to less than it announces by more than this share
# (or one second): encoder delay and padding account for far less.
TRUNCATION_TOLERANCE = 0.1
DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


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


def announced_duration(path: Path) -> float | None:
    """The duration a file's header announces, in seconds (None: it announces none, or
    only an estimate from the bitrate); read without decoding the audio."""
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner",
        "-format_whitelist", AUDIO_DEMUXERS, "-protocol_whitelist", "file",
        "-i", f"file:{path}",
    ]  # fmt: skip
    proc = run_ffmpeg(cmd, HEADER_TIMEOUT_S, "reading the file's header")
    info = proc.stderr.decode("utf-8", "replace")
    match = DURATION.search(info)
    if match is None or "Estimating duration from bitrate" in info:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


STREAMED_SIZES = (0, 0xFFFFFFFF)  # a WAV written to a pipe announces no size


def wav_announced_duration(head: bytes) -> float | None:
    """The duration a WAV header's data chunk announces (ffmpeg only estimates it)."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    byte_rate, pos = None, 12
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and pos + 16 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16 : pos + 20], "little")
        elif chunk == b"data":
            if byte_rate and size not in STREAMED_SIZES:
                return size / byte_rate
            return None
        pos += 8 + size + (size & 1)
    return None


def run_ffmpeg(cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg; a timeout is the server's fault (it is overloaded), never the file's."""
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise Overloaded(
            f"{what} did not finish within {timeout:g} s: the server is overloaded, "
            "try again in a moment"
        ) from exc


def _decode_file(path: Path, sample_rate: int, channels: int, limits: AudioLimits) -> DecodedAudio:
    with path.open("rb") as handle:
        head = handle.read(4096)
    container = sniff_container(head[:16])
    announced = wav_announced_duration(head) if container == "WAV" else None
    announced = announced or announced_duration(path)
    if announced is not None and announced > limits.max_seconds:
        raise AudioTooLong(
            f"the file announces {announced:.0f} s of audio; the limit is "
            f"{limits.max_seconds:g} s (AUDIO_MAX_SECONDS)"
        )
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
    proc = run_ffmpeg(cmd, DECODE_TIMEOUT_S, "decoding")
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
    decoded = DecodedAudio(samples=samples, sample_rate=sample_rate)
    if announced is not None and announced - decoded.duration > max(
        1.0, TRUNCATION_TOLERANCE * announced
    ):
        raise TruncatedAudio(
            f"the file announces {announced:.2f} s of audio but holds only "
            f"{decoded.duration:.2f} s: it was cut short (an interrupted download or copy?)"
        )
    return decoded


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
    proc = run_ffmpeg(cmd, DECODE_TIMEOUT_S, "reading the audio")
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
