"""Stage ``tags_train``: every decision method of ``tags.models.methods`` fitted on the
tuning rows (train and val: every row but the test split's), each tag's threshold tuned
on out-of-fold predictions, and the method to register chosen by its cross-validated
weighted F1, the test rows unseen. ``python -m training.tags.train``.

Writes ``models/tags/<method>/`` (config.json, model.npz) for each method,
``models/tags/chosen.json`` and ``dvclive/tags/train/metrics.json`` (each method's
cross-validated weighted F1 and training time).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from dvclive import Live

from bentos.tags.features import Vocabulary, features
from bentos.tags.model_files import config_of, save
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.tags.models import fit_with_thresholds
from training.tags.prepare import data_dir
from training.tags.scoring import weighted_f1

log = logging.getLogger(__name__)


def model_root(layout: Layout) -> Path:
    return layout.root / "models" / "tags"


def method_dir(layout: Layout, method: str) -> Path:
    return model_root(layout) / method


def chosen_json(layout: Layout) -> Path:
    return model_root(layout) / "chosen.json"


def live_dir(layout: Layout) -> Path:
    return layout.root / "dvclive" / "tags" / "train"


@dataclass(frozen=True)
class Tracks:
    vocab: Vocabulary
    scores: np.ndarray  # (n, T)
    category_scores: np.ndarray  # (n, K)
    labels: np.ndarray  # (n, T) uint8
    split: np.ndarray  # (n,) train | val | test

    @classmethod
    def load(cls, folder: Path) -> Tracks:
        vocab = Vocabulary(**json.loads((folder / "vocabulary.json").read_text()))
        with np.load(folder / "tracks.npz") as data:
            return cls(vocab, data["scores"], data["category_scores"], data["labels"],
                       data["split"])  # fmt: skip

    def rows(self, *splits: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.split, splits))


def options(params: Params, method: str) -> dict[str, Any]:
    models = params.tags.models
    if method == "linear":
        return models.linear.model_dump()
    if method == "mlp":
        return models.mlp.model_dump()
    return {}


def train(params: Params, layout: Layout) -> dict[str, Any]:
    tracks = Tracks.load(data_dir(layout))
    tuning = tracks.rows("train", "val")  # never a test row
    scores, y = tracks.scores[tuning], tracks.labels[tuning]
    x = features(scores, tracks.category_scores[tuning], tracks.vocab)
    models = params.tags.models
    root = model_root(layout)
    if root.exists():
        shutil.rmtree(root)
    measured: dict[str, dict[str, float]] = {}
    for method in models.methods:
        started = time.perf_counter()
        arrays, thresholds, oof = fit_with_thresholds(
            method, x, scores, y, options(params, method), models.folds, params.tags.data.seed
        )
        seconds = time.perf_counter() - started
        cv = weighted_f1(y, oof > thresholds)
        measured[method] = {"cv_weighted_f1": round(cv, 6), "train_seconds": round(seconds, 2)}
        training = {**measured[method], "tuning_tracks": len(tuning),
                    "folds": models.folds, "source": params.tags.data.source}  # fmt: skip
        save(method_dir(layout, method), config_of(method, tracks.vocab, thresholds, training),
             arrays)  # fmt: skip
        log.info("tags_train: %s, cross-validated weighted F1 %.4f, %.1f s", method, cv, seconds)
    chosen = max(models.methods, key=lambda m: measured[m]["cv_weighted_f1"])
    chosen_json(layout).write_text(json.dumps({"method": chosen}, indent=2) + "\n")
    summary = {"chosen": chosen, "tuning_tracks": len(tuning), "methods": measured}
    with Live(dir=str(live_dir(layout)), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        live.summary.update(summary)
    log.info("tags_train: chose %s", chosen)
    return summary


def main(argv: list[str] | None = None) -> None:
    stage_main(train, argv)


if __name__ == "__main__":
    main()
