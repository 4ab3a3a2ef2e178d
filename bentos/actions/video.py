"""Uploaded videos, checked and decoded safely (PyAV, FFmpeg's libraries).

:func:`probe` reads the container's header only (format, duration, frame rate, size) and
refuses what the limits (``VIDEO_*`` settings) do not allow before a frame is decoded;
:func:`decode` then resamples the video to a fixed frame rate at the model's size, the
frames picked by their timestamps (a variable-rate video keeps its timing). mp4, webm,
mkv and avi are read; a file with no video stream, or whose stream cannot be decoded, is
the client's error.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bentos.common.errors import (
    BadFrameRate,
    CorruptVideo,
    EmptyVideo,
    NotVideo,
    VideoTooLarge,
    VideoTooLong,
)

# FFmpeg's demuxer names of the containers taken (mp4 and mkv/webm each have one name
# covering several extensions)
FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv/webm", "avi": "avi"}


class VideoLimits(BaseSettings):
    """Limits on uploaded videos, checked from the container before decoding."""

    model_config = SettingsConfigDict(env_prefix="VIDEO_", extra="ignore")

    max_upload_mb: float = Field(500.0, gt=0, description="largest accepted upload, in MiB")
    max_seconds: float = Field(900.0, gt=0, description="longest accepted video, in seconds")
    max_side: int = Field(3840, ge=16, description="widest or tallest frame, in pixels")
    max_fps: float = Field(120.0, gt=0, description="highest accepted frame rate")

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    seconds: float
    fps: float
    width: int
    height: int


def looks_like_video(head: bytes) -> bool:
    """The first bytes of an mp4 (``ftyp`` box), a Matroska/WebM (EBML) or an AVI file."""
    return (head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"
            or (head[:4] == b"RIFF" and head[8:12] == b"AVI "))  # fmt: skip


def _open(path: Path):
    import av

    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        with path.open("rb") as handle:
            head = handle.read(16)
        if looks_like_video(head):  # the right kind of file, damaged or truncated
            raise CorruptVideo(f"the video cannot be read: {exc}") from None
        raise NotVideo("not a video this service reads (mp4, webm, mkv, avi)") from None


def probe(path: Path, limits: VideoLimits) -> VideoInfo:
    size = path.stat().st_size
    if size == 0:
        raise EmptyVideo("the upload is empty")
    if size > limits.max_bytes:
        raise VideoTooLarge(f"the video is {size / 2**20:.1f} MiB; at most "
                            f"{limits.max_upload_mb:g} MiB")  # fmt: skip
    with _open(path) as container:
        name = container.format.name
        if name not in FORMATS:
            raise NotVideo(f"a {name} file: the service reads mp4, webm, mkv and avi")
        if not container.streams.video:
            raise NotVideo("the file has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context
        width, height = int(codec.width or 0), int(codec.height or 0)
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / 1_000_000
        else:
            seconds = 0.0
    if width <= 0 or height <= 0:
        raise CorruptVideo("the video stream has no frame size")
    if max(width, height) > limits.max_side:
        raise VideoTooLarge(f"frames of {width} x {height}; at most {limits.max_side} pixels "
                            "a side")  # fmt: skip
    if not rate or float(rate) <= 0:
        raise BadFrameRate("the video's frame rate is unknown")
    if float(rate) > limits.max_fps:
        raise BadFrameRate(f"{float(rate):g} frames a second; at most {limits.max_fps:g}")
    if seconds > limits.max_seconds:
        raise VideoTooLong(f"the video lasts {seconds:.0f} s; at most {limits.max_seconds:g} s")
    return VideoInfo(FORMATS[name], codec.name, seconds, float(rate), width, height)


def decode(
    path: Path, fps: float, height: int, width: int, max_seconds: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(T, height, width, 3)`` uint8 RGB at ``fps`` and their times in seconds:
    for each tick k / fps, the last frame shown at that time."""
    import av

    frames, times = [], []
    step = Fraction(1) / Fraction(fps).limit_denominator(1000)
    tick = Fraction(0)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                shown = Fraction(frame.time).limit_denominator(1_000_000)
                if max_seconds is not None and shown > max_seconds:
                    raise VideoTooLong(f"the video lasts more than {max_seconds:g} s")
                if shown + Fraction(1, 1000) < tick:
                    continue
                image = frame.to_ndarray(format="rgb24", width=width, height=height)
                while tick <= shown + Fraction(1, 1000):  # a slow video repeats its frames
                    frames.append(image)
                    times.append(float(tick))
                    tick += step
        except av.FFmpegError as exc:
            if not frames:
                raise CorruptVideo(f"the video stream cannot be decoded: {exc}") from None
            # a damaged tail: what decoded is kept (the answer says how long it is)
    if not frames:
        raise CorruptVideo("the video stream holds no frame that decodes")
    return np.stack(frames), np.array(times)


def write(path: Path, frames: np.ndarray, fps: float, codec: str = "libx264") -> Path:
    """Frames ``(T, H, W, 3)`` uint8 as a video file (tests, synthetic data, previews)."""
    import av

    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "20", "preset": "veryfast"}
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path
