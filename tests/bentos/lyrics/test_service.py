"""The lyrics service over real HTTP with tiny random models (smoke profile)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from marketplace.contracts.schemas import EMOTIONS
from tests.bentos.lyrics.test_analysis import LYRICS
from tests.conftest import serve_smoke

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lyrics_url(tmp_path_factory: pytest.TempPathFactory):
    with serve_smoke(
        "bentos.lyrics.service:Lyrics", tmp_path_factory, LYRICS_MAX_TEXT_CHARS="20000"
    ) as url:
        yield url


def analyze(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/analyze", json=body, timeout=120)


def test_answer_schema(lyrics_url: str) -> None:
    response = analyze(lyrics_url, text=LYRICS)
    assert response.status_code == 200
    result = response.json()
    assert result["language"] == "en" and result["language_detected"] is True
    assert set(result["emotions"]) == set(EMOTIONS)
    assert sum(result["emotions"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["emotion"] != "others" and result["emotion"] in EMOTIONS
    assert set(result["sentiment"]) == {"POS", "NEU", "NEG"}
    assert sum(result["sentiment"].values()) == pytest.approx(1.0, abs=1e-5)
    words = [k["word"] for k in result["keywords"]]
    assert 0 < len(words) <= 10 and len(set(words)) == len(words)
    assert {"dance", "fire"} <= set(words)


def test_long_text_is_analysed_whole_in_chunks(lyrics_url: str) -> None:
    long_text = "\n".join([LYRICS] * 12)  # far beyond the models' 128 tokens
    result = analyze(lyrics_url, text=long_text).json()
    assert result["chunks"] >= 6
    short = analyze(lyrics_url, text="Dancing in the fire tonight").json()
    assert short["chunks"] == 1


def test_language_from_the_request_and_fallback(lyrics_url: str) -> None:
    spanish = analyze(lyrics_url, text="Bailando en el fuego esta noche", language="es").json()
    assert spanish["language"] == "es" and spanish["language_detected"] is False
    assert spanish["model_language"] == "es" and spanish["note"] is None
    french = analyze(lyrics_url, text="Nous dansons dans le feu toute la nuit").json()
    assert french["language"] == "fr" and french["model_language"] == "en"
    assert "analysed with the 'en' model" in french["note"]


def test_bad_input_gets_its_4xx(lyrics_url: str) -> None:
    empty = analyze(lyrics_url, text=" \n ")
    assert empty.status_code == 400 and empty.json()["error"] == "empty_text"
    huge = analyze(lyrics_url, text="la " * 10_000)
    assert huge.status_code == 413 and "LYRICS_MAX_TEXT_CHARS" in huge.json()["detail"]
    assert analyze(lyrics_url).status_code == 400  # no text
    assert analyze(lyrics_url, text="hello", language="english").status_code == 400


def test_concurrent_requests_share_batches_and_keep_their_answers(lyrics_url: str) -> None:
    texts = {
        "en": "I walk alone down the empty street tonight",
        "es": "Caminando solo por la calle vacía esta noche",
        "pt": "A saudade aperta o meu coração esta noite",
    }

    async def run() -> list[dict]:
        async with httpx.AsyncClient(timeout=120) as client:
            responses = await asyncio.gather(
                *(client.post(f"{lyrics_url}/analyze", json={"text": t}) for t in texts.values())
            )
        return [r.json() for r in responses]

    results = asyncio.run(run())
    assert [r["language"] for r in results] == list(texts)
    for result, text in zip(results, texts.values(), strict=True):  # same answer as alone
        alone = analyze(lyrics_url, text=text).json()
        assert result["emotions"] == pytest.approx(alone["emotions"], abs=1e-5)
        assert result["sentiment"] == pytest.approx(alone["sentiment"], abs=1e-5)


def test_docs_json_lists_analyze(lyrics_url: str) -> None:
    spec = httpx.get(f"{lyrics_url}/docs.json", timeout=10).json()
    assert "/analyze" in spec["paths"]
