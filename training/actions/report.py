"""The action model's part of the training report (``training.report`` adds it when the
actions stages have run): parameters changed, the metrics against the base branch, each
action's frame recall, the confusion matrix, and the promotion gate."""

from __future__ import annotations

from pathlib import Path

from training.promote import ACTIONS_METRICS
from training.report import compare_keys, figure_section, gate_section, metrics_at, section_head

CONFUSION = "dvclive/actions/evaluate/plots/images/confusion_matrix.png"
HEADLINES = ("frame_accuracy", "f1@0.1", "f1@0.25", "f1@0.5", "midpoint_map", "test_seconds")


def actions_section(
    root: Path, base_ref: str, out: Path, current_params: dict, base_params: dict | None
) -> list[str]:
    current, base = metrics_at(root, base_ref, ACTIONS_METRICS)
    lines = section_head("Action model", "actions", base_ref, current_params, base_params)
    lines += ["## Metrics (test clips)", ""]
    lines += compare_keys("metric", HEADLINES, current, base)
    lines += ["", "## Frame recall per action", ""]
    per_class = current["per_class"]
    lines += compare_keys("action", per_class, per_class, (base or {}).get("per_class"))
    lines.append("")
    lines += figure_section(root, CONFUSION, out, "actions_confusion_matrix.png",
                            "Confusion matrix (test frames, % of each true action)",
                            "actions confusion matrix")  # fmt: skip
    return [*lines, *gate_section("actions", root, current, base)]
