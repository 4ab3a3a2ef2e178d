"""Cover painting at full size: three covers with the Stable Diffusion 2 base architecture.

Builds SD 2 base (UNet 865 M parameters, OpenCLIP-H text encoder, VAE) with random
weights, saves it, and loads it three times through the art service's own code as three
models, so one cover request is three pipeline calls, as in the service. Timing does not
depend on the weights. For each variant (eager; UNet in channels-last; channels-last and
``torch.compile``) it prints the seconds for three covers and per image, the speed-up
over the seed's 60 s for three images, and the share of the GPU's peak fp16 FLOP/s
reached (FLOPs counted with PyTorch's FlopCounterMode on one cover).

    .venv/bin/python bench/art_gpu.py                       # on a CUDA machine
    .venv/bin/python bench/art_gpu.py --size 256 --steps 2 --models 1 --variants eager
                                                            # a quick check on a CPU
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

import torch

SEED_SECONDS = 60.0  # the seed's three 512 x 512 covers (Euler, 50 steps)
# Dense fp16/bf16 tensor-core peak, TFLOP/s (without sparsity), by device name.
PEAK_TFLOPS = {"H100 SXM": 989.4, "H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H200": 989.4,
               "A100": 312.0, "L40S": 362.1, "L4": 121.0, "A10G": 70.0, "T4": 65.0}  # fmt: skip
VARIANTS = {
    "eager": {"channels_last": False, "compile_unet": False},
    "channels_last": {"channels_last": True, "compile_unet": False},
    "compile": {"channels_last": True, "compile_unet": True},
}


def sd2_base(folder: Path, dtype: torch.dtype) -> Path:
    """Stable Diffusion 2 base's architecture (its published configs), random weights."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from bentos.art.clip_tokenizer import tiny_clip_tokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=1024,
        attention_head_dim=(5, 10, 20, 20),
        use_linear_projection=True,
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
        latent_channels=4,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=1024,
            intermediate_size=4096,
            num_hidden_layers=23,
            num_attention_heads=16,
            hidden_act="gelu",
            projection_dim=512,
            max_position_embeddings=77,
        )
    )
    # The real vocabulary cannot be downloaded: a small CLIP tokenizer gives ids in range.
    tokenizer = tiny_clip_tokenizer()
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        clip_sample=False,
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
        scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )  # fmt: skip
    pipe.to(dtype).save_pretrained(folder)
    return folder


def covers(painter, steps: int, size: int) -> list:
    from bentos.art.painter import Job
    from bentos.art.prompt import build_prompt
    from marketplace.contracts.schemas import Keyword

    cover = build_prompt(
        "Rock", "sadness", [Keyword(word=w, score=s) for w, s in (("fire", 1), ("night", 0.6))]
    )
    return [
        Job(
            model=name, prompt=cover.prompt, negative_prompt=cover.negative_prompt, seed=7,
            steps=steps, guidance=5.0, width=size, height=size,
        )
        for name in painter.names
    ]  # fmt: skip


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def count_flops(painter, job) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        painter.paint([job])
    return float(counter.get_total_flops())


def peak_tflops() -> float | None:
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, value in PEAK_TFLOPS.items():
        if all(part in name for part in key.split()):
            return value
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--models", type=int, default=3, help="models, one cover each")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    args = parser.parse_args()

    from bentos.art.painter import Painter
    from bentos.art.pipelines import Runtime

    runtime = Runtime.detect()
    device = torch.cuda.get_device_name() if runtime.device == "cuda" else "CPU"
    if runtime.device != "cuda":
        print("no CUDA device: CPU figures, fp32 (the GPU figures need a GPU)")
    print(
        f"art at full size: SD 2 base architecture, random weights, {args.models} models, "
        f"{args.size}x{args.size}, {args.steps} steps, DPM-Solver++, {device}, "
        f"{str(runtime.dtype).removeprefix('torch.')}, torch {torch.__version__}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="sd2-base-random-") as tmp:
        start = time.perf_counter()
        folder = sd2_base(Path(tmp) / "sd2-base", runtime.dtype)
        print(f"built and saved the random SD 2 base in {time.perf_counter() - start:.0f} s")
        sources = {f"model-{i + 1}": str(folder) for i in range(args.models)}
        flops = None
        for variant in args.variants.split(","):
            painter = Painter(sources, runtime=runtime, **VARIANTS[variant])
            jobs = covers(painter, args.steps, args.size)
            start = time.perf_counter()
            painter.paint(jobs)  # warm-up (and compilation)
            sync()
            warmup = time.perf_counter() - start
            if flops is None:
                flops = count_flops(painter, jobs[0])
            times = []
            for _ in range(args.repeats):
                sync()
                start = time.perf_counter()
                painter.paint(jobs)
                sync()
                times.append(time.perf_counter() - start)
            rows.append((variant, statistics.median(times), warmup))
            del painter
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    peak = peak_tflops()
    print(f"\none cover: {flops / 1e12:.1f} TFLOPs (UNet x {args.steps} steps, text, VAE)")
    print(
        f"\n{'variant':<14} {'covers s':>9} {'per image s':>12} {'vs seed':>8} "
        f"{'TFLOP/s':>8} {'of peak':>8} {'warm-up s':>10}"
    )
    for variant, seconds, warmup in rows:
        achieved = flops * args.models / seconds / 1e12
        share = f"{achieved / peak:7.1%}" if peak else "     n/a"
        print(
            f"{variant:<14} {seconds:9.2f} {seconds / args.models:12.2f} "
            f"{SEED_SECONDS / seconds:7.1f}x {achieved:8.1f} {share:>8} {warmup:10.1f}"
        )
    print(
        f"\nseed: {SEED_SECONDS:.0f} s for three 512x512 covers (50 Euler steps); 'vs seed' "
        f"compares {args.models} covers at {args.size}x{args.size}, {args.steps} steps. Peak: "
        + (f"{peak:.0f} TFLOP/s dense fp16 for this GPU." if peak else "unknown here.")
    )


if __name__ == "__main__":
    main()
