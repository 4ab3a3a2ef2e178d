"""Emotions and sentiment of whole texts with pysentimiento, however long they are.

pysentimiento truncates its input at the model's token limit (128 for its models), so
texts are first cut into chunks under that limit (at line breaks, else between words);
every chunk is classified and the answers are averaged, weighted by chunk length.
"""

from __future__ import annotations

import logging

import numpy as np

from bentos.common.text_chunks import Chunk, chunk_text
from bentos.lyrics.settings import FALLBACK_LANGUAGE

log = logging.getLogger(__name__)
SPECIAL_TOKEN_MARGIN = 8  # pysentimiento's preprocessing may add a few tokens


def weighted_mean(probas: list[dict[str, float]], weights: list[int]) -> dict[str, float]:
    labels = list(probas[0])
    matrix = np.array([[p[label] for label in labels] for p in probas])
    mean = np.average(matrix, axis=0, weights=np.asarray(weights, dtype=float))
    return {label: float(v) for label, v in zip(labels, mean / mean.sum(), strict=True)}


class AffectModels:
    """pysentimiento analyzers per (task, language), loaded once."""

    def __init__(self, emotion_models: dict[str, str], sentiment_models: dict[str, str]) -> None:
        import datasets
        from pysentimiento import create_analyzer

        datasets.disable_progress_bars()
        self.analyzers = {
            (task, lang): create_analyzer(task=task, lang=lang, model_name=source)
            for task, models in (("emotion", emotion_models), ("sentiment", sentiment_models))
            for lang, source in models.items()
        }
        self.languages = sorted(set(emotion_models) & set(sentiment_models))

    def model_language(self, language: str) -> str:
        return language if language in self.languages else FALLBACK_LANGUAGE

    def analyze(self, items: list[tuple[str, str]]) -> list[dict]:
        """Emotion and sentiment probabilities for (text, model language) pairs.

        All chunks of all texts in one language go through each model in one call.
        """
        chunks = [self._chunks(text, lang) for text, lang in items]
        out: list[dict] = [{"chunks": len(c)} for c in chunks]
        for task in ("emotion", "sentiment"):
            for lang in {lang for _, lang in items}:
                index = [i for i, (_, item_lang) in enumerate(items) if item_lang == lang]
                flat = [c.text for i in index for c in chunks[i]]
                predictions = iter(self.analyzers[(task, lang)].predict(flat))
                for i in index:
                    probas = [next(predictions).probas for _ in chunks[i]]
                    out[i][task] = weighted_mean(probas, [c.tokens for c in chunks[i]])
        return out

    def _chunks(self, text: str, lang: str) -> list[Chunk]:
        tokenizer = self.analyzers[("emotion", lang)].tokenizer
        longest = min(
            self.analyzers[(task, lang)].tokenizer.model_max_length
            for task in ("emotion", "sentiment")
        )
        limit = min(longest, 512) - SPECIAL_TOKEN_MARGIN

        def count(s: str) -> int:
            return len(tokenizer(s, add_special_tokens=False)["input_ids"])

        return chunk_text(text, count, limit) or [Chunk(text, 1)]
