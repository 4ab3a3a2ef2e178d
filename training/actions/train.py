"""Stage ``actions_train``: the two-stream network trained on windows of the prepared
clips; early stopping on the validation clips' frame accuracy (windows to segments as the
service does), the best epoch kept. ``python -m training.actions.train``.

Writes ``models/actions/`` (config.json, model.pt) and dvclive curves in
``dvclive/actions/train``.
"""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dvclive import Live

from bentos.actions.inference import predict_video
from bentos.actions.model_files import ActionsConfig, save
from bentos.actions.network import TwoStream, build, spec_of, windows_to_tensors
from training.actions.data import Clips, Windows
from training.actions.prepare import data_dir
from training.actions.synthetic import CLASSES
from training.cli import stage_main
from training.layout import Layout
from training.params import Params

log = logging.getLogger(__name__)


def model_dir(layout: Layout) -> Path:
    return layout.root / "models" / "actions"


def frame_accuracy(network: TwoStream, clips: Clips, params: Params) -> float:
    """Share of the clips' frames whose segment has the true class."""
    inf, fps = params.actions.inference, params.actions.data.fps
    right = total = 0
    network.eval()
    for frames, flow, labels in clips.items:
        probs, _ = predict_video(network, frames, flow, fps, inf.stride, inf.smooth_seconds,
                                 inf.min_seconds)  # fmt: skip
        right += int((probs.argmax(axis=1) == labels).sum())
        total += len(labels)
    return right / max(total, 1)


def fit(params: Params, folder: Path, live_dir: Path | None) -> tuple[TwoStream, dict[str, Any]]:
    ap, t = params.actions, params.actions.train
    torch.manual_seed(t.seed)
    train_set = Windows(Clips(folder, "train"), ap.model.frames, t.stride, t.flip, t.seed)
    val_clips = Clips(folder, "val")
    spec = spec_of(ap.model.widths, ap.model.frames, ap.data.height, ap.data.width,
                   len(CLASSES), ap.model.dropout)  # fmt: skip
    network = build(spec)
    counts = np.bincount(train_set.labels(), minlength=len(CLASSES)).astype(np.float64)
    weights = torch.tensor((counts.sum() / np.maximum(counts, 1) / len(CLASSES)) ** 0.5,
                           dtype=torch.float32)  # fmt: skip
    optimizer = torch.optim.AdamW(network.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    per_epoch = -(-len(train_set) // t.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=t.lr, total_steps=t.max_epochs * per_epoch, pct_start=0.2
    )
    generator = torch.Generator().manual_seed(t.seed)
    loader = torch.utils.data.DataLoader(train_set, batch_size=t.batch_size, shuffle=True,
                                         generator=generator, drop_last=True)  # fmt: skip
    log.info(
        "actions_train: %d parameters, %d train windows, %d val clips",
        sum(p.numel() for p in network.parameters()),
        len(train_set),
        len(val_clips),
    )
    best: dict[str, Any] = {"accuracy": -1.0, "epoch": 0, "state": None}
    live = (Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
            if live_dir is not None else None)  # fmt: skip
    started = time.perf_counter()
    epoch = 0
    try:
        for epoch in range(1, t.max_epochs + 1):
            network.train()
            total, seen = 0.0, 0
            for rgb, flow, label in loader:
                a, b = windows_to_tensors(rgb, flow)
                rgb_logits, flow_logits = network.streams(a, b)
                # each stream learns alone too, so neither leans on the other
                loss = sum(
                    torch.nn.functional.cross_entropy(z, label, weight=weights)
                    for z in (rgb_logits, flow_logits, (rgb_logits + flow_logits) / 2)
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                total, seen = total + loss.item() * len(label), seen + len(label)
            accuracy = frame_accuracy(network, val_clips, params)
            if live is not None:
                live.log_metric("train/loss", total / max(seen, 1))
                live.log_metric("val/frame_accuracy", accuracy)
                live.next_step()
            log.info("epoch %d: train loss %.4f, val frame accuracy %.3f",
                     epoch, total / max(seen, 1), accuracy)  # fmt: skip
            if accuracy > best["accuracy"]:
                best = {"accuracy": accuracy, "epoch": epoch,
                        "state": copy.deepcopy(network.state_dict())}  # fmt: skip
            elif epoch - best["epoch"] >= t.patience:
                log.info("early stop: no val progress for %d epochs", t.patience)
                break
        seconds = time.perf_counter() - started
        if live is not None:
            live.summary.update({"best_epoch": best["epoch"],
                                 "best_val_frame_accuracy": best["accuracy"]})  # fmt: skip
    finally:
        if live is not None:
            live.end()
    network.load_state_dict(best["state"])
    summary = {"epochs": epoch, "best_epoch": best["epoch"],
               "val_frame_accuracy": round(best["accuracy"], 4),
               "train_seconds": round(seconds, 1), "train_windows": len(train_set)}  # fmt: skip
    return network.eval(), summary


def train(params: Params, layout: Layout) -> dict[str, Any]:
    ap = params.actions
    network, summary = fit(params, data_dir(layout), layout.root / "dvclive" / "actions" / "train")
    config = ActionsConfig(spec=network.spec, fps=ap.data.fps, classes=list(CLASSES),
                           stride=ap.inference.stride, smooth_seconds=ap.inference.smooth_seconds,
                           min_seconds=ap.inference.min_seconds, training=summary)  # fmt: skip
    save(model_dir(layout), network, config)
    log.info(
        "actions_train: best epoch %d, val frame accuracy %.3f, %.0f s",
        summary["best_epoch"],
        summary["val_frame_accuracy"],
        summary["train_seconds"],
    )
    return summary


def main(argv: list[str] | None = None) -> None:
    stage_main(train, argv)


if __name__ == "__main__":
    main()
