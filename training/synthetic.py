"""Synthetic labelled music: one recipe per genre, different spectra and rhythms.

It is not music anyone would mistake for the genre; it gives CI and the smoke profile a
learnable 11-class problem with no data to download. Each genre has its own pitch range,
timbre (harmonics, roll-off, distortion), tempo range, note length and drum pattern;
every track draws its tempo, notes, levels and noise from a seeded generator.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from marketplace.contracts.schemas import GENRES

PENTATONIC = np.array([0, 2, 4, 7, 9])


@dataclass(frozen=True)
class Recipe:
    f0: tuple[float, float]  # pitch range of the melodic line, Hz
    harmonics: int
    rolloff: float  # amplitude ratio between successive harmonics
    tempo: tuple[float, float]  # bpm
    note_beats: float
    pluck: bool = False
    distortion: float = 0.0
    vibrato: float = 0.0
    kick: str = "........"  # eight eighth-note slots per bar
    snare: str = "........"
    hat: str = "........"
    offbeat_chords: bool = False
    noise_band: tuple[float, float] | None = None
    noise_level: float = 0.0


RECIPES: dict[str, Recipe] = {
    "Blues": Recipe(
        (98, 165), 8, 0.7, (66, 80), 1.0, kick="x..x.x..", snare="..x...x.", hat="x.xx.xx."
    ),
    "Classical": Recipe((262, 523), 3, 0.35, (60, 72), 2.0, vibrato=0.004),
    "Country": Recipe(
        (196, 392),
        6,
        0.6,
        (100, 115),
        0.5,
        pluck=True,
        kick="x...x...",
        snare="..x...x.",
        hat="xxxxxxxx",
    ),
    "Disco": Recipe(
        (220, 440), 5, 0.5, (118, 126), 0.5, kick="x.x.x.x.", snare="..x...x.", hat=".x.x.x.x"
    ),
    "Electronic": Recipe(
        (55, 110),
        24,
        0.92,
        (126, 136),
        0.25,
        kick="x.x.x.x.",
        hat=".x.x.x.x",
        noise_band=(6000, 10000),
        noise_level=0.15,
    ),
    "Hip-Hop": Recipe(
        (40, 62), 2, 0.3, (84, 96), 2.0, kick="x..x..x.", snare="..x...x.", hat="x.x.x.x."
    ),
    "Jazz": Recipe(
        (147, 294),
        5,
        0.45,
        (140, 180),
        0.5,
        pluck=True,
        kick="x.......",
        hat="x.xxx.xx",
        noise_band=(3000, 8000),
        noise_level=0.05,
    ),
    "Metal": Recipe(
        (82, 165),
        25,
        0.95,
        (160, 200),
        0.25,
        distortion=8.0,
        kick="xxxxxxxx",
        snare="..x...x.",
        noise_band=(200, 9000),
        noise_level=0.2,
    ),
    "Pop": Recipe(
        (330, 660),
        4,
        0.5,
        (100, 120),
        1.0,
        vibrato=0.008,
        kick="x...x...",
        snare="..x...x.",
        hat="x.x.x.x.",
    ),
    "Reggae": Recipe(
        (65, 110), 3, 0.4, (68, 80), 1.0, kick="....x...", snare="....x...", offbeat_chords=True
    ),
    "Rock": Recipe(
        (110, 220),
        15,
        0.85,
        (110, 140),
        0.5,
        distortion=3.0,
        kick="x...x.x.",
        snare="..x...x.",
        hat="xxxxxxxx",
    ),
}
assert set(RECIPES) == set(GENRES)


def render(genre: str, seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One mono clip of ``genre``, float32 in [-1, 1]."""
    r = RECIPES[genre]
    n = int(seconds * sample_rate)
    beat = 60.0 / rng.uniform(*r.tempo)
    tonal = _melody(r, n, sample_rate, beat, rng)
    if r.distortion:
        tonal = np.tanh(r.distortion * tonal) / np.tanh(r.distortion)
    mix = 0.6 * tonal + _drums(r, n, sample_rate, beat, rng)
    if r.noise_band is not None:
        level = r.noise_level * rng.uniform(0.7, 1.3)
        mix += level * _band_noise(n, sample_rate, r.noise_band, rng)
    mix += 0.003 * rng.standard_normal(n)  # a little room noise, so silence is never exact
    mix /= np.abs(mix).max() + 1e-9
    return (mix * rng.uniform(0.3, 0.9)).astype(np.float32)


def _melody(r: Recipe, n: int, sr: int, beat: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n)
    low, high = r.f0
    root = low * 2 ** (rng.integers(0, 5) / 12)
    semitones = np.concatenate([PENTATONIC + 12 * k for k in range(4)])
    scale = root * 2 ** (semitones / 12)
    scale = scale[scale <= high] if (scale <= high).any() else scale[:1]
    note_len = int(r.note_beats * beat * sr)
    weights = r.rolloff ** np.arange(r.harmonics)
    for start in range(0, n, note_len):
        length = min(note_len, n - start)
        t = np.arange(length) / sr
        f = rng.choice(scale)
        phase_mod = r.vibrato * f / 5.0 * np.sin(2 * np.pi * 5.0 * t) if r.vibrato else 0.0
        note = np.zeros(length)
        for h, w in enumerate(weights, start=1):
            if f * h >= sr / 2:
                break
            note += w * np.sin(2 * np.pi * f * h * t + h * phase_mod + rng.uniform(0, 2 * np.pi))
        if r.pluck:
            env = np.exp(-t / (0.25 * note_len / sr))
        else:
            env = np.minimum(1.0, t / 0.02) * np.minimum(1.0, (length / sr - t) / 0.03)
        out[start : start + length] += env * note / weights.sum()
        if r.offbeat_chords:  # short mid-range chord stabs on the off-beats
            for offset in (note_len // 2,):
                s = start + offset
                if s < n:
                    out[s : s + int(0.08 * sr)] += _stab(3 * f, min(int(0.08 * sr), n - s), sr)
    return out


def _stab(f: float, length: int, sr: int) -> np.ndarray:
    t = np.arange(length) / sr
    chord = sum(np.sin(2 * np.pi * f * ratio * t) for ratio in (1.0, 1.26, 1.5))
    return 0.5 * chord * np.exp(-t / 0.03)


def _drums(r: Recipe, n: int, sr: int, beat: float, rng: np.random.Generator) -> np.ndarray:
    slot = beat / 2
    out = np.zeros(n)
    for pattern, sound, level in (
        (r.kick, _kick(sr), 0.9),
        (r.snare, _snare(sr, rng), 0.5),
        (r.hat, _hat(sr, rng), 0.25),
    ):
        if "x" not in pattern:
            continue
        hits = np.zeros(n)
        for i, start in enumerate(np.arange(0, n / sr, slot)):
            if pattern[i % len(pattern)] == "x":
                hits[int(start * sr)] = level * rng.uniform(0.8, 1.0)
        out += fftconvolve(hits, sound)[:n]
    return out


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.15 * sr)) / sr
    freq = 50 + 100 * np.exp(-t / 0.03)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.05)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.12 * sr)) / sr
    noise = _band_noise(len(t), sr, (1000, 5000), rng)
    return (0.7 * noise + 0.3 * np.sin(2 * np.pi * 185 * t)) * np.exp(-t / 0.04)


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.04 * sr)) / sr
    return _band_noise(len(t), sr, (7000, sr / 2 - 1), rng) * np.exp(-t / 0.01)


def _band_noise(n: int, sr: int, band: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.abs(noise).max() + 1e-9)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Mono float samples to a 16-bit PCM WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())


def track_rng(seed: int, genre: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, GENRES.index(genre), index])


def generate_dataset(
    folder: Path, *, tracks_per_genre: int, seconds: float, sample_rate: int, seed: int
) -> list[tuple[str, Path]]:
    """Write a GTZAN-layout folder ``<genre>/<genre>.<nnnnn>.wav``; return (genre, path)."""
    written = []
    for genre in GENRES:
        for i in range(tracks_per_genre):
            path = folder / genre / f"{genre.lower()}.{i:05d}.wav"
            write_wav(
                path, render(genre, seconds, sample_rate, track_rng(seed, genre, i)), sample_rate
            )
            written.append((genre, path))
    return written
