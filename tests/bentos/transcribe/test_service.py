"""The transcribe service over real HTTP with a tiny random Whisper (smoke profile).

The transcripts are noise (random weights); what is tested is the path a real model takes:
windows, language, batching, stitching, timestamps and the errors.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import pytest

from tests.conftest import ffmpeg, serve_smoke

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def transcribe_url(tmp_path_factory: pytest.TempPathFactory):
    with serve_smoke(
        "bentos.transcribe.service:Transcribe", tmp_path_factory, AUDIO_MAX_SECONDS="120"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 s of tone and noise with a 0.5 s pause at 27 s."""
    path = tmp_path_factory.mktemp("audio") / "song.mp3"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:duration=70",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=duration=70:amplitude=0.05",
        "-filter_complex",
        "amix=inputs=2,volume='if(between(t,27,27.5),0,1)':eval=frame",
        str(path),
    )
    return path


def post(url: str, path: Path, **data: str) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            f"{url}/transcribe", files={"audio": (path.name, handle)}, data=data, timeout=300
        )


def test_multi_window_song_is_stitched_in_order(transcribe_url: str, song: Path) -> None:
    result = post(transcribe_url, song).json()
    assert result["duration"] == pytest.approx(70.0, abs=0.1)
    assert result["windows"] == 3
    segments = result["segments"]
    assert segments, "the random model still emits text"
    starts = [s["start"] for s in segments]
    assert starts == sorted(starts)
    assert all(0 <= s["start"] <= s["end"] <= 70.0 for s in segments)
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in itertools.pairwise(segments))
    assert any(s["start"] >= 27.0 for s in segments)  # text from later windows is shifted
    assert result["text"] == " ".join(s["text"] for s in segments)
    assert 0 < result["language_probability"] <= 1 and result["no_speech"] is False


def test_given_language_is_used(transcribe_url: str, song: Path) -> None:
    result = post(transcribe_url, song, language="es").json()
    assert result["language"] == "es" and result["language_probability"] == 1.0


def test_silence_answers_no_speech(transcribe_url: str, tmp_path: Path) -> None:
    silence = tmp_path / "silence.ogg"
    ffmpeg(
        "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "15", "-c:a", "libopus", str(silence)
    )
    response = post(transcribe_url, silence)
    assert response.status_code == 200
    result = response.json()
    assert result["no_speech"] is True and result["text"] == "" and result["segments"] == []


def test_concurrent_requests_keep_their_own_windows(
    transcribe_url: str, song: Path, tmp_path: Path
) -> None:
    short = tmp_path / "short.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=8", str(short))

    async def run() -> list[dict]:
        async with httpx.AsyncClient(timeout=300) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{transcribe_url}/transcribe", files={"audio": (p.name, p.read_bytes())}
                    )
                    for p in (song, short, song)
                )
            )
        return [r.json() for r in responses]

    long_a, small, long_b = asyncio.run(run())
    assert (long_a["windows"], small["windows"], long_b["windows"]) == (3, 1, 3)
    assert long_a["segments"] == long_b["segments"]  # batching does not mix requests up
    assert small == post(transcribe_url, short).json()  # same answer as sent alone


def test_bad_input_gets_its_4xx(transcribe_url: str, tmp_path: Path) -> None:
    text = tmp_path / "lyrics.txt"
    text.write_text("not audio\n" * 50)
    assert post(transcribe_url, text).status_code == 415
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    assert post(transcribe_url, empty).json()["error"] == "empty_audio"
    long = tmp_path / "long.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=130", "-b:a", "32k", str(long))
    assert post(transcribe_url, long).status_code == 413
    clip = tmp_path / "clip.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", str(clip))
    unknown = post(transcribe_url, clip, language="xx")
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_language"


def test_docs_json_lists_transcribe(transcribe_url: str) -> None:
    assert "/transcribe" in httpx.get(f"{transcribe_url}/docs.json", timeout=10).json()["paths"]
