"""tags_prepare: the synthetic catalogue or the Mewo challenge's files, split 64/16/20."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.layout import Layout
from training.params import load_params
from training.tags.prepare import prepare


def test_synthetic_tracks_are_prepared_and_split(tmp_path: Path) -> None:
    params = load_params(None, tags={"data": {"synthetic": {"tracks": 500}}})
    out = prepare(params, Layout(tmp_path))
    data = np.load(out / "tracks.npz")
    assert data["scores"].shape == data["labels"].shape == (500, 64)
    assert sorted(set(data["split"])) == ["test", "train", "val"]
    vocab = json.loads((out / "vocabulary.json").read_text())
    assert len(vocab["tags"]) == 64 and len(vocab["categories"]) == 12


def test_the_challenge_layout_is_read_tags_from_the_labels_categories_the_rest(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mewo"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tags = ["blues-rock", "electric-guitar", "happy", "jazz", "piano", "sad"]
    categories = ["genres-rock", "instruments-keys", "mood-bright"]
    ids = pd.Index(range(100, 400), name="ChallengeID")
    scores = pd.DataFrame(rng.random((300, 9)), index=ids, columns=[*tags, *categories])
    labels = pd.DataFrame(rng.random((300, 6)) < 0.3, index=ids, columns=tags).astype(int)
    scores.to_csv(folder / "train_X_beAW6y8.csv")
    labels.to_csv(folder / "train_y_YZCqwbD.csv")
    table = pd.DataFrame(
        [["Genres", "Instruments", "Moods", "Genres", "Instruments", "Moods"],
         ["genres-rock", "instruments-guitar", "mood-bright", "genres-jazz",
          "instruments-keys", "mood-dark"]],
        index=["class", "category"], columns=tags,
    )  # fmt: skip
    table.to_csv(folder / "mewo-labels.csv")
    params = load_params(None, tags={"data": {"source": "mewo", "mewo_dir": str(folder)}})
    out = prepare(params, Layout(tmp_path))
    data = np.load(out / "tracks.npz")
    assert np.allclose(data["scores"], scores[tags].to_numpy())
    assert np.array_equal(data["labels"], labels.to_numpy())
    vocab = json.loads((out / "vocabulary.json").read_text())
    assert vocab["categories"] == categories and vocab["tag_class"][2] == "Moods"
    labels.drop(columns=["sad"]).assign(harp=0).to_csv(folder / "train_y_YZCqwbD.csv")
    with pytest.raises(ValueError, match="tags without scores or without a class: \\['harp'\\]"):
        prepare(params, Layout(tmp_path))
