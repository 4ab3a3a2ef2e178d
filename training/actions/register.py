"""Stage ``actions_register``: the trained action model as a new version in the BentoML
model store, labelled and described like the other models (git commit, params, test
metrics, a hash of the prepared clips). ``python -m training.actions.register``.
Writes ``models/actions-registered.json`` with the tag."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from training.actions.evaluate import metrics_json
from training.actions.prepare import data_dir
from training.actions.train import model_dir
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.register import git_revision, without_none

log = logging.getLogger(__name__)


def registered_json(layout: Layout) -> Path:
    return layout.root / "models" / "actions-registered.json"


def data_hash(layout: Layout) -> str:
    """sha256 over the index and every prepared clip, in name order."""
    folder = data_dir(layout)
    digest = hashlib.sha256((folder / "index.csv").read_bytes())
    for path in sorted(folder.glob("*/*.npz")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run(params: Params, layout: Layout, extra_labels: dict[str, str] | None = None) -> str:
    from bentos.actions.model_files import register

    ap = params.actions
    metrics: dict[str, Any] = json.loads(metrics_json(layout).read_text())
    metrics.pop("confusion", None)
    revision = git_revision(layout)
    digest = data_hash(layout)
    labels = {
        "source": ap.data.source,
        "git": revision[:12],
        "frame_accuracy": f"{metrics['frame_accuracy']:.4f}",
        **(extra_labels or {}),
    }
    metadata = {"git_sha": revision, "data_sha256": digest,
                "params": ap.model_dump(mode="json", exclude_none=True),
                "metrics": without_none(metrics)}  # fmt: skip
    tag = register(model_dir(layout), ap.registry_name, labels=labels, metadata=metadata)
    registered_json(layout).write_text(json.dumps({
        "tag": tag, "git_sha": revision, "data_sha256": digest,
        "frame_accuracy": metrics["frame_accuracy"], "midpoint_map": metrics["midpoint_map"],
    }, indent=2) + "\n")  # fmt: skip
    log.info("actions_register: %s (frame accuracy %.3f)", tag, metrics["frame_accuracy"])
    return tag


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
