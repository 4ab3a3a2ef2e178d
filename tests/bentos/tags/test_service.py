"""The tags service over real HTTP (`bentoml serve`), with the model the tags stages
trained and registered (tests/conftest.py: tags_trained)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import bentoml
import httpx
import numpy as np
import pytest

from bentos.tags.model_files import TagsModel
from stack.local import serve

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow
MAX_TRACKS = 40


@pytest.fixture(scope="module")
def tags_url(tags_trained: dict):
    env = {
        "TAGS_MODEL_TAG": tags_trained["tag"],
        "MARKETPLACE_PROFILE": "full",
        "TAGS_MAX_TRACKS": str(MAX_TRACKS),
        "TAGS_MAX_UPLOAD_MB": "0.2",
    }
    with serve("bentos.tags.service:Tags", env=env, cwd=ROOT) as url:
        yield url


@pytest.fixture(scope="module")
def model(tags_trained: dict) -> TagsModel:
    return TagsModel.load(bentoml.models.get(tags_trained["tag"]).path)


@pytest.fixture(scope="module")
def test_tracks(tags_trained: dict, model: TagsModel) -> list[dict[str, float]]:
    """Held-out tracks of the catalogue the model was trained on, by name."""
    data = np.load(tags_trained["prepared"] / "tracks.npz")
    rows = np.flatnonzero(data["split"] == "test")[:MAX_TRACKS]
    scores = np.hstack([data["scores"][rows], data["category_scores"][rows]])
    return [dict(zip(model.config.columns, map(float, row), strict=True)) for row in scores]


def table(tracks: list[dict[str, float]], columns: list[str], ids: list[str] | None = None) -> str:
    ids = ids or [f"track-{i}" for i in range(len(tracks))]
    lines = [",".join(["ChallengeID", *columns])]
    rows = zip(ids, tracks, strict=True)
    lines += [",".join([i, *(repr(t[c]) for c in columns)]) for i, t in rows]
    return "\n".join(lines) + "\n"


def decide(url: str, tracks: list[dict]) -> httpx.Response:
    return httpx.post(f"{url}/decide", json={"tracks": tracks}, timeout=60)


def upload(url: str, content: str | bytes) -> httpx.Response:
    files = {"table": ("scores.csv", content, "text/csv")}
    return httpx.post(f"{url}/decide_table", files=files, timeout=60)


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["error"] == code, body
    return body["detail"]


def test_the_tags_decided_are_the_models_by_class_most_likely_first(
    tags_url: str, model: TagsModel, test_tracks: list[dict], tags_trained: dict
) -> None:
    answer = decide(tags_url, test_tracks)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["model"] == tags_trained["tag"]
    assert result["method"] == tags_trained["metrics"]["method"]
    matrix = np.array([[t[c] for c in model.config.columns] for t in test_tracks])
    probability = model.probabilities(matrix)
    expected = model.decide(probability)
    config = model.config
    for i, track in enumerate(result["tracks"]):
        assert track["id"] == str(i)
        assert set(track["tags"]) == {config.tags[j] for j in np.flatnonzero(expected[i])}
        for name, tags in track["by_class"].items():
            assert all(config.tag_class[config.tags.index(t)] == name for t in tags)
            scores = [track["scores"][t] for t in tags]
            assert scores == sorted(scores, reverse=True)
        assert track["tags"] == [t for c in sorted(track["by_class"]) for t in track["by_class"][c]]
        for t in track["tags"]:
            j = config.tags.index(t)
            assert track["scores"][t] == pytest.approx(probability[i, j], abs=1e-4)
        if track["tags"]:
            assert track["description"].startswith(next(iter(track["by_class"])).lower() + ": ")
    assert sum(len(t["tags"]) for t in result["tracks"]) > 0  # a trained model decides tags


def test_a_csv_in_the_challenges_layout_answers_as_json_does(
    tags_url: str, model: TagsModel, test_tracks: list[dict]
) -> None:
    columns = list(reversed(model.config.columns))  # any column order
    ids = [str(1000 + i) for i in range(len(test_tracks))]
    from_csv = upload(tags_url, table(test_tracks, columns, ids))
    assert from_csv.status_code == 200, from_csv.text
    from_json = decide(tags_url, test_tracks).json()
    assert [t["id"] for t in from_csv.json()["tracks"]] == ids
    for a, b in zip(from_csv.json()["tracks"], from_json["tracks"], strict=True):
        assert (a["tags"], a["scores"]) == (b["tags"], b["scores"])


def test_concurrent_requests_answer_as_alone(tags_url: str, test_tracks: list[dict]) -> None:
    alone = [decide(tags_url, [t]).json()["tracks"][0] for t in test_tracks[:12]]

    async def together() -> list[dict]:
        async with httpx.AsyncClient(timeout=60) as client:
            answers = await asyncio.gather(*(
                client.post(f"{tags_url}/decide", json={"tracks": [t]}) for t in test_tracks[:12]
            ))  # fmt: skip
        return [a.json()["tracks"][0] for a in answers]

    for a, b in zip(asyncio.run(together()), alone, strict=True):
        assert (a["tags"], a["scores"]) == (b["tags"], b["scores"])


def test_bad_scores_are_named_4xx(tags_url: str, test_tracks: list[dict]) -> None:
    track = test_tracks[0]
    first = next(iter(track))
    assert "'zz-top'" in error(decide(tags_url, [{**track, "zz-top": 0.5}]), 400, "unknown_tags")
    missing = {k: v for k, v in track.items() if k != first}
    assert repr(first) in error(decide(tags_url, [track, missing]), 400, "missing_tags")
    assert "track 1" in error(decide(tags_url, [track, missing]), 400, "missing_tags")
    for value in (1.5, -0.1):
        detail = error(decide(tags_url, [{**track, first: value}]), 422, "invalid_score")
        assert f"{first}={value}" in detail
    nan = httpx.post(f"{tags_url}/decide", content=f'{{"tracks": [{{"{first}": NaN}}]}}',
                     headers={"Content-Type": "application/json"})  # fmt: skip
    assert nan.status_code in (400, 422), nan.text  # refused, as invalid JSON or a bad score
    error(decide(tags_url, [{**track, first: "loud"}]), 400, "invalid_request")
    error(decide(tags_url, []), 400, "no_tracks")
    detail = error(decide(tags_url, [track] * (MAX_TRACKS + 1)), 413, "too_many_tracks")
    assert f"at most {MAX_TRACKS}" in detail


def test_bad_tables_are_named_4xx(tags_url: str, model: TagsModel, test_tracks: list[dict]) -> None:
    columns = model.config.columns
    good = table(test_tracks[:3], columns)
    header = good.splitlines()[0]
    error(upload(tags_url, b"\x89PNG\r\n\x1a\n\x00\x00"), 422, "bad_table")
    error(upload(tags_url, header + "\n"), 400, "no_tracks")
    error(upload(tags_url, ""), 400, "no_tracks")
    ragged = good.replace("\ntrack-1,", "\ntrack-1,0.5,", 1)
    assert "row 3" in error(upload(tags_url, ragged), 422, "bad_table")
    twice = good.replace(f",{columns[1]},", f",{columns[0]},", 1)
    assert "named twice" in error(upload(tags_url, twice), 422, "bad_table")
    text = good.replace("\ntrack-2,", "\ntrack-2,loud", 1)
    assert "is not a number" in error(upload(tags_url, text), 422, "invalid_score")
    error(upload(tags_url, table(test_tracks[:3], columns[1:])), 400, "missing_tags")
    big = table(test_tracks[:1] * MAX_TRACKS, columns) * 6  # past TAGS_MAX_UPLOAD_MB
    assert len(big) > 0.2 * 2**20
    error(upload(tags_url, big), 413, "table_too_large")
