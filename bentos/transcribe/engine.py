"""Whisper, loaded once: batched language detection and batched decoding of 30 s windows."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from bentos.transcribe.stitching import parse_segments
from marketplace.contracts.schemas import Segment

if TYPE_CHECKING:  # torch and whisper load with the model, not at import
    import torch

N_FRAMES = 3000  # 30 s of 10 ms mel frames: Whisper's fixed input
# Whisper's own rule for a window without speech.
NO_SPEECH_PROB, LOGPROB_FLOOR = 0.6, -1.0


def window_mel(samples: np.ndarray, n_mels: int) -> np.ndarray:
    """Log-mel of one window of 16 kHz audio, padded to 30 s: (n_mels, 3000) float32."""
    import torch
    import whisper

    audio = whisper.pad_or_trim(torch.from_numpy(np.ascontiguousarray(samples)))
    return whisper.log_mel_spectrogram(audio, n_mels=n_mels).numpy()


class WhisperEngine:
    def __init__(
        self, source: str, download_root: str | None = None, beam_size: int | None = None
    ) -> None:
        import torch
        import whisper

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = whisper.load_model(source, device=self.device, download_root=download_root)
        self.fp16 = self.device == "cuda"
        self.beam_size = beam_size
        self.n_mels = self.model.dims.n_mels
        multilingual = self.model.is_multilingual
        self.languages = list(self._tokenizer("en").all_language_codes) if multilingual else ["en"]

    @cache  # noqa: B019 - one engine per process, a handful of languages
    def _tokenizer(self, language: str):
        from whisper.tokenizer import get_tokenizer

        return get_tokenizer(
            self.model.is_multilingual,
            num_languages=self.model.num_languages,
            language=language,
            task="transcribe",
        )

    def _tensor(self, mels: np.ndarray) -> torch.Tensor:
        import torch

        dtype = torch.float16 if self.fp16 else torch.float32
        return torch.from_numpy(mels).to(self.device, dtype)

    def detect_language(self, mels: np.ndarray) -> list[dict[str, float]]:
        """Language probabilities of each window."""
        import torch

        if not self.model.is_multilingual:
            return [{"en": 1.0} for _ in mels]
        with torch.inference_mode():
            _, probs = self.model.detect_language(self._tensor(mels))
        if not all(np.isfinite(list(p.values())).all() for p in probs):
            raise RuntimeError("the Whisper model gave non-finite language probabilities")
        return probs

    def decode(
        self, mels: np.ndarray, languages: list[str], durations: list[float]
    ) -> list[tuple[list[Segment], bool]]:
        """Segments (window-relative) and a no-speech flag for each window."""
        import torch
        import whisper

        out: list[tuple[list[Segment], bool]] = [([], True)] * len(mels)
        for language in sorted(set(languages)):
            index = [i for i, lang in enumerate(languages) if lang == language]
            options = whisper.DecodingOptions(
                task="transcribe",
                language=language,
                fp16=self.fp16,
                beam_size=self.beam_size,
                without_timestamps=False,
            )
            with torch.inference_mode():
                results = whisper.decode(self.model, self._tensor(mels[index]), options)
            tokenizer = self._tokenizer(language)
            for i, result in zip(index, results, strict=True):
                silent = (
                    result.no_speech_prob > NO_SPEECH_PROB and result.avg_logprob < LOGPROB_FLOOR
                )
                segments = (
                    []
                    if silent
                    else parse_segments(
                        result.tokens, tokenizer.timestamp_begin, tokenizer.decode, durations[i]
                    )
                )
                out[i] = (segments, silent or not segments)
        return out
