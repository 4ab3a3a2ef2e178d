"""Stage register: save the trained model as a new version in the BentoML model store.

Labels and metadata record where it came from: git commit, params, test metrics and a
hash of the exact training data. Writes ``models/registered.json`` with the tag.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from typing import Any

from training.datasets import SPLITS
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)


def git_revision(layout: Layout) -> str:
    """The commit the model was trained from, with '-dirty' for uncommitted changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=layout.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=layout.root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def without_none(value: Any) -> Any:
    """A metrics tree without its nulls (the model store keeps none: absent means none)."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value


def data_hash(layout: Layout) -> str:
    """sha256 over the feature arrays of every split: the data exactly as the model saw it."""
    import numpy as np

    digest = hashlib.sha256()
    for split in SPLITS:
        with np.load(layout.features_dir / f"{split}.npz") as data:
            for key in ("x", "y", "track"):
                digest.update(np.ascontiguousarray(data[key]).tobytes())
    return digest.hexdigest()


def run(params: Params, layout: Layout, extra_labels: dict[str, str] | None = None) -> str:
    from bentos.genre.model_files import register

    metrics: dict[str, Any] = json.loads(layout.metrics_json.read_text())
    revision = git_revision(layout)
    digest = data_hash(layout)
    labels = {
        "source": params.data.source,
        "git": revision[:12],
        "f1_macro": f"{metrics['f1_macro']:.4f}",
        **(extra_labels or {}),
    }
    metadata = {
        "git_sha": revision,
        "data_sha256": digest,
        "params": params.model_dump(mode="json", exclude_none=True),
        "metrics": metrics,
    }
    tag = register(layout.model_dir, params.registry.name, labels=labels, metadata=metadata)
    layout.registered_json.parent.mkdir(parents=True, exist_ok=True)
    layout.registered_json.write_text(
        json.dumps(
            {
                "tag": tag,
                "git_sha": revision,
                "data_sha256": digest,
                "f1_macro": metrics["f1_macro"],
                "accuracy": metrics["accuracy"],
            },
            indent=2,
        )
        + "\n"
    )
    log.info("register: %s (macro-F1 %.3f)", tag, metrics["f1_macro"])
    return tag


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
