"""Keywords, chunking and language detection of the lyrics service, without models."""

from __future__ import annotations

import pytest

from bentos.common.text_chunks import chunk_text
from bentos.lyrics.affect import weighted_mean
from bentos.lyrics.keywords import extract_keywords
from bentos.lyrics.language import detect_language

LYRICS = """\
We were dancing in the fire, dancing through the night
Your heart against my heart, burning shining bright
The city lights are fading but the fire never dies
I see the burning fire reflected in your eyes

Oh the night is young, and the fire is wild
Dance with me, dance with me, like a wild child
Two hearts on fire under neon lights
We keep on dancing, dancing all the nights
"""


def test_keywords_of_real_lyrics() -> None:
    keywords = extract_keywords(LYRICS, "en")
    words = [k.word for k in keywords]
    assert set(words[:2]) == {"dance", "fire"}  # 6 and 5 occurrences, in most lines
    assert {"dance", "heart", "night", "burn", "light", "wild"} <= set(words)
    assert len(words) == len(set(words)) <= 10  # one entry per lemma
    assert not {"the", "and", "we", "my", "your", "is", "on", "oh", "two"} & set(words)
    scores = [k.score for k in keywords]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0


def test_keywords_are_lemmas_not_substrings() -> None:
    words = [k.word for k in extract_keywords("The cats sat\nA cat sings\nCatalogue of cats", "en")]
    assert words.count("cat") == 1
    assert "catalogue" in words  # matched as a word, not as 'cat' inside it


def test_keywords_ignore_numbers_and_punctuation() -> None:
    words = [k.word for k in extract_keywords("1 2 3 4 !!! ...\n99 red balloons, 99!", "en")]
    assert words == ["balloon", "red"]


def test_keywords_in_spanish_use_spanish_lemmas_and_stop_words() -> None:
    words = [k.word for k in extract_keywords("Los perros corrían\nEl perro canta canciones", "es")]
    assert "perro" in words and "los" not in words and "el" not in words


def test_no_keywords_in_an_empty_text() -> None:
    assert extract_keywords("\n \n", "en") == []


def test_chunks_respect_the_limit_and_keep_every_word() -> None:
    text = "\n".join(f"line {i} " + "word " * (i % 7) for i in range(60)) + "\n" + "long " * 50

    def count(s: str) -> int:
        return len(s.split())

    chunks = chunk_text(text, count, max_tokens=12)
    assert all(c.tokens <= 12 and c.tokens == count(c.text) for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert len(chunk_text("a short text", count, max_tokens=12)) == 1


def test_weighted_mean_weighs_by_length() -> None:
    mean = weighted_mean([{"POS": 1.0, "NEG": 0.0}, {"POS": 0.0, "NEG": 1.0}], [3, 1])
    assert mean == pytest.approx({"POS": 0.75, "NEG": 0.25})


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I walk alone down the empty street tonight, my heart is broken", "en"),
        ("Caminando solo por la calle vacía, mi corazón late por ti esta noche", "es"),
        ("Il sole splende sul mare, cantiamo insieme questa canzone d'amore", "it"),
        ("A saudade aperta o meu coração, a noite é longa sem você aqui", "pt"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_chinese_keywords_keep_single_characters() -> None:
    words = [k.word for k in extract_keywords("月亮照在大海上\n月亮很美", "zh")]
    assert "月" in words


def test_unknown_language_codes_share_one_pipeline() -> None:
    from bentos.lyrics.keywords import _pipeline, pipeline

    pipeline("qq")
    before = _pipeline.cache_info().currsize
    for code in ("qa", "qb", "qc", "zzz"):
        pipeline(code)
    assert _pipeline.cache_info().currsize == before
