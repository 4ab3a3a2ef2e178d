"""Lyrics analysis service: ``POST /analyze`` with ``{"text", "language"?}``.

The front (``Lyrics``) validates the text, takes or detects its language and extracts
keywords; ``LyricsAffect`` has one batchable API that runs the emotion and sentiment
models over the chunks of many texts at once (adaptive batching across requests).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import bentoml
from pydantic import BaseModel, Field

from bentos.common.errors import TEXT_ERRORS
from bentos.common.http import api, harden
from bentos.common.pinned import local_source
from bentos.common.settings import SERVICE_TIMEOUTS, MarketplaceSettings, Profile, model_service
from bentos.common.text_input import check_text
from bentos.lyrics.affect import AffectModels
from bentos.lyrics.keywords import extract_keywords
from bentos.lyrics.language import detect_language
from bentos.lyrics.settings import FALLBACK_LANGUAGE, LyricsSettings
from marketplace.contracts.schemas import LyricsResult, OptionalLanguage

SETTINGS = LyricsSettings()


class AffectItem(BaseModel):
    text: str
    language: str


class AffectScores(BaseModel):
    emotion: dict[str, float]
    sentiment: dict[str, float]
    chunks: int


def model_sources() -> tuple[dict[str, str], dict[str, str]]:
    if MarketplaceSettings().profile is Profile.SMOKE:
        from bentos.lyrics.smoke import smoke_models

        return smoke_models()
    return (
        {lang: local_source(s) for lang, s in SETTINGS.emotion_models.items()},
        {lang: local_source(s) for lang, s in SETTINGS.sentiment_models.items()},
    )


@harden(model=True)
@bentoml.service(**model_service("lyrics-affect", timeout=SERVICE_TIMEOUTS["lyrics"]))
class LyricsAffect:
    """The emotion and sentiment models, loaded once."""

    def __init__(self) -> None:
        self.models = AffectModels(*model_sources())

    @bentoml.api(**SETTINGS.batchable_api())
    def analyze_batch(self, items: list[AffectItem]) -> list[AffectScores]:
        results = self.models.analyze([(item.text, item.language) for item in items])
        return [AffectScores(**r) for r in results]

    @bentoml.api
    def languages(self) -> list[str]:
        return self.models.languages


@harden()
@bentoml.service(
    name="lyrics", traffic={"timeout": SERVICE_TIMEOUTS["lyrics"], "max_concurrency": 64}
)
class Lyrics:
    """Front API: validation, language, keywords; affect through the batchable API."""

    affect = bentoml.depends(LyricsAffect)

    def __init__(self) -> None:
        self.model_languages: list[str] | None = None
        for lang in SETTINGS.emotion_models:  # load spaCy's lookup tables before requests
            extract_keywords("warm up", lang)

    @api(route="/analyze", errors=TEXT_ERRORS)
    async def analyze(
        self,
        text: Annotated[str, Field(description="the lyrics (line breaks help keywords)")],
        language: OptionalLanguage = None,
    ) -> LyricsResult:
        """Emotions, sentiment, language and keywords of a whole text.

        Bad input answers 400 (empty text, no words) or 413 (longer than ``LYRICS_MAX_TEXT_CHARS``).
        """
        text = check_text(text, SETTINGS.max_text_chars, "LYRICS_MAX_TEXT_CHARS")
        detected = language is None
        lang = language or await asyncio.to_thread(detect_language, text)
        if self.model_languages is None:
            self.model_languages = await self.affect.to_async.languages()
        model_lang = lang if lang in self.model_languages else FALLBACK_LANGUAGE
        keywords_task = asyncio.to_thread(extract_keywords, text, lang, SETTINGS.max_keywords)
        (scores,), keywords = await asyncio.gather(
            self.affect.to_async.analyze_batch([AffectItem(text=text, language=model_lang)]),
            keywords_task,
        )
        scores = AffectScores.model_validate(scores)
        emotions = scores.emotion
        return LyricsResult(
            language=lang,
            language_detected=detected,
            model_language=model_lang,
            note=None
            if model_lang == lang
            else (
                f"no emotion or sentiment model for '{lang}'; analysed with the "
                f"'{model_lang}' model"
            ),
            emotions=emotions,
            emotion=max((e for e in emotions if e != "others"), key=emotions.__getitem__),
            sentiment=scores.sentiment,
            keywords=keywords,
            chunks=scores.chunks,
        )
