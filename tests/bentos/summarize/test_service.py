"""The summarize service over real HTTP with a tiny random BART (smoke profile)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.bentos.lyrics.test_analysis import LYRICS
from tests.conftest import serve_smoke

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def summarize_url(tmp_path_factory: pytest.TempPathFactory):
    with serve_smoke(
        "bentos.summarize.service:Summarize", tmp_path_factory, SUMMARIZE_NUM_BEAMS="1"
    ) as url:
        yield url


def summarize(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/summarize", json=body, timeout=300)


def test_summary_respects_max_words(summarize_url: str) -> None:
    short = "\n".join(LYRICS.splitlines()[:3])  # fits the tiny model's 128 tokens
    response = summarize(summarize_url, text=short, max_words=12)
    assert response.status_code == 200
    result = response.json()
    assert isinstance(result["summary"], str)
    assert len(result["summary"].split()) <= 12
    assert result["chunks"] == 1


def test_long_text_is_summarised_in_chunks(summarize_url: str) -> None:
    result = summarize(summarize_url, text="\n".join([LYRICS] * 8), max_words=20).json()
    assert result["chunks"] > 4
    assert len(result["summary"].split()) <= 20


def test_bad_input_gets_its_4xx(summarize_url: str) -> None:
    empty = summarize(summarize_url, text="   ")
    assert empty.status_code == 400 and empty.json()["error"] == "empty_text"
    assert summarize(summarize_url, text="la " * 20_000).status_code == 413
    assert summarize(summarize_url, text="ok", max_words=1).status_code == 400
    assert summarize(summarize_url, text="ok", max_words=10_000).status_code == 400
    assert summarize(summarize_url).status_code == 400


def test_concurrent_requests_get_the_answer_they_get_alone(summarize_url: str) -> None:
    cases = ((LYRICS, 8), ("\n".join([LYRICS] * 4), 15), ("Short text.", 5))

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=300) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{summarize_url}/summarize", json={"text": t, "max_words": w})
                    for t, w in cases
                )
            )

    results = [r.json() for r in asyncio.run(run())]
    assert results[1]["chunks"] > results[0]["chunks"]
    for result, (text, words) in zip(results, cases, strict=True):
        # batched with requests of other lengths, each answer is the one it gets alone
        assert result == summarize(summarize_url, text=text, max_words=words).json()


def test_docs_json_lists_summarize(summarize_url: str) -> None:
    assert "/summarize" in httpx.get(f"{summarize_url}/docs.json", timeout=10).json()["paths"]
