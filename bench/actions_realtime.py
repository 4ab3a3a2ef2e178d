"""Actions: seconds of video processed per second (the real-time factor), split into
decoding (and resampling to 15 fps at the model's size), optical flow and the network, in
one run, on this machine's CPU and on its GPU when there is one.

    .venv/bin/python bench/actions_realtime.py --seconds 60 --size 680x920

The video is a synthetic shop clip encoded at the given size and 30 fps (MERL Shopping's
videos are about 920 x 680 at 30 fps); the network is params.yaml's with random weights
(random weights time the same as trained ones).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bentos.actions.flow import dense_flow
from bentos.actions.inference import cut_windows, window_probabilities
from bentos.actions.network import build, spec_of
from bentos.actions.video import decode, write
from training.actions.synthetic import CLASSES, render
from training.params import load_params

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="680x920", help="the video's HxW")
    parser.add_argument("--batch", type=int, default=64, help="windows a forward pass")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    ap = load_params(ROOT / "params.yaml").actions
    spec = spec_of(ap.model.widths, ap.model.frames, ap.data.height, ap.data.width,
                   len(CLASSES), ap.model.dropout)  # fmt: skip
    torch.manual_seed(0)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory() as tmp:
        clip = render(5, seconds=min(args.seconds, 20.0), fps=30.0, height=height, width=width)
        repeats = int(np.ceil(args.seconds / 20.0))
        frames = np.concatenate([clip.frames] * repeats)[: round(args.seconds * 30)]
        video = write(Path(tmp) / "shop.mp4", frames, 30.0)
        del frames, clip
        (decoded, _), t_decode = timed(decode, video, ap.data.fps, ap.data.height, ap.data.width)
    flow, t_flow = timed(dense_flow, decoded)
    starts, rgb, motion = cut_windows(decoded, flow, spec["frames"], ap.inference.stride)
    results = {"video_seconds": args.seconds, "size": args.size, "windows": len(starts),
               "decode_s": round(t_decode, 3), "flow_s": round(t_flow, 3)}  # fmt: skip
    for device in devices:
        network = build(spec).eval().to(device)
        window_probabilities(network, rgb[: args.batch], motion[: args.batch], args.batch, device)
        _, t_net = timed(window_probabilities, network, rgb, motion, args.batch, device)
        results[f"network_{device}_s"] = round(t_net, 3)
    print(f"actions real time: {args.seconds:g} s of {width}x{height} 30 fps video -> "
          f"{ap.data.fps:g} fps at {ap.data.width}x{ap.data.height}, {len(starts)} windows; "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else ""))  # fmt: skip
    print(f"{'stage':<16}{'seconds':>10}{'x real time':>14}")
    for stage in ("decode", "flow", *(f"network_{d}" for d in devices)):
        s = results[f"{stage}_s"]
        print(f"{stage:<16}{s:>10.2f}{args.seconds / s:>14.1f}")
    for device in devices:
        total = results["decode_s"] + results["flow_s"] + results[f"network_{device}_s"]
        results[f"total_{device}_s"] = round(total, 3)
        print(f"{'total (' + device + ')':<16}{total:>10.2f}{args.seconds / total:>14.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
