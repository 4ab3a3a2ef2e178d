"""The prepared clips of a split, and the training windows cut from them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch


class Clips:
    """Every clip of a split, in memory: frames, flow and labels."""

    def __init__(self, folder: Path, split: str) -> None:
        with (folder / "index.csv").open() as handle:
            names = [r["clip"] for r in csv.DictReader(handle) if r["split"] == split]
        self.names = names
        self.items = []
        for name in names:
            with np.load(folder / split / f"{name}.npz") as data:
                self.items.append((data["frames"], data["flow"], data["labels"].astype(np.int64)))

    def __len__(self) -> int:
        return len(self.items)


class Windows(torch.utils.data.Dataset):
    """Windows of ``length`` frames every ``stride`` frames; each labelled with the class
    of its middle frame. ``flip``: mirrored at random (the flow's x sign too)."""

    def __init__(self, clips: Clips, length: int, stride: int, flip: bool, seed: int) -> None:
        self.clips, self.length, self.flip = clips, length, flip
        self.index = [(c, s) for c, (frames, _, _) in enumerate(clips.items)
                      for s in range(0, len(frames) - length + 1, stride)]  # fmt: skip
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.index)

    def labels(self) -> np.ndarray:
        return np.array([self.clips.items[c][2][s + self.length // 2] for c, s in self.index])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        c, s = self.index[i]
        frames, flow, labels = self.clips.items[c]
        rgb = frames[s : s + self.length]
        motion = flow[s : s + self.length].astype(np.float32)
        if self.flip and self.rng.random() < 0.5:
            rgb = rgb[:, :, ::-1]
            motion = motion[:, :, ::-1] * np.array([-1.0, 1.0], dtype=np.float32)
        return (torch.from_numpy(np.ascontiguousarray(rgb)),
                torch.from_numpy(np.ascontiguousarray(motion)),
                int(labels[s + self.length // 2]))  # fmt: skip
