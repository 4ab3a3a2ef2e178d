"""Transcription throughput: adaptive batching on vs off, same model and songs, one run.

N concurrent clients send songs to ``POST /transcribe``; the service is started twice with
``TRANSCRIBE_BATCHING=true`` and ``false``. Prints requests/s, windows/s, p50 and p95
latency, the ratios, and the real-time factor (audio seconds per wall-clock second).

    .venv/bin/python bench/transcribe_throughput.py --clients 8 --requests 24

The default smoke profile uses a tiny random Whisper: decoding is greedy and the inputs
are the same, so both modes decode exactly the same tokens (the script checks that the
transcripts are identical), which makes the timing comparison fair although the text is
noise. For real figures set ``MARKETPLACE_PROFILE=full`` and ``WHISPER_MODEL``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import httpx
from loadgen import compare_batching, print_comparison


def make_songs(count: int, seconds: float) -> list[bytes]:
    from bentos.common.audio import ffmpeg_exe

    songs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            path = Path(tmp) / f"{i}.mp3"
            subprocess.run(
                [
                    ffmpeg_exe(),
                    "-loglevel",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    f"sine=frequency={180 + 40 * i}:duration={seconds}",
                    "-f",
                    "lavfi",
                    "-i",
                    f"anoisesrc=duration={seconds}:amplitude=0.05:seed={i}",
                    "-filter_complex",
                    "amix=inputs=2",
                    str(path),
                ],
                check=True,
            )
            songs.append(path.read_bytes())
    return songs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=24, help="requests per mode")
    parser.add_argument("--seconds", type=float, default=75.0, help="length of each song")
    args = parser.parse_args()
    profile = os.environ.setdefault("MARKETPLACE_PROFILE", "smoke")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    songs = make_songs(4, args.seconds)
    transcripts: dict[str, dict[int, str]] = {}

    async def send(http: httpx.AsyncClient, i: int, url: str) -> int:
        song = i % len(songs)
        response = await http.post(f"{url}/transcribe", files={"audio": ("s.mp3", songs[song])})
        response.raise_for_status()
        body = response.json()
        transcripts.setdefault(url, {})[song] = body["text"]
        return int(body["windows"])

    print(
        f"transcribe throughput: profile {profile}, {args.clients} clients, {args.requests} "
        f"requests of {args.seconds:g} s songs per mode, {os.cpu_count()} CPUs"
    )
    results = compare_batching(
        "bentos.transcribe.service:Transcribe",
        "TRANSCRIBE_BATCHING",
        send,
        args.clients,
        args.requests,
    )
    print_comparison(results, "windows")
    for mode, r in results.items():
        print(
            f"{mode}: real-time factor {r['req_per_s'] * args.seconds:.1f}x "
            "(seconds of audio transcribed per second)"
        )
    first, second = transcripts.values()
    print(f"identical transcripts in both modes: {first == second}")


if __name__ == "__main__":
    main()
