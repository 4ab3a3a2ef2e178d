"""The ``tags:`` section of params.yaml: every value the tag-decision stages read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SyntheticCatalogue(_Section):
    tracks: int = Field(6000, ge=100)
    tags_per_class: tuple[int, int, int] = (24, 24, 16)  # genres, instruments, moods
    categories_per_class: int = Field(4, ge=1)
    styles: int = Field(10, ge=1, description="hidden styles that make tags co-occur")
    shared_noise: bool = Field(True, description="the tagger's noise shared by a track")


class TagsData(_Section):
    source: Literal["synthetic", "mewo"] = "synthetic"
    mewo_dir: str = "data/raw/mewo"
    inputs: str = Field("train_X_*.csv", description="the tagger's scores (mewo_dir glob)")
    labels: str = Field("train_y_*.csv", description="the true tags (mewo_dir glob)")
    table: str = Field("mewo-labels.csv", description="tag -> class and category")
    synthetic: SyntheticCatalogue = SyntheticCatalogue()
    val_fraction: float = Field(0.16, gt=0, lt=0.5)
    test_fraction: float = Field(0.20, gt=0, lt=0.5)
    seed: int = 42


class Linear(_Section):
    l2: float = Field(1.0, ge=0, description="L2 penalty of the per-tag logistic regressions")
    steps: int = Field(200, ge=1, description="L-BFGS iterations (full batch)")


class Mlp(_Section):
    hidden: int = Field(128, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(256, ge=1)
    lr: float = Field(0.001, gt=0)
    weight_decay: float = Field(0.0001, ge=0)
    seed: int = 42


class TagsModels(_Section):
    methods: list[Literal["thresholds", "linear", "mlp"]] = ["thresholds", "linear", "mlp"]
    baseline: Literal["thresholds"] = "thresholds"
    folds: int = Field(4, ge=2, description="out-of-fold predictions for the thresholds")
    linear: Linear = Linear()
    mlp: Mlp = Mlp()


class TagsEvaluate(_Section):
    resamples: int = Field(1000, ge=100, description="bootstrap resamples of the test tracks")
    confidence: float = Field(0.95, gt=0.5, lt=1)


class TagsPromote(_Section):
    margin: float = Field(0.005, ge=0, le=1, description="weighted F1 a candidate must gain")
    per_class_tolerance: float = Field(
        0.02, ge=0, le=1, description="largest weighted-F1 drop allowed for any one class"
    )


class TagsParams(_Section):
    data: TagsData = TagsData()
    models: TagsModels = TagsModels()
    evaluate: TagsEvaluate = TagsEvaluate()
    promote: TagsPromote = TagsPromote()
    registry_name: str = "tags"
