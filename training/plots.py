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


PLOT, PAD = 360, 48  # a line plot's square and its margin
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def lines_png(
    series: dict[str, tuple[list[float], list[float]]], path: Path, title: str,
    x_label: str, y_label: str, diagonal: bool = False,
) -> Path:  # fmt: skip
    """Lines of (x, y) points in [0, 1] x [0, 1], one colour each, with a legend;
    ``diagonal`` draws y = x (a calibration plot's ideal)."""
    from PIL import Image, ImageDraw

    size = PLOT + 2 * PAD
    image = Image.new("RGB", (size + 140, size), "white")
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return PAD + x * PLOT, PAD + (1 - y) * PLOT

    draw.rectangle((*at(0, 1), *at(1, 0)), outline="#888888")
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        draw.text((at(tick, 0)[0] - 8, PAD + PLOT + 4), f"{tick:g}", fill="black")
        draw.text((4, at(0, tick)[1] - 6), f"{tick:g}", fill="black")
    if diagonal:
        draw.line((*at(0, 0), *at(1, 1)), fill="#bbbbbb", width=1)
    for i, (name, (xs, ys)) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = [at(x, y) for x, y in zip(xs, ys, strict=True)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for px, py in points:
            draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=colour)
        draw.text((size, PAD + 16 * i), f"-- {name}", fill=colour)
    draw.text((4, 6), title, fill="black")
    draw.text((PAD + PLOT // 2 - 40, size - 18), x_label, fill="black")
    draw.text((4, PAD - 20), f"y: {y_label}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
