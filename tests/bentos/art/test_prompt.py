"""The cover prompt, read back with compel's own parser."""

from __future__ import annotations

import re

import pytest

from bentos.art.prompt import build_prompt, escape
from marketplace.contracts.schemas import Keyword

KEYWORDS = [
    Keyword(word="heart", score=0.6),
    Keyword(word="fire", score=1.0),
    Keyword(word="night", score=0.3),
]


def fragments(prompt: str) -> list[tuple[str, float]]:
    from compel.prompt_parser import PromptParser

    (flat,) = PromptParser().parse_conjunction(prompt).prompts
    texts = [(re.sub(r"\s+,", ",", f.text).strip(" ,"), f.weight) for f in flat.children]
    return [(text, weight) for text, weight in texts if text]


def test_template_carries_genre_and_emotion() -> None:
    prompt = build_prompt("Rock", "sadness", KEYWORDS).prompt
    assert prompt.startswith("An album cover in style of Rock with a sentiment of sadness")
    assert "without any text" in prompt


def test_themes_are_weighted_by_score_top_keyword_most() -> None:
    weights = {text: w for text, w in fragments(build_prompt("Jazz", "joy", KEYWORDS).prompt)}
    assert weights["fire"] == pytest.approx(1.5)
    assert weights["fire"] > weights["heart"] > weights["night"] >= 1.0
    assert weights["heart"] == pytest.approx(1.3)


def test_summary_adds_the_story() -> None:
    prompt = build_prompt("Pop", "joy", KEYWORDS, summary="Two lovers dance all night.").prompt
    assert prompt.endswith("The song tells this story: Two lovers dance all night.")
    assert "story" not in build_prompt("Pop", "joy", KEYWORDS, summary="  ").prompt


def test_negative_prompt_weights_the_text_words_up() -> None:
    negative = build_prompt("Metal", "anger", KEYWORDS).negative_prompt
    weights = dict(fragments(negative))
    assert weights["font, typo, signature, text, watermark"] == pytest.approx(1.4)
    assert "worst quality" in negative and "mutated hands" in negative


def test_user_text_cannot_change_the_weighting() -> None:
    sneaky = [Keyword(word="(evil)2.0", score=1.0), Keyword(word="love++", score=0.5)]
    prompt = build_prompt("Rock", "joy", sneaky, summary='a "story" (with)1.9 weights').prompt
    weights = [w for _, w in fragments(prompt)]
    assert max(weights) == pytest.approx(1.5)  # only the builder's own weights
    assert "(evil)2.0" in prompt.replace("\\", "")  # the words survive, as literal text
    assert escape("rock-n-roll") == "rock-n-roll"


def test_no_keywords_still_makes_a_prompt() -> None:
    assert build_prompt("Blues", "fear", []).prompt.endswith("themes: music")
