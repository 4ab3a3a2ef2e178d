"""Synthetic shop surveillance clips with exact per-frame labels, for CI and the smoke
profile: a top-down-ish view of a shopper beside a shelf, whose hand moves to, into and
away from the shelf, holds a product up, or stays still while the head scans the shelf.
One motion pattern per class (MERL Shopping's five actions and background), chained by a
plausible grammar, so that motion (the flow stream) tells the classes apart more than
appearance does. Nothing here resembles real footage closely: a model trained on it
knows the patterns, not shops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = (
    "background",
    "reach to shelf",
    "retract from shelf",
    "hand in shelf",
    "inspect product",
    "inspect shelf",
)
# what may follow each class, and each class's duration range in seconds
NEXT = {
    0: (1, 5, 0),
    1: (3,),
    2: (4, 0, 5),
    3: (2,),
    4: (0, 1),
    5: (1, 0),
}
SECONDS = {0: (1.0, 2.5), 1: (0.6, 1.1), 2: (0.6, 1.1), 3: (1.0, 2.2), 4: (1.4, 2.8),
           5: (1.2, 2.6)}  # fmt: skip


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    labels: np.ndarray  # (T,) class ids
    fps: float


def schedule(rng: np.random.Generator, frames: int, fps: float) -> np.ndarray:
    """Per-frame class ids: segments chained by :data:`NEXT`, from background."""
    labels = np.empty(frames, dtype=np.int64)
    cls, start = 0, 0
    while start < frames:
        low, high = SECONDS[cls]
        length = max(2, round(rng.uniform(low, high) * fps))
        labels[start : start + length] = cls
        start += length
        cls = int(rng.choice(NEXT[cls]))
    return labels


def _ease(t: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(t, 0, 1))


def _disc(image: np.ndarray, y: float, x: float, r: float, colour) -> None:
    h, w = image.shape[:2]
    yy, xx = np.ogrid[:h, :w]
    image[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = colour


def _line(image: np.ndarray, a: tuple[float, float], b: tuple[float, float], width: float,
          colour) -> None:  # fmt: skip
    h, w = image.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    (ay, ax), (by, bx) = a, b
    dy, dx = by - ay, bx - ax
    t = np.clip(((yy - ay) * dy + (xx - ax) * dx) / max(dy * dy + dx * dx, 1e-6), 0, 1)
    near = (yy - ay - t * dy) ** 2 + (xx - ax - t * dx) ** 2 <= width * width
    image[near] = colour


def render(
    seed: int, seconds: float = 20.0, fps: float = 15.0, height: int = 96, width: int = 128
) -> Clip:
    """A clip of ``seconds`` at ``fps``, its labels per frame."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    labels = schedule(rng, n, fps)
    left = bool(rng.integers(2))  # the shelf's side
    s = 1.6 * width / 128  # sizes scale with the frame: the shopper fills much of it

    # the still scene: floor, shelf with boards and products
    scene = np.empty((height, width, 3), dtype=np.float32)
    scene[:] = rng.uniform(90, 150, 3)
    shelf_w = int(width * 0.3)
    x0, x1 = (0, shelf_w) if left else (width - shelf_w, width)
    scene[:, x0:x1] = rng.uniform(50, 90, 3)
    for board in range(1, 5):
        y = int(board * height / 5)
        scene[y : y + max(1, int(2 * s)), x0:x1] = (170, 150, 120)
        for _ in range(4):
            px = int(rng.integers(x0 + 2, max(x0 + 3, x1 - 8 * s)))
            size = int(rng.integers(4, 8) * s)
            scene[max(0, y - size) : y, px : px + size] = rng.uniform(40, 250, 3)
    edge = x1 if left else x0  # the shelf's front edge, where reaching ends
    direction = -1.0 if left else 1.0  # from the body toward the shelf: -x when left

    body_x = width * (0.55 if left else 0.45) + rng.uniform(-4, 4) * s
    body_y = height * 0.62
    shoulder = (body_y - 12 * s, body_x + direction * 8 * s)
    rest = np.array([body_y + 15 * s, body_x + direction * 6 * s])  # hanging by the side
    at_shelf = np.array([body_y - 4 * s, edge - direction * 3 * s])
    in_shelf = np.array([body_y - 8 * s, edge + direction * 10 * s])
    chest = np.array([body_y - 16 * s, body_x + direction * 4 * s])
    skin = rng.uniform([170, 120, 90], [230, 180, 150])
    shirt = rng.uniform(30, 220, 3)
    product = rng.uniform(40, 250, 3)

    frames = np.empty((n, height, width, 3), dtype=np.uint8)
    hand = rest.copy()
    head_shift = 0.0
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], n]
    for a, b in zip(starts, ends, strict=True):
        cls, span = int(labels[a]), b - a
        begin = hand.copy()
        t = _ease((np.arange(span) + 1) / span)
        phase = rng.uniform(0, 2 * np.pi)
        for k in range(span):
            f = a + k
            wobble = np.sin(2 * np.pi * (k / 15.0) * 0.7 + phase)
            if cls == 0:  # hand at rest, a little sway
                hand = rest + np.array([0.0, 2.0 * s * wobble])
                head_shift *= 0.8
            elif cls == 1:  # reach: rest -> the shelf's front
                hand = begin + (at_shelf - begin) * t[k]
            elif cls == 2:  # retract: wherever it was -> rest (or the chest next)
                hand = begin + (rest - begin) * t[k]
            elif cls == 3:  # inside the shelf, rummaging
                hand = in_shelf + np.array([3.0 * s * wobble, 3.0 * s * np.cos(3 * wobble)])
                if k < span // 3:
                    hand = begin + (hand - begin) * _ease(np.array(3 * k / span))
            elif cls == 4:  # a product held up at the chest, turned over
                target = chest + np.array([2.0 * s * wobble, 0.0])
                hand = begin + (target - begin) * min(1.0, 3 * (k + 1) / span)
            else:  # inspect shelf: hand still, the head scans along the shelf
                hand = rest.copy()
                head_shift = direction * 6 * s * (0.6 + 0.4 * wobble)
            image = scene.copy()
            _disc(image, body_y, body_x, 14 * s, shirt)  # shoulders and back, from above
            _disc(image, body_y - 6 * s, body_x + head_shift, 7 * s, (60, 45, 35))  # head
            _line(image, shoulder, (hand[0], hand[1]), 2.2 * s, shirt)  # arm
            _disc(image, hand[0], hand[1], 3.2 * s, skin)
            if cls == 4:  # the product in the hand, its visible face turning
                turn = abs(np.cos(2 * np.pi * k / 15.0 + phase))
                hh, hw = int(5 * s), max(1, int(6 * s * turn + s))
                y, x = int(hand[0] - hh), int(hand[1] - hw // 2)
                image[max(0, y) : max(0, y + hh), max(0, x) : max(0, x + hw)] = product
            light = 1.0 + 0.03 * np.sin(f / 7.0)
            image = image * light + rng.normal(0, 4.0, image.shape)
            frames[f] = np.clip(image, 0, 255).astype(np.uint8)
    return Clip(frames, labels, fps)
