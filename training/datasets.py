"""The dataset files the stages exchange: ``tracks.csv`` and the feature arrays."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.layout import Layout

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Track:
    track_id: str
    genre: str
    path: str
    split: str = ""
    group: str = ""  # tracks of one group (an artist) never straddle two splits

    @property
    def split_group(self) -> str:
        return self.group or self.track_id


FIELDS = ("track_id", "genre", "split", "group", "path")


def write_tracks(path: Path, tracks: list[Track]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for t in tracks:
            writer.writerow({f: getattr(t, f) for f in FIELDS})


def read_tracks(path: Path) -> list[Track]:
    with path.open(newline="") as handle:
        return [Track(**{f: row[f] for f in FIELDS}) for row in csv.DictReader(handle)]


def load_split(layout: Layout, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (float32), genre indices and track indices of one split."""
    with np.load(layout.features_dir / f"{split}.npz") as data:
        return data["x"].astype(np.float32), data["y"], data["track"]
