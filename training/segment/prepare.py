"""Stage ``segment_prepare``: scenes and their category masks, resized, in three splits.

``python -m training.segment.prepare``. Writes ``data/segment/<split>/<name>.png`` and
``<name>_mask.png`` (category ids 0-7), ``index.csv`` (split, name, city) and
``class_counts.json`` (the train split's pixels per category, for class weights).
Synthetic scenes, or Cityscapes split by city (no city in two splits).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image

from bentos.segment.categories import CATEGORIES
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.segment import cityscapes
from training.segment.synthetic import scene

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def data_dir(layout: Layout) -> Path:
    return layout.root / "data" / "segment"


def _resize(
    image: np.ndarray, mask: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    if image.shape[:2] == (height, width):
        return image, mask
    img = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    msk = Image.fromarray(mask).resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(img), np.asarray(msk)


def prepare(params: Params, layout: Layout) -> Path:
    p = params.segment.data
    out = data_dir(layout)
    rows: list[tuple[str, str, str]] = []
    counts = np.zeros(len(CATEGORIES), dtype=np.int64)

    def write(split: str, name: str, city: str, image: np.ndarray, mask: np.ndarray) -> None:
        nonlocal counts
        image, mask = _resize(image, mask, p.height, p.width)
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{name}.png")
        Image.fromarray(mask).save(folder / f"{name}_mask.png")
        rows.append((split, name, city))
        if split == "train":
            counts += np.bincount(mask.ravel(), minlength=len(CATEGORIES))[: len(CATEGORIES)]

    if p.source == "synthetic":
        seed = p.seed * 100_000
        for split in SPLITS:
            for _ in range(getattr(p.synthetic, split)):
                seed += 1
                image, mask = scene(seed, p.height, p.width)
                write(split, f"synthetic-{seed}", "synthetic", image, mask)
    else:
        root = layout.resolve(p.cityscapes_dir)
        found = cityscapes.scenes(root)
        where = cityscapes.split_by_city(
            [s.city for s in found], p.val_fraction, p.test_fraction, p.seed
        )
        table = cityscapes.label_to_category()
        for s in found:
            image = np.asarray(Image.open(s.image).convert("RGB"))
            mask = cityscapes.to_categories(np.asarray(Image.open(s.labels)), table)
            write(
                where[s.city],
                s.image.name.removesuffix(cityscapes.IMAGE_SUFFIX),
                s.city,
                image,
                mask,
            )

    with (out / "index.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("split", "name", "city"), *rows])
    (out / "class_counts.json").write_text(
        json.dumps(dict(zip(CATEGORIES, counts.tolist(), strict=True)), indent=2)
    )
    log.info("prepared %d scenes (%s) in %s", len(rows), p.source, out)
    return out


def main(argv: list[str] | None = None) -> None:
    stage_main(prepare, argv)


if __name__ == "__main__":
    main()
