"""The action model as stored: ``config.json`` (the network's spec, the frame rate and
size it reads, the classes, how windows become segments, what training measured) and
``model.pt`` (its weights). Training writes them with :func:`save`; the evaluation and the
service load them the same way; :func:`register` copies them into the model store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # torch loads with the weights: the front reads the config only
    import torch

    from bentos.actions.network import TwoStream

WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"


class ActionsConfig(BaseModel):
    spec: dict[str, Any] = Field(description="what bentos.actions.network.build takes")
    fps: float = Field(gt=0, description="the frame rate windows are cut at")
    classes: list[str] = Field(min_length=2, description="class names, by id (0: background)")
    stride: int = Field(ge=1, description="frames between windows")
    smooth_seconds: float = Field(ge=0)
    min_seconds: float = Field(ge=0)
    training: dict[str, Any] = Field(default_factory=dict, description="what training measured")

    @property
    def height(self) -> int:
        return int(self.spec["height"])

    @property
    def width(self) -> int:
        return int(self.spec["width"])


def read_config(folder: Path | str) -> ActionsConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {folder}: not an action model")
    return ActionsConfig.model_validate_json(path.read_text())


def save(folder: Path | str, network: torch.nn.Module, config: ActionsConfig) -> None:
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(network.state_dict(), folder / WEIGHTS_FILE)
    (folder / CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n")


@dataclass
class ActionsModel:
    network: TwoStream
    config: ActionsConfig
    device: str = "cpu"

    @classmethod
    def load(cls, folder: Path | str, device: str = "cpu") -> ActionsModel:
        """``device``: cpu, cuda, or auto (the GPU when there is one)."""
        import torch

        from bentos.actions.network import build

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        config = read_config(folder)
        network = build(config.spec)
        state = torch.load(Path(folder) / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return cls(network.eval().to(device), config, device)


def register(
    folder: Path | str, name: str, *, labels: dict[str, str], metadata: dict[str, Any]
) -> str:
    """Copy a trained model into the BentoML model store as a new version; its tag."""
    from bentos.common.registry import store_files

    ActionsModel.load(folder)  # refuse to register what cannot be served
    return store_files(folder, (WEIGHTS_FILE, CONFIG_FILE), name, labels=labels, metadata=metadata)
