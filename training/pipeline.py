"""All stages in one call, in one folder: what ``dvc repro`` runs, for tests and smoke."""

from __future__ import annotations

from typing import Any

from training import evaluate, featurize, prepare, register, train
from training.layout import Layout
from training.params import Params


def run_all(
    params: Params, layout: Layout, *, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """prepare -> featurize -> train -> evaluate [-> register when ``labels`` is given]."""
    prepare.run(params, layout)
    featurize.run(params, layout)
    train.run(params, layout)
    metrics = evaluate.run(params, layout)
    tag = register.run(params, layout, extra_labels=labels) if labels is not None else None
    return {"metrics": metrics, "tag": tag}
