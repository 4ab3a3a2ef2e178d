"""Segmentation on a GPU: images per second batched against one at a time, same network,
same images, one run (the service's worker path: uint8 photos in, category ids out).

    python bench/segment_gpu.py --size 1024x2048 --batch 8 --images 48

For the U-Net of params.yaml and a SegFormer of b0's sizes, random weights (they time the
same as trained ones): the forward pass as ``SegmentModel.predict`` runs it (photos moved
to the device, logits, argmax, ids back to the host), in fp32 with TF32 matmuls allowed,
timed after a warm-up with the device synchronised. Prints images/s for each, the ratio,
and the FLOP rate reached (counted by torch's FlopCounterMode).
"""

from __future__ import annotations

import argparse
import time

import torch

from bentos.segment.model_files import SegmentConfig, SegmentModel
from bentos.segment.network import build

SPECS = {
    "unet": {"architecture": "unet", "widths": [16, 32, 64, 128]},
    "segformer-b0": {"architecture": "segformer", "hidden_sizes": [32, 64, 160, 256],
                     "depths": [2, 2, 2, 2], "heads": [1, 2, 5, 8], "decoder_hidden_size": 256},
}  # fmt: skip


def timed(fn, device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def flops_per_image(model: SegmentModel, image: torch.Tensor) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model.predict(image)
    return counter.get_total_flops() / len(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x2048", help="HxW")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--images", type=int, default=48)
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"segmentation at {height}x{width} on {name}: {args.images} images, "
          f"one at a time vs batches of {args.batch}")  # fmt: skip
    photos = torch.randint(0, 256, (args.images, height, width, 3), dtype=torch.uint8)
    for label, spec in SPECS.items():
        torch.manual_seed(0)
        config = SegmentConfig(spec=spec, height=height, width=width)
        model = SegmentModel(build(spec).eval().to(device), config, device)
        model.predict(photos[: args.batch])  # warm-up: kernels chosen, memory allocated
        model.predict(photos[:1])

        def one_at_a_time(m: SegmentModel = model) -> None:
            for i in range(len(photos)):
                m.predict(photos[i : i + 1])

        def in_batches(m: SegmentModel = model) -> None:
            for i in range(0, len(photos), args.batch):
                m.predict(photos[i : i + args.batch])

        alone, batched = timed(one_at_a_time, device), timed(in_batches, device)
        flops = flops_per_image(model, photos[:1])
        rate = len(photos) / batched
        print(f"{label:<13} one at a time {len(photos) / alone:7.1f} images/s   "
              f"batched {rate:7.1f} images/s   x{alone / batched:.2f}")  # fmt: skip
        print(f"{'':<13} {flops / 1e9:.0f} GFLOP/image: {rate * flops / 1e12:.1f} TFLOP/s batched")
        if device == "cuda":
            print(f"{'':<13} peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
            torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
