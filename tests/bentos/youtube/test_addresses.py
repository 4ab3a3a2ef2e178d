"""Which addresses the youtube service accepts, and why it refuses the others."""

from __future__ import annotations

import pytest

from bentos.common.errors import UpstreamError, UrlNotAllowed
from bentos.youtube.addresses import check_public, parse_video_url

VIDEO = "dQw4w9WgXcQ"
CANONICAL = f"https://www.youtube.com/watch?v={VIDEO}"


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={VIDEO}",
        f"https://youtube.com/watch?v={VIDEO}",
        f"https://m.youtube.com/watch?v={VIDEO}",
        f"https://music.youtube.com/watch?v={VIDEO}",
        f"https://WWW.YouTube.com/watch?v={VIDEO}",
        f"https://www.youtube.com./watch?v={VIDEO}",
        f"https://www.youtube.com:443/watch?v={VIDEO}",
        f"https://www.youtube.com/watch?v={VIDEO}&t=42s",
        f"https://www.youtube.com/watch?feature=share&v={VIDEO}",
        f"https://www.youtube.com/watch?v={VIDEO}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
        f"https://www.youtube.com/shorts/{VIDEO}",
        f"https://www.youtube.com/shorts/{VIDEO}/",
        f"https://youtu.be/{VIDEO}",
        f"https://youtu.be/{VIDEO}?si=abcdef",
        f"  https://youtu.be/{VIDEO}  ",
    ],
)
def test_video_forms_are_fetched_as_the_canonical_watch_page(url: str) -> None:
    address = parse_video_url(url)
    assert (address.video_id, address.url, address.host) == (VIDEO, CANONICAL, "www.youtube.com")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"http://www.youtube.com/watch?v={VIDEO}", "https"),
        (f"ftp://youtube.com/watch?v={VIDEO}", "https"),
        (f"//www.youtube.com/watch?v={VIDEO}", "https"),
        (f"www.youtube.com/watch?v={VIDEO}", "https"),
        (f"https://evil.com/watch?v={VIDEO}", "not a YouTube address"),
        (f"https://youtube.com.evil.com/watch?v={VIDEO}", "not a YouTube address"),
        (f"https://www.youtube.com@evil.com/watch?v={VIDEO}", "credentials"),
        (f"https://user:pw@www.youtube.com/watch?v={VIDEO}", "credentials"),
        (f"https://www.youtube.com:8080/watch?v={VIDEO}", "port"),
        (f"https://www.youtube.com:99999/watch?v={VIDEO}", "not a valid address"),
        (f"https://127.0.0.1/watch?v={VIDEO}", "not a YouTube address"),
        (f"https://googlevideo.com/videoplayback?v={VIDEO}", "not a YouTube address"),
        ("https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", "playlist"),
        ("https://www.youtube.com/watch?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", "playlist"),
        ("https://www.youtube.com/@channel", "not the address of a YouTube video"),
        ("https://www.youtube.com/", "not the address of a YouTube video"),
        (f"https://www.youtube.com/embed/{VIDEO}", "not the address of a YouTube video"),
        ("https://www.youtube.com/watch?v=short", "not a YouTube video id"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ%2F..%2F", "not a YouTube video id"),
        ("https://youtu.be/", "not a YouTube video id"),
        (f"https://youtu.be/{VIDEO}/extra", "not a YouTube video id"),
        ("https://www.youtube.com/watch?v=" + "a" * 3000, "longer than"),
        ("not a url at all", "https"),
        ("file:///etc/passwd", "https"),
    ],
)
def test_other_addresses_are_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(UrlNotAllowed, match=reason) as refused:
        parse_video_url(url)
    assert refused.value.status == 400 and refused.value.code == "url_not_allowed"


def test_the_test_origin_is_admitted_only_when_configured() -> None:
    origin = "http://127.0.0.1:8123"
    with pytest.raises(UrlNotAllowed):
        parse_video_url(f"{origin}/song.mp3")
    address = parse_video_url(f"{origin}/song.mp3", test_origin=origin)
    assert address.video_id is None and address.url == f"{origin}/song.mp3"
    for other in ("http://127.0.0.1:8124/song.mp3", "http://localhost:8123/song.mp3"):
        with pytest.raises(UrlNotAllowed):
            parse_video_url(other, test_origin=origin)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "10.1.2.3", "192.168.0.1", "::1"])
def test_hosts_resolving_to_private_or_loopback_addresses_are_refused(host: str) -> None:
    with pytest.raises(UrlNotAllowed, match="not a public address"):
        check_public(host)


def test_public_addresses_pass_and_unresolvable_hosts_are_the_servers_problem() -> None:
    check_public("8.8.8.8")
    with pytest.raises(UpstreamError, match="cannot be resolved"):
        check_public("no-such-host.invalid")
