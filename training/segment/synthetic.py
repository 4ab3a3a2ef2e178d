"""Synthetic street scenes with exact masks: a learnable 8-category problem for CI and the
smoke profile, with nothing to download.

Each scene draws, from a seeded generator, a sky band, buildings along the horizon, trees,
a road with its sidewalk and markings, poles and signs, cars and people, and sometimes the
camera car's bonnet (void), each shape drawn
once on the image (in a colour of its kind, with texture) and once on the mask (its
category id), so the mask is exact; noise and a light blur go on the image only. It is
not Cityscapes, and a model trained on it knows nothing of real streets.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bentos.segment.categories import CATEGORIES

ID = {name: i for i, name in enumerate(CATEGORIES)}


def _jitter(
    rng: np.random.Generator, rgb: tuple[int, int, int], spread: int = 25
) -> tuple[int, ...]:
    return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in rgb)


def scene(seed: int, height: int = 256, width: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """An RGB image (H, W, 3) uint8 and its category mask (H, W) uint8."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height))
    mask = Image.new("L", (width, height), ID["void"])
    paint, label = ImageDraw.Draw(image), ImageDraw.Draw(mask)

    def draw(kind: str, shape: str, box, colour, **extra) -> None:
        getattr(paint, shape)(box, fill=colour, **extra)
        getattr(label, shape)(box, fill=ID[kind], **extra)

    horizon = int(height * rng.uniform(0.38, 0.55))
    draw("sky", "rectangle", (0, 0, width, horizon), _jitter(rng, (120, 170, 225), 30))
    x = int(rng.integers(-40, 0))
    while x < width:  # buildings along the street
        w = int(rng.integers(width // 10, width // 4))
        top = int(horizon - rng.uniform(0.2, 0.9) * horizon)
        draw(
            "construction",
            "rectangle",
            (x, top, x + w, horizon + 5),
            _jitter(rng, (120, 110, 100), 40),
        )
        for wy in range(top + 8, horizon - 6, 14):  # windows: part of the building
            for wx in range(x + 6, x + w - 8, 14):
                paint.rectangle((wx, wy, wx + 6, wy + 7), fill=_jitter(rng, (60, 70, 90), 20))
        x += w + int(rng.integers(0, width // 12))
    for _ in range(int(rng.integers(1, 5))):  # trees
        cx = int(rng.integers(0, width))
        r = int(rng.integers(height // 14, height // 6))
        cy = int(horizon - r * rng.uniform(0.3, 1.2))
        draw("nature", "ellipse", (cx - r, cy - r, cx + r, cy + r), _jitter(rng, (70, 120, 40), 25))
        draw("nature", "rectangle", (cx - 3, cy, cx + 3, horizon + 4), (90, 70, 40))
    draw(
        "flat", "rectangle", (0, horizon, width, height), _jitter(rng, (128, 128, 128), 20)
    )  # road
    draw(
        "flat",
        "polygon",
        [(0, horizon + 4), (width // 5, horizon + 4), (0, height)],
        _jitter(rng, (185, 175, 160), 15),
    )
    for y in range(horizon + 12, height, 22):  # lane markings: road still
        paint.rectangle((width // 2 - 2, y, width // 2 + 2, y + 10), fill=(235, 235, 225))
    for _ in range(int(rng.integers(1, 4))):  # poles and signs
        px = int(rng.integers(0, width))
        top = int(horizon - rng.uniform(0.2, 0.6) * horizon)
        draw(
            "object",
            "rectangle",
            (px - 2, top, px + 2, horizon + int(rng.integers(10, 40))),
            (150, 150, 150),
        )
        draw(
            "object", "rectangle", (px - 9, top - 12, px + 9, top), _jitter(rng, (200, 170, 30), 30)
        )
    people = []
    for _ in range(int(rng.integers(0, 5))):
        base = int(rng.integers(horizon + 10, height))
        size = (base - horizon) / (height - horizon)
        people.append((base, int(rng.integers(0, width)), max(6, int(60 * size))))
    cars = []
    for _ in range(int(rng.integers(1, 5))):
        base = int(rng.integers(horizon + 15, height))
        size = (base - horizon) / (height - horizon)
        cars.append((base, int(rng.integers(-20, width)), max(14, int(150 * size))))
    for base, cx, length in sorted(cars):  # far ones first: the near ones hide them
        h = length // 2
        colour = _jitter(rng, tuple(int(c) for c in rng.integers(20, 235, 3)), 10)
        draw("vehicle", "rectangle", (cx, base - h, cx + length, base - h // 4), colour)
        draw(
            "vehicle",
            "rectangle",
            (cx + length // 5, base - h - h // 2, cx + 4 * length // 5, base - h),
            colour,
        )
        for wx in (cx + length // 6, cx + 5 * length // 6):
            draw(
                "vehicle", "ellipse", (wx - h // 4, base - h // 2, wx + h // 4, base), (25, 25, 25)
            )
    for base, cx, tall in sorted(people):
        w = max(3, tall // 4)
        draw(
            "human",
            "rectangle",
            (cx - w // 2, base - tall + w, cx + w // 2, base),
            _jitter(rng, (180, 60, 70), 60),
        )
        draw(
            "human",
            "ellipse",
            (cx - w // 2, base - tall, cx + w // 2, base - tall + w),
            (230, 190, 160),
        )

    if rng.random() < 0.5:  # the camera car's bonnet, void as in Cityscapes ("ego vehicle")
        top = int(height * rng.uniform(0.85, 0.95))
        draw(
            "void",
            "ellipse",
            (-width // 4, top, width + width // 4, height + (height - top)),
            _jitter(rng, (40, 40, 45), 10),
        )

    pixels = np.asarray(
        image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0))), dtype=np.float32
    )
    pixels += rng.normal(0, rng.uniform(2, 8), pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8), np.asarray(mask, dtype=np.uint8)
