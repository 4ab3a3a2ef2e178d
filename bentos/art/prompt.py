"""The cover prompt: the seed's template, with the emotion and weighted themes.

Themes are the lyrics' keywords in compel syntax, ``(word)1.50``, weighted by their score
so the top keyword weighs most. Unlike the seed's, the emotion reaches the prompt. Text
from the user (keywords, summary) is escaped so it cannot change compel's weighting.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from marketplace.contracts.schemas import Keyword

TEMPLATE = (
    "An album cover in style of {genre} with a sentiment of {emotion} without any text "
    "and illustrating the following themes: {themes}"
)
STORY = ". The song tells this story: {summary}"
# The seed's negative prompt, with the words about text weighted up: covers must not
# carry lettering, the most common failure of Stable Diffusion covers.
TEXT_WORDS = ("font", "typo", "signature", "text", "watermark")
OTHER_FLAWS = (
    "cropped", "disfigured", "duplicate", "error", "jpeg artifacts", "low quality", "lowres",
    "mutated hands", "out of frame", "worst quality",
)  # fmt: skip
TEXT_WEIGHT = 1.4
MIN_WEIGHT, MAX_WEIGHT = 1.0, 1.5  # weights of the lowest and the top keyword
MAX_THEMES = 8  # CLIP reads 77 tokens: more themes would be cut off
SUMMARY_CHARS = 300


class CoverPrompt(BaseModel):
    prompt: str = Field(description="the positive prompt, in compel syntax")
    negative_prompt: str = Field(description="the negative prompt, in compel syntax")


def escape(text: str) -> str:
    """User text as literal compel text: no weights, groups or blends of its own."""
    text = re.sub(r"[\\\[\]]", " ", text)
    text = re.sub(r"[+\-]+(?=\s|$)", "", text)  # trailing +/- would up/down-weight a word
    text = text.replace("(", r"\(").replace(")", r"\)").replace('"', r"\"")
    return re.sub(r"\s+", " ", text).strip()


def theme_weights(keywords: list[Keyword]) -> list[tuple[str, float]]:
    """Top keywords with weights from 1.0 to 1.5 by score (the top one 1.5)."""
    ranked = sorted(keywords, key=lambda k: -k.score)[:MAX_THEMES]
    top = ranked[0].score if ranked and ranked[0].score > 0 else 1.0
    return [
        (k.word, round(MIN_WEIGHT + (MAX_WEIGHT - MIN_WEIGHT) * k.score / top, 2)) for k in ranked
    ]


def build_prompt(
    genre: str, emotion: str, keywords: list[Keyword], summary: str | None = None
) -> CoverPrompt:
    weighted = [f"({escape(word)}){weight:.2f}" for word, weight in theme_weights(keywords)]
    themes = ", ".join(weighted) if weighted else "music"
    prompt = TEMPLATE.format(genre=escape(genre), emotion=escape(emotion), themes=themes)
    if summary and summary.strip():
        prompt += STORY.format(summary=escape(summary)[:SUMMARY_CHARS])
    negative = f"({', '.join(TEXT_WORDS)}){TEXT_WEIGHT}, " + ", ".join(OTHER_FLAWS)
    return CoverPrompt(prompt=prompt, negative_prompt=negative)
