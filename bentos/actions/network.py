"""The two-stream action network: an RGB stream and an optical-flow stream, each a small
(2+1)D convolutional network (a 2-D spatial convolution, then a 1-D temporal one, as in
R(2+1)D), pooled over space and time; late fusion averages the two streams' class
scores. Written here: torchvision's video models do not load against our CPU build of
torch.

A window is ``frames`` consecutive frames at the model's rate (15 fps): RGB ``(B, 3, T,
H, W)`` in [0, 1] normalised inside, flow ``(B, 2, T, H, W)`` in [-1, 1].
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


def spec_of(widths: list[int], frames: int, height: int, width: int, classes: int,
            dropout: float = 0.3) -> dict[str, Any]:  # fmt: skip
    return {"widths": list(widths), "frames": frames, "height": height, "width": width,
            "classes": classes, "dropout": dropout}  # fmt: skip


class Block(nn.Module):
    """(2+1)D residual block: spatial 1x3x3 then temporal 3x1x1, each with batch norm."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = (c_in + c_out) // 2
        self.spatial = nn.Sequential(
            nn.Conv3d(c_in, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.temporal = nn.Sequential(
            nn.Conv3d(mid, c_out, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(c_out)
        )
        self.skip = (
            nn.Identity() if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv3d(c_in, c_out, 1, (1, stride, stride), bias=False),
                               nn.BatchNorm3d(c_out))
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.temporal(self.spatial(x)) + self.skip(x))


class Stream(nn.Module):
    def __init__(self, channels: int, widths: list[int], classes: int, dropout: float) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(channels, widths[0], (1, 5, 5), (1, 2, 2), (0, 2, 2), bias=False),
            nn.BatchNorm3d(widths[0]), nn.ReLU(inplace=True),
        )  # fmt: skip
        blocks, c = [], widths[0]
        for w in widths:
            blocks.append(Block(c, w, 1 if w == c else 2))
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(c, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.blocks(self.stem(x)).mean(dim=(2, 3, 4))
        return self.head(features)


class TwoStream(nn.Module):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self.spec = dict(spec)
        w, k, d = spec["widths"], spec["classes"], spec.get("dropout", 0.3)
        self.rgb = Stream(3, w, k, d)
        self.flow = Stream(2, w, k, d)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1, 1), persistent=False)

    def streams(self, rgb: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each stream's class logits."""
        return self.rgb((rgb - self.mean) / self.std), self.flow(flow)

    def forward(self, rgb: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Late fusion: the mean of the two streams' logits."""
        a, b = self.streams(rgb, flow)
        return (a + b) / 2


def build(spec: dict[str, Any]) -> TwoStream:
    return TwoStream(spec)


def windows_to_tensors(rgb: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 frames ``(B, T, H, W, 3)`` and float16 flow ``(B, T, H, W, 2)`` as the network
    takes them: ``(B, C, T, H, W)`` floats."""
    return (rgb.permute(0, 4, 1, 2, 3).float() / 255.0, flow.permute(0, 4, 1, 2, 3).float())
