"""The action model's part of the training report (``training.report`` adds it when the
actions stages have run): parameters changed, the metrics against the base branch, each
action's frame recall, the confusion matrix, and the promotion gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.params import load_params
from training.promote import ACTIONS_METRICS, KINDS, gate, judge, read_scores
from training.report import PARAMS, params_section
from training.revisions import file_at

CONFUSION = "dvclive/actions/evaluate/plots/images/confusion_matrix.png"
HEADLINES = ("frame_accuracy", "f1@0.1", "f1@0.25", "f1@0.5", "midpoint_map", "test_seconds")


def _f(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _change(new: float | None, old: float | None) -> str:
    return f"{new - old:+.4f}" if new is not None and old is not None else "–"


def actions_section(
    root: Path, base_ref: str, out: Path, current_params: dict, base_params: dict | None
) -> list[str]:
    current = json.loads((root / ACTIONS_METRICS).read_text())
    base_text = file_at(base_ref, ACTIONS_METRICS, root)
    base = json.loads(base_text) if base_text else None
    lines = [f"# Action model: this branch against `{base_ref}`", ""]
    old_params = {"actions": base_params.get("actions", {})} if base_params else None
    lines += params_section({"actions": current_params.get("actions", {})}, old_params)
    lines += ["## Metrics (test clips)", "", "| metric | base | this branch | change |",
              "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for key in HEADLINES:
        old = base.get(key) if base else None
        lines.append(f"| {key} | {_f(old)} | {_f(current[key])} | {_change(current[key], old)} |")
    lines += ["", "## Frame recall per action", "", "| action | base | this branch | change |",
              "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for name, new in current["per_class"].items():
        old = ((base or {}).get("per_class") or {}).get(name)
        lines.append(f"| {name} | {_f(old)} | {_f(new)} | {_change(new, old)} |")
    lines.append("")
    if (root / CONFUSION).is_file():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / CONFUSION, out / "actions_confusion_matrix.png")
        lines += ["## Confusion matrix (test frames, % of each true action)", "",
                  "![actions confusion matrix](actions_confusion_matrix.png)", ""]  # fmt: skip
    kind = KINDS["actions"]
    margin, tolerance = gate(kind, load_params(root / PARAMS))
    candidate = read_scores(kind, current)
    production = read_scores(kind, base) if base else None
    decision = judge(kind, candidate, production, margin, tolerance)
    return [*lines, "## If merged", "", decision.markdown(candidate, production)]
