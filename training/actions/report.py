"""The action model's part of the training report (``training.report`` adds it when the
actions stages have run): parameters changed, the metrics against the base branch, each
action's frame recall, the confusion matrix, and the promotion gate."""

from __future__ import annotations

import shutil
from pathlib import Path

from training.promote import ACTIONS_METRICS
from training.report import compare_table, gate_section, metrics_at, params_section

CONFUSION = "dvclive/actions/evaluate/plots/images/confusion_matrix.png"
HEADLINES = ("frame_accuracy", "f1@0.1", "f1@0.25", "f1@0.5", "midpoint_map", "test_seconds")


def actions_section(
    root: Path, base_ref: str, out: Path, current_params: dict, base_params: dict | None
) -> list[str]:
    current, base = metrics_at(root, base_ref, ACTIONS_METRICS)
    lines = [f"# Action model: this branch against `{base_ref}`", ""]
    old_params = {"actions": base_params.get("actions", {})} if base_params else None
    lines += params_section({"actions": current_params.get("actions", {})}, old_params)
    lines += ["## Metrics (test clips)", ""]
    lines += compare_table("metric", [(k, (base or {}).get(k), current[k]) for k in HEADLINES])
    lines += ["", "## Frame recall per action", ""]
    old_class = (base or {}).get("per_class") or {}
    lines += compare_table("action", [(c, old_class.get(c), new)
                                      for c, new in current["per_class"].items()])  # fmt: skip
    lines.append("")
    if (root / CONFUSION).is_file():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / CONFUSION, out / "actions_confusion_matrix.png")
        lines += ["## Confusion matrix (test frames, % of each true action)", "",
                  "![actions confusion matrix](actions_confusion_matrix.png)", ""]  # fmt: skip
    return [*lines, *gate_section("actions", root, current, base)]
