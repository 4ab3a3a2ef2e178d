"""The art service over real HTTP with two tiny random models (smoke profile).

One model is a diffusers folder, the other a single-file checkpoint: both kinds of
source go through the service's loading code.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import serve_smoke

pytestmark = pytest.mark.slow

MODELS = {"alpha": "alpha", "beta": "beta.safetensors"}
SONG = {
    "genre": "Reggae",
    "emotion": "joy",
    "keywords": [{"word": "sunshine", "score": 1.0}, {"word": "island", "score": 0.5}],
    "steps": 2,
    "width": 256,
    "height": 256,
}


@pytest.fixture(scope="module")
def art_url(tmp_path_factory: pytest.TempPathFactory):
    with serve_smoke(
        "bentos.art.service:Art", tmp_path_factory, ART_MODELS=json.dumps(MODELS)
    ) as url:
        yield url


def generate(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/generate", json={**SONG, **body}, timeout=300)


def images(result: dict) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(i["png"]))) for i in result["images"]]


def test_one_png_per_model_of_the_asked_size(art_url: str) -> None:
    response = generate(art_url, width=320, height=256, seed=11)
    assert response.status_code == 200
    result = response.json()
    assert [i["model"] for i in result["images"]] == list(MODELS)
    for image in images(result):
        assert image.format == "PNG" and image.size == (320, 256) and image.mode == "RGB"
    assert (result["seed"], result["steps"], result["width"], result["height"]) == (11, 2, 320, 256)
    assert result["guidance"] == 5.0  # the default


def test_the_prompt_used_is_returned(art_url: str) -> None:
    result = generate(art_url, summary="Friends dance on the beach.", seed=1).json()
    prompt = result["prompt"]
    assert prompt.startswith("An album cover in style of Reggae with a sentiment of joy")
    assert "(sunshine)1.50" in prompt and "(island)1.25" in prompt
    assert prompt.endswith("The song tells this story: Friends dance on the beach.")
    assert result["negative_prompt"].startswith("(font, typo, signature, text, watermark)1.4")


def test_same_seed_same_bytes(art_url: str) -> None:
    first = generate(art_url, seed=42).json()
    again = generate(art_url, seed=42).json()
    other = generate(art_url, seed=43).json()
    assert [i["png"] for i in first["images"]] == [i["png"] for i in again["images"]]
    assert first["images"][0]["png"] != other["images"][0]["png"]
    # each model paints its own picture from the same seed
    assert first["images"][0]["png"] != first["images"][1]["png"]


def test_a_drawn_seed_is_returned_and_repeats_the_images(art_url: str) -> None:
    drawn = generate(art_url, models=["beta"]).json()
    assert 0 <= drawn["seed"] < 2**32
    again = generate(art_url, models=["beta"], seed=drawn["seed"]).json()
    assert again["images"] == drawn["images"]


def test_models_can_be_chosen(art_url: str) -> None:
    result = generate(art_url, models=["beta"], seed=3).json()
    assert [i["model"] for i in result["images"]] == ["beta"]


def test_concurrent_requests_paint_what_they_paint_alone(art_url: str) -> None:
    seeds = [21, 22, 23, 24]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=300) as client:
            return await asyncio.gather(
                *(client.post(f"{art_url}/generate", json={**SONG, "seed": s}) for s in seeds)
            )

    together = [r.json() for r in asyncio.run(run())]
    for seed, result in zip(seeds, together, strict=True):
        alone = generate(art_url, seed=seed).json()
        for a, b in zip(images(alone), images(result), strict=True):
            # batched kernels sum in another order: at most a level or two per pixel
            assert np.abs(np.asarray(a, int) - np.asarray(b, int)).max() <= 2


def test_sustained_concurrent_load_answers_every_request(art_url: str) -> None:
    # Over a hundred model calls (three per request) from many clients at once: none may
    # be dropped (BentoML recycles a dependency's client session every 100 calls unless
    # told not to).
    async def client(http: httpx.AsyncClient, first: int) -> list[int]:
        body = {**SONG, "steps": 1}
        return [
            (await http.post(f"{art_url}/generate", json={**body, "seed": first + i})).status_code
            for i in range(6)
        ]

    async def run() -> list[list[int]]:
        async with httpx.AsyncClient(timeout=300) as http:
            return await asyncio.gather(*(client(http, 100 * c) for c in range(8)))

    statuses = [s for codes in asyncio.run(run()) for s in codes]
    assert statuses == [200] * 48


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 101}, "steps"),
        ({"guidance": 20.5}, "guidance"),
        ({"guidance": -1}, "guidance"),
        ({"width": 300}, "width"),
        ({"width": 1032}, "width"),
        ({"height": 248}, "height"),
        ({"seed": -1}, "seed"),
        ({"genre": ""}, "genre"),
        ({"models": []}, "models"),
        ({"models": ["alpha", "alpha"]}, "models"),
        ({"keywords": [{"word": "x", "score": 2}]}, "keywords"),
    ],
)
def test_bad_input_is_refused_naming_the_field(art_url: str, body: dict, field: str) -> None:
    response = generate(art_url, **body)
    assert response.status_code == 400
    assert field in response.text


def test_missing_genre_is_refused(art_url: str) -> None:
    response = httpx.post(f"{art_url}/generate", json={"emotion": "joy"}, timeout=30)
    assert response.status_code == 400 and "genre" in response.text


def test_unknown_model_is_refused_with_the_known_ones(art_url: str) -> None:
    response = generate(art_url, models=["alpha", "midjourney"])
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unknown_model"
    assert "'midjourney'" in body["detail"] and "known: alpha, beta" in body["detail"]


def test_docs_json_lists_generate(art_url: str) -> None:
    paths = httpx.get(f"{art_url}/docs.json", timeout=10).json()["paths"]
    assert "/generate" in paths


def test_a_request_over_the_work_budget_is_refused(art_url: str) -> None:
    response = generate(art_url, steps=100, width=1024, height=1024)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "over_budget" and "ART_MAX_MEGAPIXEL_STEPS" in body["detail"]
    assert "209.7 megapixel-steps" in body["detail"]  # 2 models x 1024 x 1024 x 100


def test_a_client_that_goes_away_frees_the_painter(art_url: str) -> None:
    heavy = {**SONG, "steps": 30, "width": 384, "height": 384}  # seconds per step, many steps
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{art_url}/generate", json=heavy, timeout=2)
    start = time.monotonic()  # the client has gone away
    light = generate(art_url, steps=1, width=256, height=256)
    freed_after = time.monotonic() - start
    assert light.status_code == 200
    start = time.monotonic()  # the same heavy request, painted to the end: the yardstick
    assert httpx.post(f"{art_url}/generate", json=heavy, timeout=300).status_code == 200
    painted_in = time.monotonic() - start
    # the light request did not wait for the heavy call's 30 steps: it was stopped
    assert freed_after < painted_in / 2, (freed_after, painted_in)
