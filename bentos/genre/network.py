"""The genre network: a stack of strided conv blocks, global average pooling, a linear head.

The default widths (8, 16, 32, 64, 128) with a 5x5 first kernel are the seed's five-block
CNN (about 100 K parameters). Depth, widths, kernels and dropout are parameters.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn


class NetworkConfig(BaseModel):
    """``model`` in params.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    architecture: str = Field("cnn", description="only 'cnn' (strided conv blocks) for now")
    widths: tuple[int, ...] = Field((8, 16, 32, 64, 128), min_length=1)
    first_kernel: int = Field(5, ge=1)
    kernel: int = Field(3, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class GenreCNN(nn.Module):
    """Conv(stride 2) -> ReLU -> BatchNorm blocks, then average pooling and a linear head."""

    def __init__(self, in_channels: int, n_classes: int, config: NetworkConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(config.widths):
            k = config.first_kernel if i == 0 else config.kernel
            layers += [
                nn.Conv2d(channels, width, k, stride=2, padding=k // 2),
                nn.ReLU(inplace=True),
                nn.BatchNorm2d(width),
            ]
            channels = width
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, n_mels, frames)`` features to ``(batch, n_classes)`` logits."""
        x = self.pool(self.blocks(features)).flatten(1)
        return self.head(self.dropout(x))


ARCHITECTURES = {"cnn": GenreCNN}


def build_network(in_channels: int, n_classes: int, config: NetworkConfig) -> nn.Module:
    try:
        cls = ARCHITECTURES[config.architecture]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {config.architecture!r}; known: {known}") from None
    return cls(in_channels, n_classes, config)


def count_parameters(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters() if p.requires_grad)
