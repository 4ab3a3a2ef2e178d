"""Log-mel features of the genre model, computed with torch alone (no torchaudio).

Serving and training both import this module, so the features the model was trained on
are exactly the ones it is served with. A trained model carries its ``FeatureConfig``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator


class FeatureConfig(BaseModel):
    """Audio and spectrogram parameters (``audio`` and ``features`` in params.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_rate: int = Field(22050, ge=8000, le=96000)
    channels: int = Field(1, ge=1, le=2)
    n_fft: int = Field(2048, ge=64)
    hop_length: int = Field(512, ge=16)
    n_mels: int = Field(64, ge=8, le=256)
    f_min: float = Field(20.0, ge=0)
    f_max: float | None = Field(None, description="None means sample_rate / 2")
    top_db: float = Field(80.0, gt=0)
    window_seconds: float = Field(5.0, gt=0, description="length of one analysed window")
    window_hop_seconds: float = Field(5.0, gt=0, description="step between windows at serving")
    silence_dbfs: float = Field(
        -60.0, le=0, description="windows quieter than this RMS level are not analysed"
    )

    @model_validator(mode="after")
    def _check_band(self) -> FeatureConfig:
        if self.upper_frequency > self.sample_rate / 2 or self.f_min >= self.upper_frequency:
            raise ValueError("need f_min < f_max <= sample_rate / 2")
        if self.window_samples < self.n_fft:
            raise ValueError("window_seconds is shorter than one FFT frame")
        return self

    @property
    def upper_frequency(self) -> float:
        return self.f_max if self.f_max is not None else self.sample_rate / 2

    @property
    def window_samples(self) -> int:
        return round(self.window_seconds * self.sample_rate)

    @property
    def frames_per_window(self) -> int:
        return self.window_samples // self.hop_length + 1


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Start offsets of windows covering the whole signal.

    Windows step by ``hop``; when the last one stops short of the end, one more window
    is aligned to the end, so every sample is analysed. A signal shorter than one window
    yields one window (it is tiled, see :func:`cut_windows`).
    """
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(n_samples - window)
    return starts


def cut_windows(samples: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Cut ``(channels, n)`` PCM into ``(windows, channels, window)``.

    Audio shorter than one window is repeated to fill it (repetition keeps the sound's
    spectrum and rhythm, where padding with silence would not).
    """
    n = samples.shape[1]
    if n == 0:
        raise ValueError("no samples to cut into windows")
    if n < window:
        samples = np.tile(samples, (1, math.ceil(window / n)))[:, :window]
        n = window
    starts = window_starts(n, window, hop)
    return np.stack([samples[:, s : s + window] for s in starts]).astype(np.float32, copy=False)


def drop_silent(windows: np.ndarray, silence_dbfs: float) -> np.ndarray:
    """Keep windows louder than ``silence_dbfs`` (RMS); always keep at least the loudest.

    Per-window dB scaling would turn digital silence (intros, fade-outs, gaps) into a
    flat image that weighs on the average like music does.
    """
    rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=(1, 2)))
    level = 20 * np.log10(np.maximum(rms, 1e-12))
    keep = level > silence_dbfs
    if not keep.any():
        keep[int(level.argmax())] = True
    return windows[keep]


def mel_filterbank(config: FeatureConfig) -> torch.Tensor:
    """Triangular mel filters (HTK mel scale, Slaney area normalisation): (n_mels, bins)."""

    def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    n_bins = config.n_fft // 2 + 1
    bin_hz = torch.linspace(0, config.sample_rate / 2, n_bins, dtype=torch.float64)
    edges_mel = torch.linspace(
        hz_to_mel(torch.tensor(config.f_min, dtype=torch.float64)).item(),
        hz_to_mel(torch.tensor(config.upper_frequency, dtype=torch.float64)).item(),
        config.n_mels + 2,
        dtype=torch.float64,
    )
    edges = mel_to_hz(edges_mel)
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bin_hz[None, :] - lower) / (center - lower)
    falling = (upper - bin_hz[None, :]) / (upper - center)
    filters = torch.clamp(torch.minimum(rising, falling), min=0.0)
    filters *= 2.0 / (upper - lower)  # equal area per filter
    return filters.to(torch.float32)


class LogMel(torch.nn.Module):
    """``(batch, channels, samples)`` PCM to ``(batch, channels, n_mels, frames)`` features.

    Power mel spectrogram in dB relative to each window's maximum, floored at ``-top_db``,
    then scaled to [-1, 1]: the model sees spectral shape and rhythm, not loudness.
    """

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        self.register_buffer("filters", mel_filterbank(config), persistent=False)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        batch, channels, n = waves.shape
        spec = torch.stft(
            waves.reshape(batch * channels, n),
            n_fft=self.config.n_fft,
            hop_length=self.config.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()
        mel = torch.matmul(self.filters, power)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        db = db.reshape(batch, channels, self.config.n_mels, -1)
        peak = db.amax(dim=(1, 2, 3), keepdim=True)
        db = torch.maximum(db - peak, torch.tensor(-self.config.top_db))
        half = self.config.top_db / 2
        return (db + half) / half


def window_features(
    samples: np.ndarray,
    config: FeatureConfig,
    *,
    hop_seconds: float | None = None,
    extractor: LogMel | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Cut a decoded track into windows and compute their features, chunk by chunk.

    Returns float32 ``(windows, channels, n_mels, frames_per_window)``.
    """
    extractor = extractor or LogMel(config)
    hop = round((hop_seconds or config.window_hop_seconds) * config.sample_rate)
    windows = drop_silent(cut_windows(samples, config.window_samples, hop), config.silence_dbfs)
    parts = []
    with torch.inference_mode():
        for i in range(0, len(windows), chunk):
            parts.append(extractor(torch.from_numpy(windows[i : i + chunk])).numpy())
    return np.concatenate(parts)
