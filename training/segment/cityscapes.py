"""Cityscapes on disk: its official layout, and its 34 label ids mapped to 8 categories.

The mapping comes from the official label table (``cityscapesscripts.helpers.labels``:
each label's ``id`` and ``categoryId``), not from a copy: ids the table does not list
become void.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bentos.segment.categories import CATEGORIES

IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_labelIds.png"
SPLITS = ("train", "val", "test")


def label_to_category() -> np.ndarray:
    """A lookup table: label id (0-255) -> category id (0-7)."""
    from cityscapesscripts.helpers.labels import labels

    table = np.zeros(256, dtype=np.uint8)
    for label in labels:
        if 0 <= label.id < 256:
            table[label.id] = label.categoryId
    names = {label.categoryId: label.category for label in labels}
    assert tuple(names[i] for i in range(len(CATEGORIES))) == CATEGORIES, names
    return table


def to_categories(label_ids: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
    """A ``gtFine_labelIds`` mask (H, W) as category ids (H, W)."""
    return (label_to_category() if table is None else table)[label_ids]


@dataclass(frozen=True)
class Scene:
    city: str
    split: str  # Cityscapes' own split of the file
    image: Path
    labels: Path


def scenes(root: Path) -> list[Scene]:
    """Every annotated scene under ``root`` (``leftImg8bit/<split>/<city>/...`` with its
    ``gtFine/<split>/<city>/..._gtFine_labelIds.png``); a missing label file is an error
    naming it."""
    found: list[Scene] = []
    images = root / "leftImg8bit"
    if not images.is_dir():
        raise FileNotFoundError(
            f"no Cityscapes images at {images} (expected leftImg8bit/<split>/<city>/)"
        )
    for split in SPLITS:
        for image in sorted((images / split).glob(f"*/*{IMAGE_SUFFIX}")):
            city = image.parent.name
            stem = image.name[: -len(IMAGE_SUFFIX)]
            labels = root / "gtFine" / split / city / f"{stem}{LABEL_SUFFIX}"
            if split == "test":
                continue  # Cityscapes' test labels are withheld
            if not labels.is_file():
                raise FileNotFoundError(f"{image} has no labels at {labels}")
            found.append(Scene(city, split, image, labels))
    if not found:
        raise FileNotFoundError(f"no annotated scenes under {root}")
    return found


def split_by_city(
    cities: list[str], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, str]:
    """city -> train | val | test: every scene of a city in one split, seeded."""
    order = sorted(set(cities))
    rng = np.random.default_rng(seed)
    rng.shuffle(order)
    n = len(order)
    n_test = max(1, round(n * test_fraction)) if n >= 3 else 0
    n_val = max(1, round(n * val_fraction)) if n >= 3 else 0
    split = {c: "test" for c in order[:n_test]}
    split |= {c: "val" for c in order[n_test : n_test + n_val]}
    split |= {c: "train" for c in order[n_test + n_val :]}
    return split


def train_id_to_category() -> dict[int, int]:
    """Cityscapes' 19 train ids (what its published models predict) -> category id. No
    train id is void: void labels are not trained (train id 255)."""
    from cityscapesscripts.helpers.labels import labels

    return {label.trainId: label.categoryId for label in labels if 0 <= label.trainId < 19}
