"""Genre detection service: ``POST /detect`` with an audio file, answers genre probabilities.

Two BentoML services. ``Genre`` (the front) decodes the upload, cuts the whole song into
windows and computes their log-mel features. ``GenreClassifier`` has one batchable API
that runs the network on windows; the front calls it through ``bentoml.depends``, so
windows of concurrent requests share one forward pass (adaptive batching).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np

from bentos.common.audio import decode_audio
from bentos.common.errors import AUDIO_ERRORS, AudioTooLarge
from bentos.common.http import api, harden
from bentos.common.settings import SERVICE_TIMEOUTS, AudioLimits, model_service
from bentos.common.store import find_model
from bentos.genre.monitoring import record, safe_audio_summary
from bentos.genre.settings import GenreSettings
from marketplace.contracts.schemas import AUDIO_UPLOAD, GenreResult

SETTINGS = GenreSettings()


@harden(model=True)
@bentoml.service(**model_service("genre-classifier", timeout=SERVICE_TIMEOUTS["genre"]))
class GenreClassifier:
    """The network, loaded once; classifies batches of feature windows."""

    # Resolved when a worker starts (or `bentoml build` bundles it), not at import.
    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)

    def __init__(self) -> None:
        import torch  # here, not at import: the other services never load it

        from bentos.genre.model_files import GenreModel

        if SETTINGS.torch_threads:
            torch.set_num_threads(SETTINGS.torch_threads)
        self.model = GenreModel.load(find_model(SETTINGS.model_tag).path)

    @bentoml.api(**SETTINGS.batchable_api())
    def classify(self, windows: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``(windows, genres)`` for ``(windows, C, mels, frames)``."""
        return self.model.window_probabilities(np.asarray(windows, dtype=np.float32))


# max_concurrency bounds the decodes in flight (each holds a song's PCM in memory).
@harden(upload_limit=AudioLimits().max_upload_bytes, upload_error=AudioTooLarge)
@bentoml.service(
    name="genre", traffic={"timeout": SERVICE_TIMEOUTS["genre"], "max_concurrency": 32}
)
class Genre:
    """Front API: validates and decodes the upload, cuts windows, averages the answers."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)
    classifier = bentoml.depends(GenreClassifier)

    def __init__(self) -> None:
        from bentos.genre.features import LogMel  # torch: the features are computed here
        from bentos.genre.model_files import read_config

        stored = find_model(SETTINGS.model_tag)
        self.model_tag = str(stored.tag)
        self.config = read_config(stored.path)
        self.extractor = LogMel(self.config.features)
        self.limits = AudioLimits()

    @api(route="/detect", errors=AUDIO_ERRORS)
    async def detect(
        self,
        audio: Annotated[Path, AUDIO_UPLOAD],
    ) -> GenreResult:
        """Detect the genre of a whole song: every window is classified, then averaged.

        Bad input answers 400 (empty), 413 (too large or too long), 415 (not audio)
        or 422 (corrupt or truncated), with ``{"error", "detail"}``.
        """
        from bentos.genre.model_files import track_probabilities

        features, duration, summary = await asyncio.to_thread(self._features, audio)
        window_probs = await self.classifier.to_async.classify(features)
        probs = track_probabilities(np.asarray(window_probs))
        labels = self.config.labels
        probabilities = {label: float(p) for label, p in zip(labels, probs, strict=True)}
        if SETTINGS.monitoring:
            record(summary, probabilities, SETTINGS.monitor_dir)
        return GenreResult(
            genre=labels[int(probs.argmax())],
            probabilities=probabilities,
            windows=len(features),
            duration=duration,
            model=self.model_tag,
        )

    def _features(self, audio: Path) -> tuple[np.ndarray, float, dict[str, float] | None]:
        from bentos.genre.features import window_features

        fc = self.config.features
        decoded = decode_audio(
            audio, sample_rate=fc.sample_rate, channels=fc.channels, limits=self.limits
        )
        features = window_features(decoded.samples, fc, extractor=self.extractor)
        summary = (
            safe_audio_summary(decoded.samples, fc.sample_rate) if SETTINGS.monitoring else None
        )
        return features, decoded.duration, summary
