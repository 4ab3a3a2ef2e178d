"""Stage ``segment_evaluate``: the trained network scored on the test split, as served.

``python -m training.segment.evaluate``. Writes ``dvclive/segment/evaluate/metrics.json``
(mean IoU over the 8 categories, mean Dice, pixel accuracy, per-category IoU and Dice, the
confusion matrix in pixels, what training took) and the row-normalised confusion matrix as
an image that ``dvc plots show`` and the training report render.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from dvclive import Live

from bentos.segment.categories import CATEGORIES
from bentos.segment.model_files import SegmentModel
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.plots import matrix_png
from training.segment.data import Scenes
from training.segment.prepare import data_dir
from training.segment.train import evaluate_network, model_dir

log = logging.getLogger(__name__)


def live_dir(layout: Layout) -> Path:
    return layout.root / "dvclive" / "segment" / "evaluate"


def metrics_json(layout: Layout) -> Path:
    return live_dir(layout) / "metrics.json"


def run(params: Params, layout: Layout) -> dict[str, Any]:
    model = SegmentModel.load(model_dir(layout))
    test = Scenes(data_dir(layout), "test")
    result = evaluate_network(model.network, test, params.segment.train.batch_size)
    metrics = {**result, "test_scenes": len(test), "training": model.config.training}
    out = live_dir(layout)
    with Live(dir=str(out), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        live.summary.update(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "confusion_matrix.png"
            matrix = np.array(result["confusion"])
            image = matrix_png(matrix, list(CATEGORIES), path, "category", percent=True)
            live.log_image("confusion_matrix.png", image)
    log.info("segment_evaluate: %d test scenes, mIoU %.3f, Dice %.3f, pixel accuracy %.3f",
             len(test), result["miou"], result["dice"], result["pixel_accuracy"])  # fmt: skip
    return metrics


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
