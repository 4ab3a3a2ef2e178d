"""A tag-decision model as stored: ``config.json`` (the method, the vocabulary it reads
and decides, each tag's threshold, what training measured) and ``model.npz`` (its
arrays; none for the thresholds benchmark). Training writes them with :func:`save`; the
evaluation and the service load them the same way, and :func:`register` copies them into
the model store. numpy only: the service needs no torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from bentos.tags.decision import decide, probabilities
from bentos.tags.features import Vocabulary, features

WEIGHTS_FILE = "model.npz"
CONFIG_FILE = "config.json"


class TagsConfig(BaseModel):
    method: Literal["thresholds", "linear", "mlp"]
    tags: list[str] = Field(min_length=1, description="the decided tags, in column order")
    tag_class: list[str] = Field(description="each tag's class (Genres, Instruments, Moods)")
    tag_category: list[str] = Field(description="each tag's category")
    categories: list[str] = Field(description="the category columns: read, never decided")
    thresholds: list[float | None] = Field(
        description="decide a tag when its probability is above this; null: never"
    )
    training: dict[str, Any] = Field(default_factory=dict, description="what training measured")

    @model_validator(mode="after")
    def _aligned(self) -> TagsConfig:
        lengths = {len(self.tags), len(self.tag_class), len(self.tag_category)}
        if lengths != {len(self.thresholds)}:
            raise ValueError("tags, tag_class, tag_category and thresholds differ in length")
        if len(set(self.tags) | set(self.categories)) != len(self.tags) + len(self.categories):
            raise ValueError("a column is named twice among the tags and categories")
        return self

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.tags, self.tag_class, self.tag_category, self.categories)

    @property
    def columns(self) -> list[str]:
        """Every score a track must give: the tags, then the categories."""
        return [*self.tags, *self.categories]

    def threshold_array(self) -> np.ndarray:
        return np.array([math.inf if t is None else t for t in self.thresholds])


def config_of(
    method: str, vocab: Vocabulary, thresholds: np.ndarray, training: dict[str, Any]
) -> TagsConfig:
    return TagsConfig(
        method=method, tags=vocab.tags, tag_class=vocab.tag_class,
        tag_category=vocab.tag_category, categories=vocab.categories,
        thresholds=[float(t) if np.isfinite(t) else None for t in thresholds],
        training=training,
    )  # fmt: skip


def read_config(folder: Path | str) -> TagsConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {folder}: not a tag-decision model")
    return TagsConfig.model_validate_json(path.read_text())


def save(folder: Path | str, config: TagsConfig, arrays: dict[str, np.ndarray]) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / WEIGHTS_FILE, **arrays)
    (folder / CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n")


@dataclass
class TagsModel:
    config: TagsConfig
    arrays: dict[str, np.ndarray]

    @classmethod
    def load(cls, folder: Path | str) -> TagsModel:
        config = read_config(folder)
        with np.load(Path(folder) / WEIGHTS_FILE) as stored:
            arrays = {k: stored[k] for k in stored.files}
        model = cls(config, arrays)
        width = len(config.columns)
        model.probabilities(np.full((1, width), 0.5))  # the arrays fit the vocabulary
        return model

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """(n, T) decision scores of (n, T + K) tagger scores in :attr:`TagsConfig.columns`
        order."""
        t = len(self.config.tags)
        tag_scores, category_scores = scores[:, :t], scores[:, t:]
        x = features(tag_scores, category_scores, self.config.vocabulary)
        return probabilities(self.config.method, self.arrays, x, tag_scores)

    def decide(self, probability: np.ndarray) -> np.ndarray:
        return decide(probability, self.config.threshold_array())


def register(
    folder: Path | str, name: str, *, labels: dict[str, str], metadata: dict[str, Any]
) -> str:
    """Copy a trained model into the BentoML model store as a new version; its tag."""
    from bentos.common.registry import store_files

    TagsModel.load(folder)  # refuse to register what cannot be served
    return store_files(folder, (WEIGHTS_FILE, CONFIG_FILE), name, labels=labels, metadata=metadata)
