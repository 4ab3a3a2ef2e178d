"""The youtube service over real HTTP.

YouTube cannot be reached from the test machines: the download and conversion path runs
with yt-dlp's generic extractor against a local file server, which the service admits
only because its environment names that server (YOUTUBE_TEST_ORIGIN).
"""

from __future__ import annotations

import base64
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bentos.common.audio import decode_audio
from stack.local import free_port
from tests.conftest import ffmpeg, make_audio, serve_smoke

pytestmark = pytest.mark.slow


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("site")
    make_audio(folder / "song.mp3", seconds=6.0)
    make_audio(folder / "song.ogg", seconds=5.0)  # opus
    make_audio(folder / "song.m4a", seconds=4.0)  # aac
    make_audio(folder / "long.mp3", seconds=14.0)
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=2:size=64x64:rate=5", str(folder / "silent.mp4"))
    (folder / "notes.txt").write_text("not a song")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def youtube_url(files, tmp_path_factory: pytest.TempPathFactory):
    _, origin = files
    with serve_smoke(
        "bentos.youtube.service:Youtube",
        tmp_path_factory,
        YOUTUBE_TEST_ORIGIN=origin,
        YOUTUBE_MAX_SECONDS="10",
    ) as url:
        yield url


def fetch(service: str, **body) -> httpx.Response:
    return httpx.post(f"{service}/fetch", json=body, timeout=120)


def test_mp3_comes_back_as_mp3_with_its_metadata(youtube_url: str, files) -> None:
    _, origin = files
    response = fetch(youtube_url, url=f"{origin}/song.mp3")
    assert response.status_code == 200
    result = response.json()
    assert result["format"] == "mp3" and result["title"] == "song"
    assert result["duration"] == pytest.approx(6.0, abs=0.1)
    audio = base64.b64decode(result["audio"])
    assert decode_audio(audio, sample_rate=16000, channels=1).duration == pytest.approx(6.0, 0.05)


@pytest.mark.parametrize(
    ("name", "fmt", "seconds"), [("song.ogg", "ogg", 5.0), ("song.m4a", "mp3", 4.0)]
)
def test_opus_is_kept_in_ogg_and_other_codecs_become_mp3(
    youtube_url: str, files, name: str, fmt: str, seconds: float
) -> None:
    _, origin = files
    result = fetch(youtube_url, url=f"{origin}/{name}").json()
    assert result["format"] == fmt
    audio = base64.b64decode(result["audio"])
    assert audio[:4] == b"OggS" if fmt == "ogg" else audio[:3] in (b"ID3", b"\xff\xfb")
    decoded = decode_audio(audio, sample_rate=16000, channels=1)
    assert decoded.duration == pytest.approx(seconds, abs=0.1)


def test_too_long_is_refused_with_413(youtube_url: str, files) -> None:
    _, origin = files
    response = fetch(youtube_url, url=f"{origin}/long.mp3")
    assert response.status_code == 413
    assert response.json()["error"] == "video_too_long"
    assert "YOUTUBE_MAX_SECONDS" in response.json()["detail"]


def test_a_video_without_sound_is_not_passed_on(youtube_url: str, files) -> None:
    _, origin = files
    response = fetch(youtube_url, url=f"{origin}/silent.mp4")
    assert response.status_code >= 400 and response.json()["detail"]


def test_missing_file_names_the_failure(youtube_url: str, files) -> None:
    _, origin = files
    response = fetch(youtube_url, url=f"{origin}/missing.mp3")
    assert response.status_code in (404, 502)
    assert "404" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
        "https://example.com/song.mp3",
        "http://127.0.0.1:1/song.mp3",
        "https://youtu.be/bad",
    ],
)
def test_addresses_outside_the_rules_get_400(youtube_url: str, url: str) -> None:
    response = fetch(youtube_url, url=url)
    assert response.status_code == 400
    assert response.json()["error"] == "url_not_allowed"


def test_a_request_cannot_admit_another_origin(youtube_url: str) -> None:
    other = f"http://127.0.0.1:{free_port()}"
    response = fetch(youtube_url, url=f"{other}/song.mp3", test_origin=other)
    assert response.status_code == 400 and response.json()["error"] == "url_not_allowed"


def test_missing_or_empty_url_is_refused(youtube_url: str) -> None:
    assert httpx.post(f"{youtube_url}/fetch", json={}, timeout=30).status_code == 400
    assert fetch(youtube_url, url="").status_code == 400


def test_files_are_not_left_behind(youtube_url: str, files) -> None:
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("marketplace-youtube-*"))
    _, origin = files
    fetch(youtube_url, url=f"{origin}/song.mp3")
    fetch(youtube_url, url=f"{origin}/long.mp3")
    assert set(Path(tempfile.gettempdir()).glob("marketplace-youtube-*")) <= before
