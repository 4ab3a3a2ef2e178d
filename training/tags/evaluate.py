"""Stage ``tags_evaluate``: every decision method scored on the test tracks, as served.

``python -m training.tags.evaluate``. Writes ``dvclive/tags/evaluate/metrics.json``: the
chosen method's weighted F1 (the challenge's metric), micro and macro F1, weighted F1 per
class, F1 and support per tag and tags decided per track; the same for every method
with its training time; and each method against the benchmark (per-tag thresholds) as
a difference in weighted F1 with a paired-bootstrap confidence interval over the test
tracks. Also ``dvclive/tags/calibration/<method>.csv`` (``dvc plots``) and
``calibration.png``: how often a tag is true against the probability each method gave it.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from dvclive import Live
from sklearn.metrics import f1_score

from bentos.tags.model_files import TagsModel
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.plots import lines_png
from training.tags.prepare import data_dir
from training.tags.scoring import paired_bootstrap, weighted_f1
from training.tags.train import Tracks, chosen_json, method_dir

log = logging.getLogger(__name__)
BINS = 10  # calibration bins of the predicted probability


def live_dir(layout: Layout) -> Path:
    return layout.root / "dvclive" / "tags" / "evaluate"


def metrics_json(layout: Layout) -> Path:
    return live_dir(layout) / "metrics.json"


def calibration_dir(layout: Layout) -> Path:
    """One CSV per method: ``dvc plots`` draws each as a line."""
    return layout.root / "dvclive" / "tags" / "calibration"


def scores_of(truth: np.ndarray, decided: np.ndarray, tag_class: list[str]) -> dict[str, Any]:
    classes = np.array(tag_class)
    per_class = {c: round(weighted_f1(truth[:, classes == c], decided[:, classes == c]), 6)
                 for c in sorted(set(tag_class))}  # fmt: skip
    per_track = {"decided": round(float(decided.sum(axis=1).mean()), 3),
                 "true": round(float(truth.sum(axis=1).mean()), 3)}  # fmt: skip
    return {
        "weighted_f1": round(weighted_f1(truth, decided), 6),
        "micro_f1": round(float(f1_score(truth, decided, average="micro", zero_division=0)), 6),
        "macro_f1": round(float(f1_score(truth, decided, average="macro", zero_division=0)), 6),
        "per_class": per_class,
        "tags_per_track": per_track,
    }


def calibration(probability: np.ndarray, truth: np.ndarray) -> tuple[list[float], list[float]]:
    """(mean probability, share true) of each non-empty bin of the probabilities."""
    p, y = probability.ravel(), truth.ravel()
    bins = np.minimum((p * BINS).astype(int), BINS - 1)
    xs, ys = [], []
    for b in range(BINS):
        inside = bins == b
        if inside.any():
            xs.append(round(float(p[inside].mean()), 4))
            ys.append(round(float(y[inside].mean()), 4))
    return xs, ys


def run(params: Params, layout: Layout) -> dict[str, Any]:
    tracks = Tracks.load(data_dir(layout))
    test = tracks.rows("test")
    truth = tracks.labels[test].astype(bool)
    inputs = np.hstack([tracks.scores[test], tracks.category_scores[test]])
    chosen = json.loads(chosen_json(layout).read_text())["method"]
    models = params.tags.models
    decided, methods, curves = {}, {}, {}
    per_tag: dict[str, dict[str, float | int]] = {}
    for method in models.methods:
        model = TagsModel.load(method_dir(layout, method))
        probability = model.probabilities(inputs)
        decided[method] = model.decide(probability)
        methods[method] = {**scores_of(truth, decided[method], tracks.vocab.tag_class),
                           "train_seconds": model.config.training["train_seconds"],
                           "cv_weighted_f1": model.config.training["cv_weighted_f1"]}  # fmt: skip
        curves[method] = calibration(probability, truth)
        if method == chosen:
            f1 = f1_score(truth, decided[method], average=None, zero_division=0)
            per_tag = {t: {"f1": round(float(f1[j]), 4), "support": int(truth[:, j].sum())}
                       for j, t in enumerate(tracks.vocab.tags)}  # fmt: skip
    ev = params.tags.evaluate
    baseline = models.baseline
    compare = {}
    if baseline in decided:
        for method in models.methods:
            if method != baseline:
                compare[method] = {**paired_bootstrap(truth, decided[baseline], decided[method],
                                                      ev.resamples, params.tags.data.seed,
                                                      1 - ev.confidence),
                                   "confidence": ev.confidence}  # fmt: skip
    metrics = {"method": chosen, **methods[chosen], "per_tag": per_tag, "test_tracks": len(test),
               "baseline": baseline, "methods": methods, "compare": compare}  # fmt: skip
    write_calibration(layout, curves)
    with Live(dir=str(live_dir(layout)), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        live.summary.update(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            image = lines_png(curves, Path(tmp) / "calibration.png",
                              "calibration on the test tracks (every tag)",
                              "predicted probability", "share true", diagonal=True)  # fmt: skip
            live.log_image("calibration.png", image)
    for method, gain in compare.items():
        log.info("tags_evaluate: %s - %s = %+.4f weighted F1 (%.0f %% CI %+.4f to %+.4f)",
                 method, baseline, gain["difference"], 100 * ev.confidence, gain["low"],
                 gain["high"])  # fmt: skip
    log.info("tags_evaluate: %d test tracks, %s weighted F1 %.4f", len(test), chosen,
             metrics["weighted_f1"])  # fmt: skip
    return metrics


def write_calibration(layout: Layout, curves: dict[str, tuple[list[float], list[float]]]) -> None:
    folder = calibration_dir(layout)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for method, (xs, ys) in curves.items():
        rows = [f"{x},{y}" for x, y in zip(xs, ys, strict=True)]
        (folder / f"{method}.csv").write_text("\n".join(["predicted,observed", *rows]) + "\n")


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
