"""Stage ``actions_prepare``: every clip resampled to the model's rate and size, its
optical flow and its per-frame labels. ``python -m training.actions.prepare``.

``synthetic`` renders clips (training.actions.synthetic); ``merl`` decodes MERL Shopping's
videos and reads their label files (training.actions.merl), split by subject. Either way
the frames go through the service's own decoding and flow (bentos.actions), so training
sees what serving sees. Writes ``data/actions/<split>/<clip>.npz`` (frames, flow, labels)
and ``data/actions/index.csv``.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from pathlib import Path

import numpy as np

from bentos.actions.flow import dense_flow
from bentos.actions.video import decode, write
from training.actions.synthetic import CLASSES, render
from training.cli import stage_main
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def data_dir(layout: Layout) -> Path:
    return layout.root / "data" / "actions"


def save_clip(out: Path, name: str, frames: np.ndarray, labels: np.ndarray) -> int:
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"{name}.npz", frames=frames, flow=dense_flow(frames),
             labels=labels.astype(np.int8))  # fmt: skip
    return len(frames)


def synthetic(params: Params, layout: Layout) -> list[dict[str, object]]:
    """Render, encode as mp4 and decode back as the service would: the model sees the
    codec's artefacts too."""
    p = params.actions.data
    rows, seed = [], p.seed * 1000
    with tempfile.TemporaryDirectory(prefix="actions-") as tmp:
        for split in SPLITS:
            for i in range(getattr(p.synthetic, split)):
                seed += 1
                clip = render(seed, p.synthetic.seconds, 30.0, p.height * 2, p.width * 2)
                video = write(Path(tmp) / "clip.mp4", clip.frames, clip.fps)
                frames, times = decode(video, p.fps, p.height, p.width)
                labels = clip.labels[np.minimum((times * clip.fps).round().astype(int),
                                                len(clip.labels) - 1)]  # fmt: skip
                name = f"{split}-{i:03d}"
                count = save_clip(data_dir(layout) / split, name, frames, labels)
                rows.append({"clip": name, "split": split, "frames": count, "source": "synthetic"})
    return rows


def prepare(params: Params, layout: Layout) -> Path:
    out = data_dir(layout)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    p = params.actions.data
    if p.source == "synthetic":
        rows = synthetic(params, layout)
    else:
        from training.actions import merl

        rows = merl.prepare(layout.resolve(p.merl_dir), params, out, save_clip)
    with (out / "index.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["clip", "split", "frames", "source"])
        writer.writeheader()
        writer.writerows(rows)
    counts = {s: sum(r["frames"] for r in rows if r["split"] == s) for s in SPLITS}
    log.info("actions_prepare: %d clips (%s) at %g fps, %dx%d; frames %s; classes %s",
             len(rows), p.source, p.fps, p.height, p.width, counts, ", ".join(CLASSES))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    stage_main(prepare, argv)


if __name__ == "__main__":
    main()
