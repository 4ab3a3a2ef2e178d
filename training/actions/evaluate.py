"""Stage ``actions_evaluate``: the trained model on the test clips, windows to segments as
the service does. ``python -m training.actions.evaluate``.

Writes ``dvclive/actions/evaluate/metrics.json``: frame accuracy, each class's frame
recall, segmental F1 at IoU 0.1, 0.25 and 0.5, the midpoint-hit mAP with each class's AP,
the confusion matrix in frames; and the row-normalised confusion matrix as an image.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from dvclive import Live

from bentos.actions.inference import predict_video
from bentos.actions.metrics import confusion, frame_accuracy, midpoint_map, segment_f1
from bentos.actions.model_files import ActionsModel
from training.actions.data import Clips
from training.actions.prepare import data_dir
from training.actions.train import model_dir
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.plots import matrix_png

log = logging.getLogger(__name__)
IOU_THRESHOLDS = (0.1, 0.25, 0.5)


def live_dir(layout: Layout) -> Path:
    return layout.root / "dvclive" / "actions" / "evaluate"


def metrics_json(layout: Layout) -> Path:
    return live_dir(layout) / "metrics.json"


def score(model: ActionsModel, clips: Clips) -> dict[str, Any]:
    c = model.config
    classes = len(c.classes)
    videos, detections, truths, preds = [], [], [], []
    for frames, flow, labels in clips.items:
        probs, segments = predict_video(
            model.network,
            frames,
            flow,
            c.fps,
            c.stride,
            c.smooth_seconds,
            c.min_seconds,
            device=model.device,
        )
        predicted = probs.argmax(axis=1)
        for s in segments:  # the runs the segments make, short ones folded in
            predicted[s.start : s.end] = s.label
        videos.append((labels, predicted))
        detections.append((labels, [(s.label, s.start, s.end,
                                     float(probs[s.start : s.end, s.label].max()))
                                    for s in segments]))  # fmt: skip
        truths.append(labels)
        preds.append(predicted)
    truth, predicted = np.concatenate(truths), np.concatenate(preds)
    matrix = confusion(truth, predicted, classes)
    recall = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    ap = midpoint_map(detections, classes)
    return {
        "frame_accuracy": round(frame_accuracy(truth, predicted), 4),
        "per_class": {
            name: round(float(recall[i]), 4)
            for i, name in enumerate(c.classes)
            if matrix[i].sum() > 0
        },
        **segment_f1(videos, IOU_THRESHOLDS),
        "midpoint_map": ap["map"],
        "ap": {c.classes[k]: v for k, v in ap["ap"].items()},
        "confusion": matrix.tolist(),
        "test_clips": len(clips),
        "test_seconds": round(len(truth) / c.fps, 1),
    }


def run(params: Params, layout: Layout) -> dict[str, Any]:
    model = ActionsModel.load(model_dir(layout))
    metrics = {**score(model, Clips(data_dir(layout), "test")),
               "training": model.config.training}  # fmt: skip
    with Live(dir=str(live_dir(layout)), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        live.summary.update(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            image = matrix_png(
                np.array(metrics["confusion"]),
                model.config.classes,
                Path(tmp) / "confusion_matrix.png",
                "action",
                percent=True,
            )
            live.log_image("confusion_matrix.png", image)
    log.info("actions_evaluate: %d test clips, frame accuracy %.3f, F1@0.5 %.3f, mAP %.3f",
             metrics["test_clips"], metrics["frame_accuracy"], metrics["f1@0.5"],
             metrics["midpoint_map"])  # fmt: skip
    return metrics


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
