"""The tag-decision model's part of the training report (``training.report`` adds it when
the tags stages have run): parameters changed, the metrics against the base branch,
weighted F1 per class, the methods compared with their training time and their gain over
the benchmark's per-tag thresholds (with the bootstrap interval), the calibration plot,
and the promotion gate."""

from __future__ import annotations

from pathlib import Path

from training.promote import TAGS_METRICS
from training.report import compare_keys, figure_section, gate_section, metrics_at, section_head

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
    lines = section_head("Tag-decision model", "tags", base_ref, current_params, base_params)
    lines += ["## Metrics (test tracks)", ""]
    keys = ("weighted_f1", "micro_f1", "macro_f1", "test_tracks")
    lines += compare_keys("metric", keys, current, base)
    lines += ["", f"Method: {current['method']}", "", "## Weighted F1 per class", ""]
    per_class = current["per_class"]
    lines += compare_keys("class", per_class, per_class, (base or {}).get("per_class"))
    confidence = next(iter(current["compare"].values()), {}).get("confidence", 0.95)
    lines += ["", f"## Methods compared (test tracks; {100 * confidence:.0f} % paired-bootstrap "
              "interval)", "", *methods_table(current), ""]  # fmt: skip
    lines += figure_section(
        root,
        CALIBRATION,
        out,
        "tags_calibration.png",
        "Calibration (test tracks, every tag)",
        "tags calibration",
    )
    return [*lines, *gate_section("tags", root, current, base)]
