"""The training report posted on pull requests (CML posts it; this builds it anywhere).

    python -m training.report --base origin/main --out report/

Writes ``report/report.md`` and ``report/confusion_matrix.png``: what changed in
params.yaml, the metrics against the base branch, every genre's F1 against the base, the
confusion matrix of the test tracks, and what the promotion gate would decide if the
branch were merged. Files missing at the base (the first training) are reported as such.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from training.params import load_params
from training.promote import METRICS, ModelMetrics, decide
from training.revisions import file_at

PARAMS = "params.yaml"
CONFUSION = "dvclive/evaluate/plots/sklearn/confusion_matrix.json"
CELL, MARGIN = 36, 120  # confusion-matrix image: pixels per cell, room for the labels


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def params_section(current: dict, base: dict | None) -> list[str]:
    lines = ["## Parameters", ""]
    if base is None:
        return [*lines, "No params.yaml on the base branch: nothing to compare.", ""]
    new, old = flatten(current), flatten(base)
    changed = sorted(k for k in new.keys() | old.keys() if new.get(k) != old.get(k))
    if not changed:
        return [*lines, "No parameter changed.", ""]
    lines += ["| parameter | base | this branch |", "| --- | --- | --- |"]
    lines += [f"| `{k}` | {old.get(k, '–')} | {new.get(k, '–')} |" for k in changed]
    return [*lines, ""]


def metrics_section(current: dict, base: dict | None) -> list[str]:
    lines = ["## Metrics (test tracks)", "", "| metric | base | this branch | change |",
             "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for key in ("accuracy", "f1_macro", "window_accuracy", "test_tracks"):
        if key not in current:
            continue
        old = base.get(key) if base else None
        change = f"{current[key] - old:+.4f}" if old is not None else "–"
        lines.append(f"| {key} | {_num(old)} | {_num(current[key])} | {change} |")
    lines += ["", "## F1 per genre", "", "| genre | support | base | this branch | change |",
              "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    old_genres = (base or {}).get("per_genre", {})
    for genre, score in sorted(current["per_genre"].items()):
        old = old_genres.get(genre, {}).get("f1")
        change = f"{score['f1'] - old:+.4f}" if old is not None else "–"
        lines.append(
            f"| {genre} | {score.get('support', '')} | {_num(old)} | {score['f1']:.4f} | {change} |"
        )
    return [*lines, ""]


def _num(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def confusion_png(pairs: list[dict[str, str]], labels: list[str], path: Path) -> Path:
    """The confusion matrix as a PNG (rows: actual, columns: predicted), drawn with PIL."""
    from PIL import Image, ImageDraw

    counts = Counter((p["actual"], p["predicted"]) for p in pairs)
    n = len(labels)
    size = MARGIN + n * CELL
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    row_totals = {a: sum(counts[(a, p)] for p in labels) or 1 for a in labels}
    for i, actual in enumerate(labels):
        draw.text((4, MARGIN + i * CELL + CELL // 3), actual[:14], fill="black")
        for j, predicted in enumerate(labels):
            count = counts[(actual, predicted)]
            share = count / row_totals[actual]
            shade = int(255 * (1 - share))
            box = (MARGIN + j * CELL, MARGIN + i * CELL, MARGIN + (j + 1) * CELL - 1,
                   MARGIN + (i + 1) * CELL - 1)  # fmt: skip
            draw.rectangle(box, fill=(shade, shade, 255), outline="#cccccc")
            if count:
                colour = "white" if share > 0.5 else "black"
                draw.text((box[0] + 6, box[1] + CELL // 3), str(count), fill=colour)
    for j, predicted in enumerate(labels):
        draw.text((MARGIN + j * CELL + 2, MARGIN - 14 - 12 * (j % 2)), predicted[:6], fill="black")
    draw.text((4, 4), "rows: actual genre, columns: predicted", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def build(root: Path, base_ref: str, out: Path) -> Path:
    current_metrics = json.loads((root / METRICS).read_text())
    base_text = file_at(base_ref, METRICS, root)
    base_metrics = json.loads(base_text) if base_text else None
    current_params = yaml.safe_load((root / PARAMS).read_text()) or {}
    base_params_text = file_at(base_ref, PARAMS, root)
    base_params = yaml.safe_load(base_params_text) if base_params_text else None

    lines = [f"# Genre model: this branch against `{base_ref}`", ""]
    lines += params_section(current_params, base_params)
    lines += metrics_section(current_metrics, base_metrics)
    pairs = json.loads((root / CONFUSION).read_text())
    labels = sorted(current_metrics["per_genre"])
    image = confusion_png(pairs, labels, out / "confusion_matrix.png")
    lines += ["## Confusion matrix (test tracks)", "", f"![confusion matrix]({image.name})", ""]
    gate = load_params(root / PARAMS).promote
    candidate = ModelMetrics.model_validate(current_metrics)
    production = ModelMetrics.model_validate(base_metrics) if base_metrics else None
    decision = decide(candidate, production, gate)
    lines += ["## If merged", "", decision.markdown(candidate, production)]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="origin/main", help="git revision to compare with")
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("report"))
    args = parser.parse_args(argv)
    print(build(args.root, args.base, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
