"""Typed view of params.yaml (every stage validates the parameters it reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bentos.genre.features import FeatureConfig
from bentos.genre.network import NetworkConfig
from training.actions.params import ActionsParams
from training.segment.params import SegmentParams
from training.tags.params import TagsParams


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SyntheticParams(_Section):
    tracks_per_genre: int = Field(20, ge=3)
    seconds: float = Field(10.0, gt=0)


class DataParams(_Section):
    source: Literal["synthetic", "gtzan"] = "synthetic"
    gtzan_dir: str = "data/raw/gtzan"
    fma_metadata: str | None = Field(None, description="FMA tracks.csv; adds FMA-medium tracks")
    fma_audio_dir: str | None = Field(None, description="folder of fma_medium/<000>/<id>.mp3")
    fma_max_per_genre: int = Field(300, ge=0)
    synthetic: SyntheticParams = SyntheticParams()
    val_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    seed: int = 42

    @model_validator(mode="after")
    def _fma_pair(self) -> DataParams:
        if (self.fma_metadata is None) != (self.fma_audio_dir is None):
            raise ValueError("set both data.fma_metadata and data.fma_audio_dir, or neither")
        return self


class FeaturizeParams(_Section):
    train_hop_seconds: float = Field(2.5, gt=0, description="overlapping training windows")
    workers: int = Field(2, ge=1)


class TrainParams(_Section):
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    max_epochs: int = Field(40, ge=1)
    patience: int = Field(6, ge=1, description="epochs without val improvement before stopping")
    min_delta: float = Field(
        1e-3, ge=0, description="smallest val F1 gain, or val loss drop, that is progress"
    )
    seed: int = 42


class RegisterParams(_Section):
    name: str = "genre"


class PromoteParams(_Section):
    margin: float = Field(
        0.01, ge=0, le=1, description="macro-F1 a candidate must gain over production"
    )
    per_genre_tolerance: float = Field(
        0.05, ge=0, le=1, description="largest F1 drop allowed for any one genre"
    )


class DriftParams(_Section):
    drift_share: float = Field(
        0.5, gt=0, le=1, description="share of drifted columns that makes the data drift"
    )
    column_threshold: float = Field(
        0.05, gt=0, lt=1, description="p-value below which one column has drifted"
    )
    min_rows: int = Field(30, ge=1, description="fewer monitored requests: no verdict")


class Params(_Section):
    features: FeatureConfig = FeatureConfig()
    data: DataParams = DataParams()
    featurize: FeaturizeParams = FeaturizeParams()
    model: NetworkConfig = NetworkConfig()
    train: TrainParams = TrainParams()
    registry: RegisterParams = RegisterParams()
    segment: SegmentParams = SegmentParams()
    tags: TagsParams = TagsParams()
    actions: ActionsParams = ActionsParams()
    promote: PromoteParams = PromoteParams()
    drift: DriftParams = DriftParams()


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_params(path: Path | str | None = "params.yaml", **overrides: Any) -> Params:
    """params.yaml (when it exists) with nested ``overrides`` applied on top."""
    raw: dict[str, Any] = {}
    if path is not None and Path(path).exists():
        raw = yaml.safe_load(Path(path).read_text()) or {}
    return Params.model_validate(_merge(raw, overrides))
