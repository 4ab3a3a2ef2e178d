"""The prepared scenes as a torch dataset: decoded, and augmented on the training split
(flips, zoom and crop, brightness and contrast, blur, noise), the mask transformed with
the image (nearest-neighbour, never blurred nor noised). Loaders decode on several worker
processes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch.utils.data import DataLoader, Dataset

from training.segment.params import Augment


def names(folder: Path, split: str) -> list[str]:
    with (folder / "index.csv").open() as f:
        return [row["name"] for row in csv.DictReader(f) if row["split"] == split]


def augment(
    image: Image.Image, mask: Image.Image, a: Augment, rng: np.random.Generator
) -> tuple[Image.Image, Image.Image]:
    width, height = image.size
    if a.flip and rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    zoom = rng.uniform(*a.scale)
    if zoom > 1.0:
        w, h = round(width * zoom), round(height * zoom)
        image = image.resize((w, h), Image.Resampling.BILINEAR)
        mask = mask.resize((w, h), Image.Resampling.NEAREST)
        x, y = int(rng.integers(0, w - width + 1)), int(rng.integers(0, h - height + 1))
        image = image.crop((x, y, x + width, y + height))
        mask = mask.crop((x, y, x + width, y + height))
    if a.blur and rng.random() < a.blur:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    pixels = np.asarray(image, dtype=np.float32)
    if a.brightness:
        contrast = 1 + rng.uniform(-a.brightness, a.brightness)
        brightness = 255 * rng.uniform(-a.brightness, a.brightness) / 2
        pixels = (pixels - 128) * contrast + 128 + brightness
    if a.noise:
        pixels = pixels + rng.normal(0, a.noise, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), mask


class Scenes(Dataset):
    """(image uint8 (H, W, 3), mask uint8 (H, W)) of one split."""

    def __init__(
        self, folder: Path, split: str, augmentation: Augment | None = None, seed: int = 0
    ) -> None:
        self.folder, self.split = folder / split, split
        self.names = names(folder, split)
        if not self.names:
            raise FileNotFoundError(f"no {split} scenes in {folder} (run segment_prepare)")
        self.augmentation, self.seed, self.epoch = augmentation, seed, 0

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        name = self.names[i]
        image = Image.open(self.folder / f"{name}.png").convert("RGB")
        mask = Image.open(self.folder / f"{name}_mask.png")
        if self.augmentation is not None:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, mask = augment(image, mask, self.augmentation, rng)
        return torch.from_numpy(np.array(image)), torch.from_numpy(np.array(mask))


def loader(dataset: Scenes, batch_size: int, workers: int, shuffle: bool, seed: int) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      generator=generator, persistent_workers=False, drop_last=False)  # fmt: skip
