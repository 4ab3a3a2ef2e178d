"""What the genre service records about each request, for drift reports.

One module for serving and training: the service logs these columns for every song it
classifies (``bentoml.monitor``), and the training pipeline computes the same columns on
its training split as the drift reference. Audio summaries are cheap (one FFT per
non-overlapping frame) and independent of the model; the prediction summary says how
sure the model was.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("bentoml.genre.monitoring")

MONITOR = "genre_requests"  # the monitor's name, and its folder under the log path
FRAME = 2048
ROLLOFF = 0.85  # share of the spectral energy below the roll-off frequency
BANDS_HZ = (250.0, 4000.0)  # low < 250 Hz <= mid < 4 kHz <= high
AUDIO_COLUMNS = (
    "loudness_db", "spectral_centroid_hz", "spectral_bandwidth_hz", "spectral_rolloff_hz",
    "zero_crossing_rate", "energy_low", "energy_mid", "energy_high",
)  # fmt: skip
PREDICTION_COLUMNS = ("top_probability", "entropy_bits")
CATEGORICAL_COLUMNS = ("genre",)
COLUMNS = (*AUDIO_COLUMNS, *PREDICTION_COLUMNS, *CATEGORICAL_COLUMNS)


def audio_summary(samples: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Loudness, spectral shape, zero crossings and band energies of a whole song.

    ``samples`` is ``(channels, frames)`` or mono; channels are averaged. Spectral values
    are averaged over frames weighted by their energy, so silence does not pull them down.
    """
    mono = np.asarray(samples, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    rms = float(np.sqrt(np.mean(mono**2))) if mono.size else 0.0
    summary = {
        "loudness_db": 20 * np.log10(max(rms, 1e-10)),
        "zero_crossing_rate": float(np.mean(np.abs(np.diff(np.signbit(mono).astype(np.int8)))))
        if mono.size > 1
        else 0.0,
    }
    n = mono.size // FRAME
    if n == 0:  # shorter than one frame: pad it
        frames = np.pad(mono, (0, FRAME - mono.size))[None, :]
    else:
        frames = mono[: n * FRAME].reshape(n, FRAME)
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME, d=1.0 / sample_rate)
    frame_energy = power.sum(axis=1)
    weights = frame_energy / frame_energy.sum() if frame_energy.sum() > 0 else None
    spectrum = np.maximum(frame_energy, 1e-20)[:, None]
    centroid = (power * freqs).sum(axis=1) / spectrum[:, 0]
    bandwidth = np.sqrt((power * (freqs - centroid[:, None]) ** 2).sum(axis=1) / spectrum[:, 0])
    cumulative = np.cumsum(power, axis=1)
    rolloff = freqs[np.argmax(cumulative >= ROLLOFF * cumulative[:, -1:], axis=1)]
    total = max(float(power.sum()), 1e-20)
    low, high = BANDS_HZ
    summary |= {
        "spectral_centroid_hz": float(np.average(centroid, weights=weights)),
        "spectral_bandwidth_hz": float(np.average(bandwidth, weights=weights)),
        "spectral_rolloff_hz": float(np.average(rolloff, weights=weights)),
        "energy_low": float(power[:, freqs < low].sum() / total),
        "energy_mid": float(power[:, (freqs >= low) & (freqs < high)].sum() / total),
        "energy_high": float(power[:, freqs >= high].sum() / total),
    }
    return {k: round(float(v), 6) for k, v in summary.items()}


def prediction_summary(probabilities: dict[str, float]) -> dict[str, float | str]:
    """The predicted genre, its probability and the entropy of the distribution (bits)."""
    p = np.clip(np.array(list(probabilities.values()), dtype=np.float64), 1e-12, 1.0)
    top = max(probabilities, key=probabilities.__getitem__)
    return {
        "genre": top,
        "top_probability": round(float(probabilities[top]), 6),
        "entropy_bits": round(float(-(p * np.log2(p)).sum()), 6),
    }


def record(summary: dict[str, float] | None, probabilities: dict[str, float], log_dir: Path):
    """Log one request's columns with ``bentoml.monitor``. Never raises: monitoring must
    not fail a prediction."""
    try:
        import bentoml

        if summary is None:
            return
        columns = {**summary, **prediction_summary(probabilities)}
        options = {"log_path": str(log_dir)}
        with bentoml.monitor(MONITOR, monitor_class="default", monitor_options=options) as mon:
            for name in (*AUDIO_COLUMNS, *PREDICTION_COLUMNS):
                role = "feature" if name in AUDIO_COLUMNS else "prediction"
                mon.log(columns[name], name=name, role=role, data_type="numerical")
            mon.log(columns["genre"], name="genre", role="prediction", data_type="categorical")
    except Exception:  # any failure here is logged and swallowed
        log.warning("could not record monitoring data for a request", exc_info=True)


def safe_audio_summary(samples: np.ndarray, sample_rate: int) -> dict[str, float] | None:
    try:
        return audio_summary(samples, sample_rate)
    except Exception:  # monitoring must not fail a prediction
        log.warning("could not summarise a request's audio for monitoring", exc_info=True)
        return None
