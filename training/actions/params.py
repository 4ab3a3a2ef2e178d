"""The ``actions:`` section of params.yaml: every value the action-recognition stages read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SyntheticClips(_Section):
    train: int = Field(36, ge=1, description="clips rendered for each split")
    val: int = Field(6, ge=1)
    test: int = Field(8, ge=1)
    seconds: float = Field(20.0, gt=1, description="each clip's length")


class ActionsData(_Section):
    source: Literal["synthetic", "merl"] = "synthetic"
    merl_dir: str = "data/raw/merl"
    fps: float = Field(15.0, gt=0, description="every video is resampled to this")
    height: int = Field(48, ge=16, description="frames are resized to this (the model's input)")
    width: int = Field(64, ge=16)
    synthetic: SyntheticClips = SyntheticClips()
    seed: int = 42


class ActionsModel(_Section):
    widths: list[int] = [8, 16, 32]  # each stream's (2+1)D stages
    frames: int = Field(8, ge=2, description="frames a window (at data.fps)")
    dropout: float = Field(0.3, ge=0, lt=1)


class ActionsTrain(_Section):
    stride: int = Field(2, ge=1, description="frames between training windows")
    batch_size: int = Field(32, ge=1)
    lr: float = Field(0.003, gt=0)
    weight_decay: float = Field(0.0001, ge=0)
    max_epochs: int = Field(8, ge=1)
    patience: int = Field(4, ge=1, description="epochs without val progress before stopping")
    flip: bool = Field(True, description="mirror windows left-right (the flow's x too)")
    seed: int = 42


class ActionsInference(_Section):
    """How windows become segments, in training's evaluation and in the service."""

    stride: int = Field(2, ge=1, description="frames between windows")
    smooth_seconds: float = Field(0.5, ge=0, description="moving average of frame scores")
    min_seconds: float = Field(0.3, ge=0, description="shorter segments join a neighbour")


class ActionsPromote(_Section):
    margin: float = Field(0.005, ge=0, le=1, description="frame accuracy a candidate must gain")
    per_class_tolerance: float = Field(0.03, ge=0, le=1)


class ActionsParams(_Section):
    data: ActionsData = ActionsData()
    model: ActionsModel = ActionsModel()
    train: ActionsTrain = ActionsTrain()
    inference: ActionsInference = ActionsInference()
    promote: ActionsPromote = ActionsPromote()
    registry_name: str = "actions"
