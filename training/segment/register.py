"""Stage ``segment_register``: the trained segmentation model as a new version in the
BentoML model store, labelled and described like the genre model (git commit, params,
test metrics, a hash of the exact prepared data). ``python -m training.segment.register``.
Writes ``models/segment-registered.json`` with the tag."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.register import git_revision, without_none
from training.segment.evaluate import metrics_json
from training.segment.prepare import data_dir
from training.segment.train import model_dir

log = logging.getLogger(__name__)


def registered_json(layout: Layout) -> Path:
    return layout.root / "models" / "segment-registered.json"


def data_hash(layout: Layout) -> str:
    """sha256 over the index and every prepared image and mask, in index order."""
    folder = data_dir(layout)
    digest = hashlib.sha256((folder / "index.csv").read_bytes())
    for path in sorted(folder.glob("*/*.png")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run(params: Params, layout: Layout, extra_labels: dict[str, str] | None = None) -> str:
    from bentos.segment.model_files import register

    sp = params.segment
    metrics: dict[str, Any] = json.loads(metrics_json(layout).read_text())
    revision = git_revision(layout)
    digest = data_hash(layout)
    labels = {
        "source": sp.data.source,
        "architecture": sp.model.architecture,
        "init": sp.model.init,
        "git": revision[:12],
        "miou": f"{metrics['miou']:.4f}",
        **(extra_labels or {}),
    }
    metadata = {
        "git_sha": revision,
        "data_sha256": digest,
        "params": sp.model_dump(mode="json", exclude_none=True),
        "metrics": without_none(metrics),  # the store keeps no nulls: absent means none
    }
    tag = register(model_dir(layout), sp.registry_name, labels=labels, metadata=metadata)
    registered_json(layout).write_text(json.dumps({
        "tag": tag, "git_sha": revision, "data_sha256": digest,
        "miou": metrics["miou"], "pixel_accuracy": metrics["pixel_accuracy"],
    }, indent=2) + "\n")  # fmt: skip
    log.info("segment_register: %s (mIoU %.3f)", tag, metrics["miou"])
    return tag


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
