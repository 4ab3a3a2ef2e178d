"""A confusion matrix as a PNG, drawn with PIL (no plotting library): rows the truth,
columns the prediction, each cell shaded by its share of its row."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CELL, MARGIN = 36, 120  # pixels per cell, room for the labels


def matrix_png(
    counts: np.ndarray, labels: list[str], path: Path, caption: str, percent: bool = False
) -> Path:
    """``counts[i, j]``: how many of true ``labels[i]`` were predicted ``labels[j]``. Each
    cell shows its count, or with ``percent`` its share of the row (pixels are too many)."""
    from PIL import Image, ImageDraw

    counts = np.asarray(counts, dtype=np.float64)
    n = len(labels)
    size = MARGIN + n * CELL
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    totals = np.maximum(counts.sum(axis=1), 1)
    for i, actual in enumerate(labels):
        draw.text((4, MARGIN + i * CELL + CELL // 3), actual[:14], fill="black")
        for j in range(n):
            count, share = counts[i, j], counts[i, j] / totals[i]
            shade = int(255 * (1 - share))
            box = (MARGIN + j * CELL, MARGIN + i * CELL, MARGIN + (j + 1) * CELL - 1,
                   MARGIN + (i + 1) * CELL - 1)  # fmt: skip
            draw.rectangle(box, fill=(shade, shade, 255), outline="#cccccc")
            if count:
                text = f"{100 * share:.0f}" if percent else str(int(count))
                draw.text(
                    (box[0] + 6, box[1] + CELL // 3), text, fill="white" if share > 0.5 else "black"
                )
    for j, predicted in enumerate(labels):
        draw.text((MARGIN + j * CELL + 2, MARGIN - 14 - 12 * (j % 2)), predicted[:6], fill="black")
    unit = " (% of the row)" if percent else ""
    draw.text((4, 4), f"rows: actual {caption}, columns: predicted{unit}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
