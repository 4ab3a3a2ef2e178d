"""The segmentation viewer's shipped samples: synthetic street scenes (a photo as JPEG,
its exact mask as a palette PNG), unseen by training (their seeds are apart).

    python -m training.segment.samples [--count 6] [--out bentos/studio/samples/segment]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from bentos.segment.categories import paletted
from training.segment.synthetic import scene

OUT = Path(__file__).resolve().parents[2] / "bentos" / "studio" / "samples" / "segment"
FIRST_SEED = 9_000_000  # far from segment_prepare's seeds (data.seed * 100 000 + n)


def write_samples(out: Path, count: int, height: int = 256, width: int = 512) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        image, mask = scene(FIRST_SEED + i, height, width)
        name = f"street-{i + 1:02d}"
        Image.fromarray(image).save(out / f"{name}.jpg", quality=88)
        paletted(mask).save(out / f"{name}_mask.png", optimize=True)
        written.append(out / f"{name}.jpg")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for path in write_samples(args.out, args.count):
        print(path)


if __name__ == "__main__":
    main()
