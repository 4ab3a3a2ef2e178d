"""Transcription service: ``POST /transcribe`` with an audio file and optional language.

The front (``Transcribe``) decodes the upload to 16 kHz mono, cuts it into windows of at
most 30 s at pauses, skips silent ones and computes each window's log-mel. ``Whisper``
has two batchable APIs, language detection and decoding, over windows: windows of
concurrent requests share one batched decode. The front stitches the windows' segments
back in order with song timestamps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from pydantic import BaseModel, Field

from bentos.common.audio import decode_audio
from bentos.common.errors import AUDIO_ERRORS, AudioTooLarge, UnknownLanguage
from bentos.common.http import api, harden
from bentos.common.settings import (
    SERVICE_TIMEOUTS,
    AudioLimits,
    MarketplaceSettings,
    Profile,
    model_service,
)
from bentos.transcribe.engine import N_FRAMES, WhisperEngine, window_mel
from bentos.transcribe.settings import TranscribeSettings
from bentos.transcribe.stitching import stitch
from bentos.transcribe.windows import SAMPLE_RATE, Window, cut_at_pauses, is_silent
from marketplace.contracts.schemas import AUDIO_UPLOAD, OptionalLanguage, Segment, TranscriptResult

SETTINGS = TranscribeSettings()
DETECT_WINDOWS = 3  # language is detected on up to this many windows spread over the song
UNDETERMINED = "und"
UNSPACED = {"zh", "ja", "th", "lo", "my", "bo", "yue"}  # scripts without spaces between words


class MelWindow(BaseModel):
    mel: bytes = Field(description="float32 log-mel, (n_mels, 3000), C order")
    language: str = ""
    duration: float = 30.0


class WindowTranscript(BaseModel):
    segments: list[Segment]
    no_speech: bool


class ModelInfo(BaseModel):
    name: str
    n_mels: int
    languages: list[str]


def model_source() -> str:
    if MarketplaceSettings().profile is Profile.SMOKE:
        from bentos.transcribe.smoke import smoke_checkpoint

        return smoke_checkpoint()
    return SETTINGS.model


def _mels(items: list[MelWindow], n_mels: int) -> np.ndarray:
    return np.stack(
        [np.frombuffer(i.mel, dtype=np.float32).reshape(n_mels, N_FRAMES) for i in items]
    )


@harden(model=True)
@bentoml.service(**model_service("whisper", timeout=SERVICE_TIMEOUTS["transcribe"]))
class Whisper:
    """The Whisper model, loaded once (fp16 on CUDA, fp32 on CPU)."""

    def __init__(self) -> None:
        self.source = model_source()
        self.engine = WhisperEngine(self.source, SETTINGS.download_root, SETTINGS.beam_size)

    @bentoml.api
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=Path(self.source).name, n_mels=self.engine.n_mels, languages=self.engine.languages
        )

    @bentoml.api(**SETTINGS.batchable_api())
    def detect_batch(self, windows: list[MelWindow]) -> list[dict[str, float]]:
        return self.engine.detect_language(_mels(windows, self.engine.n_mels))

    @bentoml.api(**SETTINGS.batchable_api())
    def decode_batch(self, windows: list[MelWindow]) -> list[WindowTranscript]:
        results = self.engine.decode(
            _mels(windows, self.engine.n_mels),
            [w.language for w in windows],
            [w.duration for w in windows],
        )
        return [WindowTranscript(segments=s, no_speech=ns) for s, ns in results]


@harden(upload_limit=AudioLimits().max_upload_bytes, upload_error=AudioTooLarge)
@bentoml.service(
    name="transcribe", traffic={"timeout": SERVICE_TIMEOUTS["transcribe"], "max_concurrency": 32}
)
class Transcribe:
    """Front API: decoding, windows, language, stitching."""

    whisper = bentoml.depends(Whisper)

    def __init__(self) -> None:
        self.limits = AudioLimits()
        self.info: ModelInfo | None = None

    @api(route="/transcribe", errors=(*AUDIO_ERRORS, UnknownLanguage))
    async def transcribe(
        self,
        audio: Annotated[Path, AUDIO_UPLOAD],
        language: OptionalLanguage = None,
    ) -> TranscriptResult:
        """Lyrics of a whole song with timestamps; instrumental audio answers no_speech.

        Bad input answers 400 (empty, or a language Whisper does not know), 413 (too large
        or too long), 415 (not audio) or 422 (corrupt or truncated), with ``{"error", "detail"}``.
        """
        if self.info is None:
            self.info = ModelInfo.model_validate(await self.whisper.to_async.info())
        if language is not None and language not in self.info.languages:
            raise UnknownLanguage(f"language '{language}' is not one Whisper knows")
        samples, windows, mels = await asyncio.to_thread(self._prepare, audio)
        duration = len(samples) / SAMPLE_RATE
        speech = [i for i, m in enumerate(mels) if m is not None]
        if not speech:
            return self._answer(
                "", language or UNDETERMINED, 0.0 if language is None else 1.0, duration, [], 0
            )
        lang, probability = language, 1.0
        if lang is None:
            lang, probability = await self._detect([mels[i] for i in speech])
        items = [
            MelWindow(mel=mels[i], language=lang, duration=windows[i].duration) for i in speech
        ]
        decoded = await self.whisper.to_async.decode_batch(items)
        parts = [
            (windows[i].offset, WindowTranscript.model_validate(d).segments)
            for i, d in zip(speech, decoded, strict=True)
        ]
        segments = stitch(parts)
        text = ("" if lang in UNSPACED else " ").join(s.text for s in segments).strip()
        return self._answer(text, lang, probability, duration, segments, len(speech))

    def _prepare(self, audio: Path) -> tuple[np.ndarray, list[Window], list[bytes | None]]:
        decoded = decode_audio(audio, sample_rate=SAMPLE_RATE, channels=1, limits=self.limits)
        samples = decoded.samples[0]
        windows = cut_at_pauses(samples)
        mels = [
            None
            if is_silent(samples[w.start : w.end])
            else window_mel(samples[w.start : w.end], self.info.n_mels).tobytes()
            for w in windows
        ]
        return samples, windows, mels

    async def _detect(self, mels: list[bytes]) -> tuple[str, float]:
        spread = np.linspace(0, len(mels) - 1, min(DETECT_WINDOWS, len(mels))).round()
        chosen = [MelWindow(mel=mels[int(i)]) for i in sorted(set(spread))]
        probs = await self.whisper.to_async.detect_batch(chosen)
        mean: dict[str, float] = {}
        for p in probs:
            for code, value in p.items():
                mean[code] = mean.get(code, 0.0) + value / len(probs)
        best = max(mean, key=mean.__getitem__)
        return best, float(mean[best])

    def _answer(
        self,
        text: str,
        language: str,
        probability: float,
        duration: float,
        segments: list[Segment],
        windows: int,
    ) -> TranscriptResult:
        return TranscriptResult(
            text=text,
            language=language,
            language_probability=min(probability, 1.0),
            duration=duration,
            segments=segments,
            no_speech=not text,
            windows=windows,
            model=self.info.name if self.info else "",
        )
