"""Single synthetic clips as files, for the demo, the benchmarks and the tests.

Kept apart from ``training.synthetic`` so the prepare stage does not depend on the audio
decoder's module.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bentos.common.audio import ffmpeg_exe
from training.synthetic import render, track_rng, write_wav


def write_clip(
    path: Path,
    genre: str,
    seconds: float,
    *,
    seed: int,
    index: int = 0,
    sample_rate: int = 22050,
) -> Path:
    """One synthetic clip of ``genre``, encoded by ``path``'s suffix (WAV, or any format
    ffmpeg writes, e.g. MP3): the clips the demo, benchmarks and tests send."""
    samples = render(genre, seconds, sample_rate, track_rng(seed, genre, index))
    if path.suffix.lower() == ".wav":
        write_wav(path, samples, sample_rate)
        return path
    wav = path.with_name(f".{path.stem}.tmp.wav")
    write_wav(wav, samples, sample_rate)
    try:
        subprocess.run(
            [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(wav), str(path)], check=True
        )
    finally:
        wav.unlink(missing_ok=True)
    return path
