"""The segmentation networks: a small U-Net written here, and SegFormer (transformers).

Both take a batch of normalised RGB images (N, 3, H, W) and return logits of the 8
categories at the input's resolution (N, 8, H, W). ``build(spec)`` makes either from its
spec (what ``params.yaml`` says, stored with the model), so training and serving build the
same network; the weights come from the model store.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from bentos.segment.categories import CATEGORIES

MEAN = (0.485, 0.456, 0.406)  # ImageNet's: what a pretrained SegFormer encoder expects
STD = (0.229, 0.224, 0.225)


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W), normalised."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


class _Block(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        layers: list[nn.Module] = []
        for a, b in ((cin, cout), (cout, cout)):
            layers += [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        super().__init__(*layers)


class UNet(nn.Module):
    """The baseline: an encoder of ``len(widths)`` levels (max-pooled), a decoder that
    upsamples and concatenates the encoder's features at each level."""

    def __init__(self, widths: list[int], classes: int = len(CATEGORIES)) -> None:
        super().__init__()
        self.down = nn.ModuleList()
        cin = 3
        for width in widths:
            self.down.append(_Block(cin, width))
            cin = width
        self.up = nn.ModuleList(
            _Block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1))
        )
        self.head = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return F.interpolate(self.head(x), size=size, mode="bilinear", align_corners=False)


class SegFormer(nn.Module):
    """transformers' SegFormer; its logits (at a quarter of the input) upsampled."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(pixel_values=x).logits
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def segformer_config(spec: dict[str, Any]) -> Any:
    from transformers import SegformerConfig

    names = dict(enumerate(CATEGORIES))
    return SegformerConfig(
        num_labels=len(CATEGORIES),
        id2label=names,
        label2id={v: k for k, v in names.items()},
        hidden_sizes=spec.get("hidden_sizes", [32, 64, 160, 256]),  # b0's
        depths=spec.get("depths", [2, 2, 2, 2]),
        num_attention_heads=spec.get("heads", [1, 2, 5, 8]),
        decoder_hidden_size=spec.get("decoder_hidden_size", 256),
    )


def build(spec: dict[str, Any]) -> nn.Module:
    """The network a spec describes, with fresh weights: ``{"architecture": "unet",
    "widths": [...]}`` or ``{"architecture": "segformer", ...sizes}``."""
    architecture = spec.get("architecture")
    if architecture == "unet":
        return UNet(list(spec.get("widths", [16, 32, 64, 128])))
    if architecture == "segformer":
        from transformers import SegformerForSemanticSegmentation

        return SegFormer(SegformerForSemanticSegmentation(segformer_config(spec)))
    raise ValueError(f"unknown architecture {architecture!r} (unet or segformer)")


def predict(network: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Category ids (N, H, W) of uint8 images (N, H, W, 3)."""
    with torch.inference_mode():
        return network(normalise(images)).argmax(dim=1).to(torch.uint8)
