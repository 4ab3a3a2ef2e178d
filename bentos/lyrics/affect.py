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
SPECIAL_TOKEN_MARGIN = 4  # [CLS]/[SEP] and friends


def weighted_mean(probas: list[dict[str, float]], weights: list[int]) -> dict[str, float]:
    labels = list(probas[0])
    matrix = np.array([[p[label] for label in labels] for p in probas])
    # every chunk counts at least once: chunks the tokenizer sees as empty weigh 0 tokens
    mean = np.average(matrix, axis=0, weights=np.maximum(np.asarray(weights, dtype=float), 1))
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
        from pysentimiento.preprocessing import preprocess_tweet

        analyzers = [self.analyzers[(task, lang)] for task in ("emotion", "sentiment")]
        limit = min(min(a.tokenizer.model_max_length for a in analyzers), 512)
        limit -= SPECIAL_TOKEN_MARGIN

        def count(s: str) -> int:
            """Tokens each model will see (after pysentimiento's preprocessing): the larger."""
            return max(
                len(
                    a.tokenizer(
                        preprocess_tweet(s, **a.preprocessing_args),
                        add_special_tokens=False,
                        verbose=False,
                    )["input_ids"]
                )
                for a in analyzers
            )

        return chunk_text(text, count, limit) or [Chunk(text, 1)]
