"""Stage ``tags_register``: the chosen decision model as a new version in the BentoML
model store, labelled and described like the other models (git commit, params, test
metrics, a hash of the exact prepared data). ``python -m training.tags.register``.
Writes ``models/tags-registered.json`` with the tag."""

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
from training.tags.evaluate import metrics_json
from training.tags.prepare import data_dir
from training.tags.train import method_dir

log = logging.getLogger(__name__)


def registered_json(layout: Layout) -> Path:
    return layout.root / "models" / "tags-registered.json"


def data_hash(layout: Layout) -> str:
    digest = hashlib.sha256()
    for name in ("vocabulary.json", "tracks.npz"):
        digest.update((data_dir(layout) / name).read_bytes())
    return digest.hexdigest()


def run(params: Params, layout: Layout, extra_labels: dict[str, str] | None = None) -> str:
    from bentos.tags.model_files import register

    tp = params.tags
    metrics: dict[str, Any] = json.loads(metrics_json(layout).read_text())
    method = metrics["method"]
    revision = git_revision(layout)
    digest = data_hash(layout)
    labels = {
        "source": tp.data.source,
        "method": method,
        "git": revision[:12],
        "weighted_f1": f"{metrics['weighted_f1']:.4f}",
        **(extra_labels or {}),
    }
    metadata = {
        "git_sha": revision,
        "data_sha256": digest,
        "params": tp.model_dump(mode="json", exclude_none=True),
        "metrics": without_none(metrics),
    }
    tag = register(method_dir(layout, method), tp.registry_name, labels=labels,
                   metadata=metadata)  # fmt: skip
    registered_json(layout).write_text(json.dumps({
        "tag": tag, "method": method, "git_sha": revision, "data_sha256": digest,
        "weighted_f1": metrics["weighted_f1"],
    }, indent=2) + "\n")  # fmt: skip
    log.info("tags_register: %s (%s, weighted F1 %.3f)", tag, method, metrics["weighted_f1"])
    return tag


def main(argv: list[str] | None = None) -> None:
    stage_main(run, argv)


if __name__ == "__main__":
    main()
