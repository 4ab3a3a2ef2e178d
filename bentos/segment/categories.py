"""The 8 categories of Cityscapes' label table, their ids and their colours.

The ids are Cityscapes' own ``categoryId`` (void 0 ... vehicle 7); each colour is that of
the category's most common label (road for flat, building for construction, ...), so a
mask looks like Cityscapes' own renderings.
"""

from __future__ import annotations

import numpy as np

from marketplace.contracts.schemas import CATEGORIES

__all__ = [
    "CATEGORIES",
    "PALETTE",
    "WORDS",
    "colourise",
    "describe",
    "palette_bytes",
    "paletted",
    "shares",
]
PALETTE: dict[str, tuple[int, int, int]] = {
    "void": (0, 0, 0),
    "flat": (128, 64, 128),
    "construction": (70, 70, 70),
    "object": (153, 153, 153),
    "nature": (107, 142, 35),
    "sky": (70, 130, 180),
    "human": (220, 20, 60),
    "vehicle": (0, 0, 142),
}


def palette_bytes() -> list[int]:
    """The palette of a PIL ``P`` image: category id i is colour i (768 entries)."""
    flat = [channel for name in CATEGORIES for channel in PALETTE[name]]
    return flat + [0] * (768 - len(flat))


def paletted(mask: np.ndarray):  # -> PIL.Image.Image
    """A category-id mask (H, W) as a ``P`` image with the category palette: saved as
    PNG, each pixel's value is its category id and it shows in Cityscapes' colours."""
    from PIL import Image

    ids = np.ascontiguousarray(mask, dtype=np.uint8)
    image = Image.frombuffer("P", (ids.shape[1], ids.shape[0]), ids.tobytes(), "raw", "P", 0, 1)
    image.putpalette(palette_bytes())
    return image


def colourise(mask: np.ndarray) -> np.ndarray:
    """An RGB image (H, W, 3) of a category-id mask (H, W)."""
    table = np.array([PALETTE[name] for name in CATEGORIES], dtype=np.uint8)
    return table[np.clip(mask, 0, len(CATEGORIES) - 1)]


def shares(mask: np.ndarray) -> dict[str, float]:
    """Each category's share of the mask's pixels (0 to 1)."""
    counts = np.bincount(mask.ravel(), minlength=len(CATEGORIES))[: len(CATEGORIES)]
    total = max(int(counts.sum()), 1)
    return {name: float(counts[i]) / total for i, name in enumerate(CATEGORIES)}


WORDS: dict[str, str] = {  # what each category shows, for a description in words
    "void": "unlabelled parts",
    "flat": "road and pavement",
    "construction": "buildings",
    "object": "poles and signs",
    "nature": "trees and greenery",
    "sky": "sky",
    "human": "people",
    "vehicle": "vehicles",
}


def describe(share: dict[str, float], present: list[str]) -> str:
    """'A street scene: road and pavement (38 %), buildings (21 %), ...'."""
    parts = [f"{WORDS[c]} ({100 * share[c]:.0f} %)" for c in present if c != "void"]
    return "A street scene: " + (", ".join(parts) if parts else "nothing recognised") + "."
