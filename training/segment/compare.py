"""Stage ``segment_compare``: the models and losses side by side (the seed's deliverable).

``python -m training.segment.compare``. Each variant of ``segment.compare.variants`` (an
architecture, its start and a loss) is trained on the same prepared scenes with the same
budget (``segment.compare.epochs`` on the first ``train_scenes``) and scored on the test
split: mean IoU, mean Dice, pixel accuracy and training time. Writes
``dvclive/segment/compare.json`` (the table, read by the training report) and
``dvclive/segment/compare.csv`` (``dvc plots show`` draws it).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.segment.data import Scenes
from training.segment.prepare import data_dir
from training.segment.train import evaluate_network, fit

log = logging.getLogger(__name__)
COLUMNS = ("variant", "architecture", "init", "loss", "miou", "dice", "pixel_accuracy",
           "train_seconds", "epochs")  # fmt: skip


def table_json(layout: Layout) -> Path:
    return layout.root / "dvclive" / "segment" / "compare.json"


def run(params: Params, layout: Layout) -> list[dict[str, Any]]:
    sp = params.segment
    folder = data_dir(layout)
    test = Scenes(folder, "test")
    scenes = min(sp.compare.train_scenes, len(Scenes(folder, "train").names))
    rows: list[dict[str, Any]] = []
    for variant in sp.compare.variants:
        vp = sp.model_copy(update={
            "model": sp.model.model_copy(update={"architecture": variant.architecture,
                                                 "init": variant.init}),
            "train": sp.train.model_copy(update={"loss": variant.loss,
                                                 "max_epochs": sp.compare.epochs,
                                                 "patience": sp.compare.epochs}),
        })  # fmt: skip
        network, _, summary = fit(vp, folder, None, scenes=sp.compare.train_scenes)
        result = evaluate_network(network, test, sp.train.batch_size)
        rows.append({
            "variant": variant.name, "architecture": variant.architecture, "init": variant.init,
            "loss": variant.loss, "miou": round(result["miou"], 4),
            "dice": round(result["dice"], 4), "pixel_accuracy": round(result["pixel_accuracy"], 4),
            "train_seconds": summary["train_seconds"], "epochs": summary["epochs"],
        })  # fmt: skip
        log.info("segment_compare: %s: mIoU %.3f, Dice %.3f in %.0f s", variant.name,
                 result["miou"], result["dice"], summary["train_seconds"])  # fmt: skip
    out = table_json(layout)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = {"epochs": sp.compare.epochs, "train_scenes": scenes, "variants": rows}
    out.write_text(json.dumps(table, indent=2) + "\n")
    with out.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def markdown(table: dict[str, Any]) -> str:
    """The comparison as a Markdown table, best mean IoU first."""
    lines = [f"Same {table['train_scenes']} training scenes, {table['epochs']} epochs each; "
             "scored on the test split.", "",
             "| variant | architecture | start | loss | mIoU | Dice | pixel acc. | training |",
             "|---|---|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in sorted(table["variants"], key=lambda r: -r["miou"]):
        lines.append(f"| {r['variant']} | {r['architecture']} | {r['init']} | {r['loss']} | "
                     f"{r['miou']:.3f} | {r['dice']:.3f} | {r['pixel_accuracy']:.3f} | "
                     f"{r['train_seconds']:.0f} s |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
