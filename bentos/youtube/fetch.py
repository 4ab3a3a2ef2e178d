"""Downloading one video's audio with yt-dlp, then keeping it as mp3 or ogg.

yt-dlp picks the best audio-only stream (on YouTube: Opus in WebM). Opus and Vorbis are
remuxed to Ogg and MP3 is kept as it is, without re-encoding; anything else (AAC...) is
encoded to MP3. ffmpeg is the ``imageio-ffmpeg`` binary, as everywhere in the project.
YouTube needs a JavaScript runtime to read its stream addresses: the ``deno`` wheel.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from bentos.common.audio import DECODE_TIMEOUT_S, ffmpeg_exe, probe_audio, run_ffmpeg
from bentos.common.errors import (
    UpstreamBusy,
    UpstreamError,
    UrlNotAllowed,
    VideoTooLong,
    VideoUnavailable,
)
from bentos.youtube.addresses import VideoAddress
from bentos.youtube.settings import YoutubeSettings
from marketplace.contracts.schemas import FetchedAudio

COPY = {"opus": "ogg", "vorbis": "ogg", "mp3": "mp3"}  # audio codecs kept as they are
# What YouTube says when it refuses for a while rather than for good: retry later.
BUSY_SIGNS = ("not a bot", "http error 429", "too many requests", "rate-limit", "rate limit")


def fetch_audio(address: VideoAddress, settings: YoutubeSettings) -> FetchedAudio:
    """Download, check and convert the audio of ``address`` (blocking: run in a thread)."""
    import yt_dlp

    with tempfile.TemporaryDirectory(prefix="marketplace-youtube-") as tmp:
        with yt_dlp.YoutubeDL(_options(address, settings, Path(tmp))) as ydl:
            try:
                info = ydl.extract_info(address.url, download=False)
                _check(info, settings)
                info = ydl.process_ie_result(info, download=True)
            except yt_dlp.utils.DownloadError as exc:
                raise _answer_for(exc) from exc
        (download,) = info["requested_downloads"]
        source = Path(download["filepath"])
        probe = probe_audio(source)  # yt-dlp does not always know the codec (generic sites)
        if probe.seconds > settings.max_seconds:
            raise _too_long(probe.seconds, settings)
        fmt = COPY.get(probe.codec, "mp3")
        target = Path(tmp) / f"audio.{fmt}"
        _convert(source, target, copy=probe.codec in COPY)
        return FetchedAudio(
            video_id=address.video_id,
            url=address.url,
            title=str(info.get("title") or address.video_id or "audio"),
            uploader=info.get("uploader") or info.get("channel"),
            duration=round(probe.seconds, 3),
            format=fmt,
            audio=base64.b64encode(target.read_bytes()).decode(),
        )


def _options(address: VideoAddress, settings: YoutubeSettings, folder: Path) -> dict[str, Any]:
    options: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": True,
        "format": "bestaudio/best",
        "outtmpl": str(folder / "download.%(ext)s"),
        "max_filesize": int(settings.max_download_mb * 2**20),
        "socket_timeout": settings.timeout_s,
        "retries": 3,
        "cachedir": False,
        # the YouTube extractor for videos; only the test origin uses the generic one
        "allowed_extractors": ["generic"] if address.video_id is None else ["youtube"],
    }
    try:
        from deno import find_deno_bin

        options["js_runtimes"] = {"deno": {"path": find_deno_bin()}}
    except (ImportError, FileNotFoundError):  # yt-dlp then looks for deno on PATH
        pass
    return options


def _check(info: dict[str, Any], settings: YoutubeSettings) -> None:
    if info.get("_type") == "playlist" or info.get("entries") is not None:
        raise UrlNotAllowed("a playlist: send the address of one video")
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        raise UrlNotAllowed("a live stream or a premiere: only recorded videos are fetched")
    duration = info.get("duration")
    if duration is not None and duration > settings.max_seconds:
        raise _too_long(float(duration), settings)


def _too_long(seconds: float, settings: YoutubeSettings) -> VideoTooLong:
    return VideoTooLong(
        f"the video lasts {seconds:.0f} s; the limit is {settings.max_seconds:g} s "
        "(YOUTUBE_MAX_SECONDS)"
    )


def _answer_for(exc: Exception) -> Exception:
    """yt-dlp's failure as an answer: the video's fault (404) or the network's (502)."""
    from yt_dlp.utils import ExtractorError

    cause = getattr(exc, "exc_info", None)
    original = cause[1] if cause else None
    message = str(exc).removeprefix("ERROR: ").strip()
    if "File is larger than max-filesize" in message or "max-filesize" in message:
        return VideoTooLong(
            f"the audio stream is over the YOUTUBE_MAX_DOWNLOAD_MB limit: {message}"
        )
    if any(sign in message.lower() for sign in BUSY_SIGNS):
        return UpstreamBusy(f"YouTube refuses for now (rate limit or bot check): {message}")
    if isinstance(original, ExtractorError) and original.expected:
        return VideoUnavailable(message)  # private, removed, age-restricted, geo-blocked...
    return UpstreamError(f"the video could not be downloaded: {message}")


def _convert(source: Path, target: Path, *, copy: bool) -> None:
    codec = ["-c:a", "copy"] if copy else ["-c:a", "libmp3lame", "-q:a", "2"]
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-i", f"file:{source}",
        "-map", "0:a:0", "-vn", "-sn", "-dn", *codec, f"file:{target}",
    ]  # fmt: skip
    proc = run_ffmpeg(cmd, DECODE_TIMEOUT_S, "converting the audio")
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise UpstreamError(f"the downloaded stream could not be converted: {reason}")
