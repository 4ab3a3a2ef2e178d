"""The segmentation model as stored: ``config.json`` (the network's spec, the input size it
was trained at, the categories, what training measured) and ``model.pt`` (its weights).
Training writes them with :func:`save`; the evaluation and the service load them the same
way, and :func:`register` copies them into the model store. The service's front reads the
config only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from bentos.segment.categories import CATEGORIES

if TYPE_CHECKING:  # torch loads with the weights: the front reads the config only
    import torch

WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"


class SegmentConfig(BaseModel):
    spec: dict[str, Any] = Field(description="what bentos.segment.network.build takes")
    height: int = Field(ge=32, description="the input size the network was trained at")
    width: int = Field(ge=32)
    categories: list[str] = list(CATEGORIES)
    training: dict[str, Any] = Field(default_factory=dict, description="what training measured")


def read_config(folder: Path | str) -> SegmentConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {folder}: not a segmentation model")
    config = SegmentConfig.model_validate_json(path.read_text())
    if config.categories != list(CATEGORIES):
        raise ValueError(f"{path}: categories {config.categories} are not {list(CATEGORIES)}")
    return config


def save(folder: Path | str, network: torch.nn.Module, config: SegmentConfig) -> None:
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(network.state_dict(), folder / WEIGHTS_FILE)
    (folder / CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n")


@dataclass
class SegmentModel:
    network: torch.nn.Module
    config: SegmentConfig

    device: str = "cpu"

    @classmethod
    def load(cls, folder: Path | str, device: str = "cpu") -> SegmentModel:
        """``device``: cpu, cuda, or auto (the GPU when there is one)."""
        import torch

        from bentos.segment.network import build

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        config = read_config(folder)
        network = build(config.spec)
        state = torch.load(Path(folder) / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return cls(network.eval().to(device), config, device)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Category ids (N, H, W) uint8 on the CPU of images (N, H, W, 3) uint8."""
        from bentos.segment.network import predict

        return predict(self.network, images.to(self.device)).cpu()


def register(
    folder: Path | str, name: str, *, labels: dict[str, str], metadata: dict[str, Any]
) -> str:
    """Copy a trained model into the BentoML model store as a new version; its tag."""
    from bentos.common.registry import store_files

    SegmentModel.load(folder)  # refuse to register what cannot be served
    return store_files(folder, (WEIGHTS_FILE, CONFIG_FILE), name, labels=labels, metadata=metadata)
