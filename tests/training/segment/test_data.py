"""The segmentation data: Cityscapes' labels as 8 categories, its layout, the synthetic
street scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bentos.segment.categories import CATEGORIES, PALETTE, colourise, palette_bytes, shares
from training.segment.cityscapes import (
    label_to_category,
    scenes,
    split_by_city,
    to_categories,
)
from training.segment.synthetic import scene


def test_34_labels_map_to_8_categories_as_the_official_table_says() -> None:
    from cityscapesscripts.helpers.labels import id2label

    table = label_to_category()
    for label_id in range(34):
        assert CATEGORIES[table[label_id]] == id2label[label_id].category, label_id
    named = {"unlabeled": 0, "ego vehicle": 1, "road": 7, "sidewalk": 8, "building": 11,
             "pole": 17, "vegetation": 21, "sky": 23, "person": 24, "rider": 25, "car": 26,
             "bicycle": 33}  # fmt: skip
    expected = {"unlabeled": "void", "ego vehicle": "void", "road": "flat", "sidewalk": "flat",
                "building": "construction", "pole": "object", "vegetation": "nature",
                "sky": "sky", "person": "human", "rider": "human", "car": "vehicle",
                "bicycle": "vehicle"}  # fmt: skip
    for name, label_id in named.items():
        assert CATEGORIES[table[label_id]] == expected[name], name
    assert table[34:].max() == 0  # ids outside the table: void
    mask = np.array([[7, 26], [23, 255]], dtype=np.uint8)
    assert to_categories(mask).tolist() == [[1, 7], [5, 0]]


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_the_official_layout_is_read_and_split_by_city(tmp_path: Path) -> None:
    pixels = np.zeros((4, 8, 3), dtype=np.uint8)
    for split, city, n in [("train", "aachen", 2), ("train", "bremen", 1), ("val", "lindau", 1),
                           ("test", "berlin", 1)]:  # fmt: skip
        for i in range(n):
            stem = f"{city}_{i:06d}_000019"
            write_png(tmp_path / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", pixels)
            if split != "test":
                labels = tmp_path / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png"
                write_png(labels, np.full((4, 8), 7, dtype=np.uint8))
    found = scenes(tmp_path)
    expected = [("aachen", "train"), ("aachen", "train"), ("bremen", "train"), ("lindau", "val")]
    assert [(s.city, s.split) for s in found] == expected
    assert "berlin" not in {s.city for s in found}  # test labels are withheld

    (tmp_path / "gtFine" / "train" / "bremen" / "bremen_000000_000019_gtFine_labelIds.png").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"bremen_000000_000019_leftImg8bit\.png has no labels"
    ):
        scenes(tmp_path)
    with pytest.raises(FileNotFoundError, match="no Cityscapes images"):
        scenes(tmp_path / "nowhere")


def test_no_city_is_in_two_splits_and_the_split_is_seeded() -> None:
    cities = [f"city{i}" for i in range(18)] * 3
    split = split_by_city(cities, val_fraction=0.15, test_fraction=0.15, seed=1)
    assert set(split) == set(cities) and set(split.values()) == {"train", "val", "test"}
    assert split == split_by_city(list(reversed(cities)), 0.15, 0.15, seed=1)
    assert sorted(split.values()).count("test") == 3


def test_synthetic_scenes_are_seeded_exact_and_cover_every_category() -> None:
    image, mask = scene(3, height=128, width=256)
    assert image.shape == (128, 256, 3) and mask.shape == (128, 256)
    assert image.dtype == mask.dtype == np.uint8
    again, same = scene(3, height=128, width=256)
    assert np.array_equal(image, again) and np.array_equal(mask, same)
    assert not np.array_equal(scene(4, 128, 256)[1], mask)
    seen = set()
    for seed in range(12):
        seen |= set(np.unique(scene(seed, 128, 256)[1]).tolist())
    assert seen == set(range(len(CATEGORIES)))


def test_masks_render_in_the_category_palette() -> None:
    mask = np.array([[0, 1], [5, 7]], dtype=np.uint8)
    rgb = colourise(mask)
    assert rgb[0, 1].tolist() == list(PALETTE["flat"]) and rgb[1, 0].tolist() == list(
        PALETTE["sky"]
    )
    assert len(palette_bytes()) == 768 and palette_bytes()[3:6] == list(PALETTE["flat"])
    assert shares(mask) == pytest.approx(
        {
            "void": 0.25,
            "flat": 0.25,
            "construction": 0,
            "object": 0,
            "nature": 0,
            "sky": 0.25,
            "human": 0,
            "vehicle": 0.25,
        }
    )
