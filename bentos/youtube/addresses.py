"""Which addresses the youtube service fetches: single YouTube videos, nothing else.

Accepted: https on youtube.com, www.youtube.com, m.youtube.com, music.youtube.com
(``/watch?v=ID``, ``/shorts/ID``) and youtu.be (``/ID``). A playlist (``/playlist``, or a
``list`` without a video) is refused; a video opened from a playlist is fetched alone.
The host must resolve to public addresses only, so a poisoned resolver or hosts file
cannot point the service at a private or loopback network.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from bentos.common.errors import UpstreamError, UrlNotAllowed

YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"}
SHORT_HOST = "youtu.be"
WATCH_HOST = "www.youtube.com"
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class VideoAddress:
    video_id: str | None  # None for the test origin's files
    url: str  # what yt-dlp is given
    host: str


def parse_video_url(url: str, test_origin: str | None = None) -> VideoAddress:
    """The video a URL names, or :class:`UrlNotAllowed` saying why it is refused."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UrlNotAllowed(f"the address is longer than {MAX_URL_LENGTH} characters")
    if test_origin and _same_origin(url, test_origin):
        return VideoAddress(None, url, urlsplit(url).hostname or "")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed(f"not a valid address: {exc}") from exc
    if parts.scheme != "https":
        raise UrlNotAllowed("only https YouTube addresses are fetched")
    if parts.username or parts.password or port not in (None, 443):
        raise UrlNotAllowed("the address must not carry credentials or a port")
    host = (parts.hostname or "").lower().rstrip(".")
    query = parse_qs(parts.query)
    path = parts.path.rstrip("/")
    if host == SHORT_HOST:
        return _video(path.removeprefix("/"))
    if host not in YOUTUBE_HOSTS:
        raise UrlNotAllowed(
            f"'{host or url}' is not a YouTube address (youtube.com, music.youtube.com, youtu.be)"
        )
    if path == "/watch":
        if "v" not in query:
            raise UrlNotAllowed("a YouTube playlist: send the address of one video")
        return _video(query["v"][0])
    if path.startswith("/shorts/"):
        return _video(path.removeprefix("/shorts/"))
    if path == "/playlist" or "list" in query:
        raise UrlNotAllowed("a YouTube playlist: send the address of one video")
    raise UrlNotAllowed(
        "not the address of a YouTube video (youtube.com/watch?v=..., /shorts/..., youtu.be/...)"
    )


def _video(video_id: str) -> VideoAddress:
    if not VIDEO_ID.match(video_id):
        raise UrlNotAllowed(f"'{video_id}' is not a YouTube video id (11 letters, digits, - or _)")
    # every form is fetched as the canonical watch page, so that is the host to check
    return VideoAddress(video_id, f"https://{WATCH_HOST}/watch?v={video_id}", WATCH_HOST)


def _same_origin(url: str, origin: str) -> bool:
    a, b = urlsplit(url), urlsplit(origin)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.scheme in (
        "http",
        "https",
    )


def check_public(host: str) -> None:
    """Refuse a host that resolves to a private, loopback, link-local or reserved address."""
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:  # the server's network, not the request, is at fault
        raise UpstreamError(
            f"'{host}' cannot be resolved from this server: {exc.strerror}"
        ) from exc
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            raise UrlNotAllowed(f"'{host}' resolves to {address}, which is not a public address")
