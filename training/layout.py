"""Where each stage reads and writes, relative to one root (the repo, or a temp dir)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    def resolve(self, path: str | Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else self.root / path

    @property
    def prepared_dir(self) -> Path:
        return self.root / "data" / "prepared"

    @property
    def tracks_csv(self) -> Path:
        return self.prepared_dir / "tracks.csv"

    @property
    def synthetic_audio_dir(self) -> Path:
        return self.prepared_dir / "synthetic"

    @property
    def features_dir(self) -> Path:
        return self.root / "data" / "features"

    @property
    def model_dir(self) -> Path:
        return self.root / "models" / "genre"

    @property
    def train_live_dir(self) -> Path:
        return self.root / "dvclive" / "train"

    @property
    def eval_live_dir(self) -> Path:
        return self.root / "dvclive" / "evaluate"

    @property
    def metrics_json(self) -> Path:
        return self.eval_live_dir / "metrics.json"

    @property
    def reference_csv(self) -> Path:
        return self.root / "data" / "reference" / "genre.csv"

    @property
    def registered_json(self) -> Path:
        return self.root / "models" / "registered.json"
