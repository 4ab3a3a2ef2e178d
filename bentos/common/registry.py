"""A trained model's files copied into the BentoML model store as a new version (the
register stages of every model trained here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def store_files(
    folder: Path | str, files: Iterable[str], name: str, *, labels: dict[str, str],
    metadata: dict[str, Any],
) -> str:  # fmt: skip
    """Copy ``files`` from ``folder`` into the model store as a new version of ``name``;
    its tag. The caller first loads the folder as its service will, to refuse what cannot
    be served."""
    import bentoml

    with bentoml.models.create(name, labels=labels, metadata=metadata) as stored:
        for item in files:
            shutil.copy2(Path(folder) / item, stored.path_of(item))
    return str(stored.tag)
