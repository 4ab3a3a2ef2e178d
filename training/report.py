"""The training report posted on pull requests (CML posts it; this builds it anywhere).

    python -m training.report --base origin/main --out report/

Writes ``report/report.md`` and ``report/confusion_matrix.png``: what changed in
params.yaml, the metrics against the base branch, every genre's F1 against the base, the
confusion matrix of the test tracks, and what the promotion gate would decide if the
branch were merged. Files missing at the base (the first training) are reported as such.
When the segmentation stages have run, the same for the segmentation model (mean IoU,
Dice, each category's IoU, its confusion matrix, the models and losses compared), and for
the tag-decision model (weighted F1, per class, the methods compared, calibration).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from training.params import load_params
from training.plots import matrix_png
from training.promote import (
    ACTIONS_METRICS,
    KINDS,
    METRICS,
    SEGMENT_METRICS,
    TAGS_METRICS,
    ModelMetrics,
    decide,
    gate,
    judge,
    read_scores,
)
from training.revisions import file_at

PARAMS = "params.yaml"
CONFUSION = "dvclive/evaluate/plots/sklearn/confusion_matrix.json"
OTHER_MODELS = ("segment", "tags", "actions")  # params.yaml sections that are not the genre model's


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


def compare_table(
    first: str, rows: list[tuple[str, float | int | None, float | int | None]]
) -> list[str]:
    """``| first | base | this branch | change |`` rows of (name, base value, branch value)."""
    lines = [f"| {first} | base | this branch | change |", "| --- | ---: | ---: | ---: |"]
    for name, old, new in rows:
        change = f"{new - old:+.4f}" if new is not None and old is not None else "–"
        lines.append(f"| {name} | {_num(old)} | {_num(new)} | {change} |")
    return lines


def compare_keys(first: str, keys: Iterable[str], current: dict, base: dict | None) -> list[str]:
    """:func:`compare_table` of ``keys`` read in this branch's and the base's mappings."""
    return compare_table(first, [(k, (base or {}).get(k), current.get(k)) for k in keys])


def section_head(
    title: str, key: str, base_ref: str, current_params: dict, base_params: dict | None
) -> list[str]:
    """A model's part of the report starts: its title, then its parameters changed."""
    lines = [f"# {title}: this branch against `{base_ref}`", ""]
    old_params = {key: base_params.get(key, {})} if base_params else None
    return lines + params_section({key: current_params.get(key, {})}, old_params)


def figure_section(
    root: Path, source: str, out: Path, name: str, title: str, alt: str
) -> list[str]:
    """A plot the evaluation drew, copied beside the report, as a section (or nothing)."""
    import shutil

    if not (root / source).is_file():
        return []
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / source, out / name)
    return [f"## {title}", "", f"![{alt}]({name})", ""]


def metrics_at(root: Path, base_ref: str, path: str) -> tuple[dict, dict | None]:
    """A model's evaluate metrics on this branch and at the base (None: none there)."""
    base_text = file_at(base_ref, path, root)
    return json.loads((root / path).read_text()), json.loads(base_text) if base_text else None


def gate_section(model: str, root: Path, current: dict, base: dict | None) -> list[str]:
    """What the promotion gate would decide if the branch were merged."""
    kind = KINDS[model]
    margin, tolerance = gate(kind, load_params(root / PARAMS))
    candidate = read_scores(kind, current)
    production = read_scores(kind, base) if base else None
    decision = judge(kind, candidate, production, margin, tolerance)
    return ["## If merged", "", decision.markdown(candidate, production)]


def confusion_png(pairs: list[dict[str, str]], labels: list[str], path: Path) -> Path:
    """The genre confusion matrix (per-track pairs) as a PNG."""
    counts = Counter((p["actual"], p["predicted"]) for p in pairs)
    matrix = [[counts[(actual, predicted)] for predicted in labels] for actual in labels]
    return matrix_png(np.array(matrix), labels, path, "genre")


def build(root: Path, base_ref: str, out: Path) -> Path:
    current_metrics = json.loads((root / METRICS).read_text())
    base_text = file_at(base_ref, METRICS, root)
    base_metrics = json.loads(base_text) if base_text else None
    current_params = yaml.safe_load((root / PARAMS).read_text()) or {}
    base_params_text = file_at(base_ref, PARAMS, root)
    base_params = yaml.safe_load(base_params_text) if base_params_text else None

    lines = [f"# Genre model: this branch against `{base_ref}`", ""]
    genre_params = {k: v for k, v in current_params.items() if k not in OTHER_MODELS}
    base_genre = (
        {k: v for k, v in base_params.items() if k not in OTHER_MODELS} if base_params else None
    )
    lines += params_section(genre_params, base_genre)
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
    if (root / SEGMENT_METRICS).is_file():
        lines += segment_section(root, base_ref, out, current_params, base_params)
    if (root / TAGS_METRICS).is_file():
        from training.tags.report import tags_section

        lines += tags_section(root, base_ref, out, current_params, base_params)
    if (root / ACTIONS_METRICS).is_file():
        from training.actions.report import actions_section

        lines += actions_section(root, base_ref, out, current_params, base_params)
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


SEGMENT_CONFUSION = "dvclive/segment/evaluate/plots/images/confusion_matrix.png"
SEGMENT_COMPARE = "dvclive/segment/compare.json"


def segment_section(
    root: Path, base_ref: str, out: Path, current_params: dict, base_params: dict | None
) -> list[str]:
    """The segmentation model's part of the report."""

    from marketplace.contracts.schemas import CATEGORIES
    from training.segment.compare import markdown

    current, base = metrics_at(root, base_ref, SEGMENT_METRICS)
    lines = section_head("Segmentation model", "segment", base_ref, current_params, base_params)
    lines += ["## Metrics (test scenes)", ""]
    keys = ("miou", "dice", "pixel_accuracy", "test_scenes")
    lines += compare_keys("metric", keys, current, base)
    lines += ["", "## IoU per category", ""]
    lines += compare_keys("category", CATEGORIES, current["iou"], (base or {}).get("iou"))
    lines.append("")
    lines += figure_section(root, SEGMENT_CONFUSION, out, "segment_confusion_matrix.png",
                            "Confusion matrix (test pixels, % of each true category)",
                            "segmentation confusion matrix")  # fmt: skip
    if (root / SEGMENT_COMPARE).is_file():
        table = json.loads((root / SEGMENT_COMPARE).read_text())
        lines += ["## Models and losses compared", "", markdown(table)]
    return [*lines, *gate_section("segment", root, current, base)]


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
