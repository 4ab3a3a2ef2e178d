"""Finding the genre model in the BentoML model store before the service starts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import bentoml
from bentoml.exceptions import NotFound

from bentos.common.once import build_once
from bentos.common.settings import MarketplaceSettings, Profile

log = logging.getLogger(__name__)


def model_exists(tag: str) -> bool:
    try:
        bentoml.models.get(tag)
    except NotFound:
        return False
    return True


def ensure_model(tag: str) -> str:
    """Resolve ``tag`` (``genre:latest`` included) to the exact version in the model store.

    Both genre services use the exact version, so a model registered while they start
    cannot pair one version's features with another's weights. With the ``smoke``
    profile, a missing ``<name>:latest`` is trained on first use from the synthetic
    source (about 30 s); its predictions are meaningless. Otherwise a missing model fails
    with what to do.
    """
    if model_exists(tag):
        return str(bentoml.models.get(tag).tag)
    name, _, version = tag.partition(":")
    store = os.environ.get("BENTOML_HOME", "~/bentoml")
    if MarketplaceSettings().profile is not Profile.SMOKE or version not in ("", "latest"):
        raise RuntimeError(
            f"model {tag!r} is not in the BentoML model store ({store}). Train and register "
            "one with `dvc repro` (make train), set GENRE_MODEL_TAG to a model that exists "
            "(`bentoml models list`), or use MARKETPLACE_PROFILE=smoke to train a throwaway "
            "model on synthetic data."
        )
    from training.smoke import train_smoke_model  # training code is only needed here

    def train() -> None:
        log.warning("smoke profile: no %s model, training one on synthetic data", name)
        train_smoke_model(name)

    lock = Path(store).expanduser() / f".{name}-smoke.lock"
    build_once(lock, lambda: model_exists(tag), train)
    return str(bentoml.models.get(tag).tag)
