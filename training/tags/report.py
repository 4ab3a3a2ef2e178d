"""The tag-decision model's part of the training report (``training.report`` adds it when
the tags stages have run): parameters changed, the metrics against the base branch,
weighted F1 per class, the methods compared with their training time and their gain over
the benchmark's per-tag thresholds (with the bootstrap interval), the calibration plot,
and the promotion gate."""

from __future__ import annotations

import shutil
from pathlib import Path

from training.promote import TAGS_METRICS
from training.report import compare_table, gate_section, metrics_at, params_section

CALIBRATION = "dvclive/tags/evaluate/plots/images/calibration.png"


def methods_table(metrics: dict) -> list[str]:
    """Every method on the test tracks, and its gain over the baseline."""
    baseline = metrics["baseline"]
    lines = [f"| method | weighted F1 | micro F1 | macro F1 | tags a track | training s | "
             f"gain over {baseline} (CI) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]  # fmt: skip
    for method, m in metrics["methods"].items():
        gain = metrics["compare"].get(method)
        interval = (f"{gain['difference']:+.4f} ({gain['low']:+.4f} to {gain['high']:+.4f})"
                    if gain else "–")  # fmt: skip
        chosen = " (registered)" if method == metrics["method"] else ""
        lines.append(f"| {method}{chosen} | {m['weighted_f1']:.4f} | {m['micro_f1']:.4f} | "
                     f"{m['macro_f1']:.4f} | {m['tags_per_track']['decided']:.2f} | "
                     f"{m['train_seconds']:.1f} | {interval} |")  # fmt: skip
    return lines


def tags_section(
    root: Path, base_ref: str, out: Path, current_params: dict, base_params: dict | None
) -> list[str]:
    current, base = metrics_at(root, base_ref, TAGS_METRICS)
    lines = [f"# Tag-decision model: this branch against `{base_ref}`", ""]
    old_params = {"tags": base_params.get("tags", {})} if base_params else None
    lines += params_section({"tags": current_params.get("tags", {})}, old_params)
    lines += ["## Metrics (test tracks)", ""]
    keys = ("weighted_f1", "micro_f1", "macro_f1", "test_tracks")
    lines += compare_table("metric", [(k, (base or {}).get(k), current[k]) for k in keys])
    lines += ["", f"Method: {current['method']}", "", "## Weighted F1 per class", ""]
    old_class = (base or {}).get("per_class") or {}
    lines += compare_table("class", [(c, old_class.get(c), new)
                                     for c, new in current["per_class"].items()])  # fmt: skip
    confidence = next(iter(current["compare"].values()), {}).get("confidence", 0.95)
    lines += ["", f"## Methods compared (test tracks; {100 * confidence:.0f} % paired-bootstrap "
              "interval)", "", *methods_table(current), ""]  # fmt: skip
    if (root / CALIBRATION).is_file():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / CALIBRATION, out / "tags_calibration.png")
        lines += ["## Calibration (test tracks, every tag)", "",
                  "![tags calibration](tags_calibration.png)", ""]  # fmt: skip
    return [*lines, *gate_section("tags", root, current, base)]
