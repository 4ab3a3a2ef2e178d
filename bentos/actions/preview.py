"""The optional preview: the analysed frames with each moment's action written on them and
a bar of its probability, as an mp4 (base64)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import numpy as np

from bentos.actions.video import write

SCALE = 4  # the preview is the model's frames, enlarged


def annotated(frames: np.ndarray, probs: np.ndarray, classes: list[str], fps: float) -> str:
    from PIL import Image, ImageDraw

    out = []
    for image, p in zip(frames, probs, strict=True):
        big = Image.fromarray(image).resize((image.shape[1] * SCALE, image.shape[0] * SCALE))
        draw = ImageDraw.Draw(big)
        k = int(p.argmax())
        draw.rectangle((0, 0, big.width, 16), fill=(0, 0, 0))
        draw.rectangle((0, 14, int(big.width * float(p[k])), 16), fill=(255, 200, 0))
        draw.text((4, 2), f"{classes[k]} {100 * float(p[k]):.0f} %", fill=(255, 255, 255))
        out.append(np.asarray(big))
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "preview.mp4", np.stack(out), fps)
        return base64.b64encode(path.read_bytes()).decode("ascii")
