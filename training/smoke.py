"""The smoke profile's genre model: trained on first use from the synthetic source.

It uses params.yaml (when run from the repo) with a smaller synthetic set, so a fresh
clone serves in about a minute. It recognises synthetic clips, not real music.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from training.layout import Layout
from training.params import load_params
from training.pipeline import run_all

log = logging.getLogger(__name__)
PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"
SMOKE_OVERRIDES = {
    "data": {"source": "synthetic", "synthetic": {"tracks_per_genre": 12, "seconds": 8.0}},
    "train": {"max_epochs": 20},
}


def train_smoke_model(name: str = "genre") -> str:
    params = load_params(PARAMS_FILE, **SMOKE_OVERRIDES, registry={"name": name})
    with tempfile.TemporaryDirectory(prefix="genre-smoke-") as tmp:
        result = run_all(params, Layout(Path(tmp)), labels={"profile": "smoke"})
    log.warning(
        "smoke profile: registered %s (synthetic data; meaningless on real music)", result["tag"]
    )
    return result["tag"]
