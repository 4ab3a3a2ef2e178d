"""Finding a trained model (genre, segment) in the BentoML model store when a service starts."""

from __future__ import annotations

import os

import bentoml
from bentoml.exceptions import NotFound

from bentos.common.settings import MarketplaceSettings, Profile


def model_exists(tag: str) -> bool:
    try:
        bentoml.models.get(tag)
    except NotFound:
        return False
    return True


def find_model(tag: str, setting: str = "GENRE_MODEL_TAG") -> bentoml.Model:
    """The stored model ``tag`` names (``genre:latest`` included), or an error saying
    what to do (``setting``: the variable that chooses the tag). Nothing is trained here:
    the smoke profile's models are made beforehand by ``python -m training.smoke`` (the
    stack starters and ``make serve`` run it)."""
    try:
        return bentoml.models.get(tag)
    except NotFound:
        store = os.environ.get("BENTOML_HOME", "~/bentoml")
        smoke = MarketplaceSettings().profile is Profile.SMOKE
        hint = (
            "build the smoke profile's model first: `python -m training.smoke` (make serve, "
            "make stack and the test fixtures do it)"
            if smoke
            else "train and register one with `dvc repro` (make train), set "
            "GENRE_MODEL_TAG to a model that exists (`bentoml models list`), or use "
            "MARKETPLACE_PROFILE=smoke and `python -m training.smoke` for a throwaway model"
        )
        raise RuntimeError(
            f"model {tag!r} is not in the BentoML model store ({store}): {hint}"
        ) from None
