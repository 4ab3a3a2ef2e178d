"""The ``segment:`` section of params.yaml: every value the segmentation stages read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SyntheticScenes(_Section):
    train: int = Field(160, ge=1, description="scenes drawn for each split")
    val: int = Field(32, ge=1)
    test: int = Field(32, ge=1)


class SegmentData(_Section):
    source: Literal["synthetic", "cityscapes"] = "synthetic"
    cityscapes_dir: str = "data/raw/cityscapes"
    height: int = Field(128, ge=32, description="prepared images are resized to this")
    width: int = Field(256, ge=32)
    synthetic: SyntheticScenes = SyntheticScenes()
    val_fraction: float = Field(0.15, gt=0, lt=0.5, description="of the cities (cityscapes)")
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    seed: int = 42


class Augment(_Section):
    flip: bool = True
    scale: tuple[float, float] = (1.0, 1.5)  # zoom in by this, then crop back to size
    brightness: float = Field(0.2, ge=0, description="± fraction of brightness and contrast")
    blur: float = Field(0.3, ge=0, le=1, description="probability of a light Gaussian blur")
    noise: float = Field(4.0, ge=0, description="std of pixel noise (0-255 scale)")


class SegmentModel(_Section):
    architecture: Literal["unet", "segformer"] = "unet"
    widths: list[int] = [16, 32, 64, 128]  # U-Net levels
    hidden_sizes: list[int] = [32, 64, 160, 256]  # SegFormer (b0's sizes)
    depths: list[int] = [2, 2, 2, 2]
    heads: list[int] = [1, 2, 5, 8]
    decoder_hidden_size: int = 256
    init: Literal["random", "imagenet", "cityscapes"] = Field(
        "random", description="SegFormer's start: random, an ImageNet encoder, or Cityscapes"
    )
    checkpoint: str | None = Field(
        None, description="hub name or folder of the pretrained weights (default by init)"
    )

    @property
    def pretrained(self) -> str:
        """Where ``init`` starts from: the checkpoint, or b0's by default."""
        defaults = {"imagenet": "nvidia/mit-b0",
                    "cityscapes": "nvidia/segformer-b0-finetuned-cityscapes-512-1024"}  # fmt: skip
        return self.checkpoint or defaults[self.init]


class SegmentTrain(_Section):
    loss: Literal["ce", "dice", "ce+dice"] = "ce+dice"
    class_weighting: bool = True
    weight_power: float = Field(
        0.25, ge=0, le=1, description="cross-entropy weights ~ 1 / frequency ** this"
    )
    batch_size: int = Field(4, ge=2, description="BatchNorm needs two images")
    lr: float = Field(0.004, gt=0, description="one-cycle schedule's peak")
    warmup: float = Field(0.2, gt=0, lt=1, description="share of the steps rising to lr")
    weight_decay: float = Field(0.0001, ge=0)
    max_epochs: int = Field(10, ge=1, description="the schedule is sized to this")
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.002, ge=0, description="smaller val mIoU gains are no progress")
    workers: int = Field(2, ge=0, description="data loader processes")
    augment: Augment = Augment()
    seed: int = 42


class Variant(_Section):
    name: str
    architecture: Literal["unet", "segformer"] = "unet"
    init: Literal["random", "imagenet", "cityscapes"] = "random"
    loss: Literal["ce", "dice", "ce+dice"] = "ce+dice"


class Compare(_Section):
    epochs: int = Field(2, ge=1, description="each variant's budget (the same for all)")
    train_scenes: int = Field(120, ge=2, description="trained on the first of the split")
    variants: list[Variant] = [
        Variant(name="unet-ce", loss="ce"),
        Variant(name="unet-dice", loss="dice"),
        Variant(name="unet-ce+dice", loss="ce+dice"),
        Variant(name="segformer-ce+dice", architecture="segformer"),
    ]


class SegmentPromote(_Section):
    margin: float = Field(0.005, ge=0, le=1, description="mIoU a candidate must gain")
    per_class_tolerance: float = Field(
        0.03, ge=0, le=1, description="largest IoU drop allowed for any one category"
    )


class SegmentParams(_Section):
    data: SegmentData = SegmentData()
    model: SegmentModel = SegmentModel()
    train: SegmentTrain = SegmentTrain()
    compare: Compare = Compare()
    promote: SegmentPromote = SegmentPromote()
    registry_name: str = "segment"

    def network_spec(self) -> dict[str, object]:
        """What ``bentos.segment.network.build`` makes the network from (kept with it)."""
        m = self.model
        if m.architecture == "unet":
            return {"architecture": "unet", "widths": list(m.widths)}
        return {"architecture": "segformer", "hidden_sizes": list(m.hidden_sizes),
                "depths": list(m.depths), "heads": list(m.heads),
                "decoder_hidden_size": m.decoder_hidden_size}  # fmt: skip
