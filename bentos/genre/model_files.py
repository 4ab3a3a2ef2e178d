"""A trained genre model on disk: weights plus everything needed to serve it.

The folder holds ``network.pt`` (state dict) and ``genre.json`` (feature and network
configs, labels). Training writes it, the register stage copies it into the BentoML model
store, and the service loads it from there, all through this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from bentos.genre.features import FeatureConfig
from bentos.genre.network import NetworkConfig, build_network

WEIGHTS_FILE = "network.pt"
CONFIG_FILE = "genre.json"


class GenreModelConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    features: FeatureConfig
    network: NetworkConfig
    labels: tuple[str, ...]


class GenreModel:
    """A loaded network (eval mode) with its config."""

    def __init__(self, network: torch.nn.Module, config: GenreModelConfig) -> None:
        self.network = network.eval()
        self.config = config

    @classmethod
    def load(cls, folder: Path | str) -> GenreModel:
        folder = Path(folder)
        config = read_config(folder)
        network = build_network(config.features.channels, len(config.labels), config.network)
        state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return cls(network, config)

    def save(self, folder: Path | str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.network.state_dict(), folder / WEIGHTS_FILE)
        (folder / CONFIG_FILE).write_text(self.config.model_dump_json(indent=2))

    def window_probabilities(self, features: np.ndarray, batch: int = 256) -> np.ndarray:
        """Softmax probabilities ``(windows, n_labels)`` for feature windows."""
        out = []
        with torch.inference_mode():
            for i in range(0, len(features), batch):
                logits = self.network(torch.from_numpy(features[i : i + batch]))
                out.append(torch.softmax(logits, dim=1).numpy())
        return np.concatenate(out)


def read_config(folder: Path | str) -> GenreModelConfig:
    return GenreModelConfig.model_validate_json((Path(folder) / CONFIG_FILE).read_text())


def track_probabilities(window_probabilities: np.ndarray) -> np.ndarray:
    """A track's probabilities: the mean over its windows (still sums to 1)."""
    return window_probabilities.mean(axis=0)


def register(
    folder: Path | str, name: str, *, labels: dict[str, str], metadata: dict[str, Any]
) -> str:
    """Copy a model folder into the BentoML model store as a new version; return its tag."""
    from bentos.common.registry import store_files

    read_config(folder)  # refuse to register a folder that cannot be served
    return store_files(folder, (WEIGHTS_FILE, CONFIG_FILE), name, labels=labels, metadata=metadata)
