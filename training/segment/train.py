"""Stage ``segment_train``: the network of ``segment.model`` trained with
``segment.train``'s loss on the prepared scenes; early stopping on the validation mIoU and
the best epoch kept. ``python -m training.segment.train``.

Writes ``models/segment/`` (``config.json``: the network's spec, its input size, the
categories and what training measured; ``model.pt``: the best epoch's weights) and
dvclive curves in ``dvclive/segment/train``.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dvclive import Live

from bentos.segment.categories import CATEGORIES
from bentos.segment.metrics import confusion, scores
from bentos.segment.model_files import SegmentConfig, save
from bentos.segment.network import normalise, predict
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.segment.data import Scenes, loader
from training.segment.losses import class_weights, loss
from training.segment.params import SegmentParams
from training.segment.prepare import data_dir
from training.segment.pretrained import initial_network

log = logging.getLogger(__name__)


def model_dir(layout: Layout) -> Path:
    return layout.root / "models" / "segment"


def evaluate_network(network: torch.nn.Module, scenes: Scenes, batch_size: int) -> dict[str, Any]:
    """Scores of the network on a split (no augmentation), predicted as served."""
    network.eval()
    matrix = np.zeros((len(CATEGORIES), len(CATEGORIES)), dtype=np.int64)
    for images, masks in loader(scenes, batch_size, 0, shuffle=False, seed=0):
        matrix += confusion(masks.numpy(), predict(network, images).numpy())
    return {**scores(matrix), "confusion": matrix.tolist()}


def fit(
    sp: SegmentParams, folder: Path, live_dir: Path | None, scenes: int | None = None
) -> tuple[torch.nn.Module, dict[str, Any], dict[str, Any]]:
    """Train the network ``sp`` describes on the scenes prepared in ``folder`` (the first
    ``scenes`` of the train split, or all): the best epoch's network (by val mIoU), its
    spec and a summary; curves to ``live_dir``."""
    t = sp.train
    torch.manual_seed(t.seed)
    train_set = Scenes(folder, "train", t.augment, t.seed)
    train_set.names = train_set.names[:scenes]
    val_set = Scenes(folder, "val")
    counts = np.array(list(json.loads((folder / "class_counts.json").read_text()).values()))
    weights = class_weights(counts, power=t.weight_power) if t.class_weighting else None
    network, spec = initial_network(sp)
    optimizer = torch.optim.AdamW(network.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    # one cycle over the whole budget, stepped per batch: the low-rate end, where thin
    # objects' boundaries settle, is reached within max_epochs
    per_epoch = -(-len(train_set) // t.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=t.lr, total_steps=t.max_epochs * per_epoch, pct_start=t.warmup,
        div_factor=10, final_div_factor=100,
    )  # fmt: skip
    log.info("segment_train: %s (%s), %d parameters, %d train / %d val scenes, loss %s",
             spec["architecture"], sp.model.init, sum(p.numel() for p in network.parameters()),
             len(train_set), len(val_set), t.loss)  # fmt: skip
    best: dict[str, Any] = {"miou": -1.0, "epoch": 0, "state": None}
    started = time.perf_counter()
    live = (
        Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
        if live_dir is not None
        else None
    )
    try:
        for epoch in range(1, t.max_epochs + 1):
            network.train()
            train_set.epoch = epoch
            total, seen = 0.0, 0
            for images, masks in loader(
                train_set, t.batch_size, t.workers, shuffle=True, seed=t.seed + epoch
            ):
                if len(images) < 2:  # BatchNorm needs two samples
                    continue
                optimizer.zero_grad()
                value = loss(t.loss, network(normalise(images)), masks, weights)
                value.backward()
                optimizer.step()
                schedule.step()
                total, seen = total + value.item() * len(images), seen + len(images)
            val = evaluate_network(network, val_set, t.batch_size)
            if live is not None:
                live.log_metric("train/loss", total / max(seen, 1))
                live.log_metric("val/miou", val["miou"])
                live.log_metric("val/pixel_accuracy", val["pixel_accuracy"])
                live.next_step()
            log.info("epoch %d: train loss %.4f, val mIoU %.3f, pixel accuracy %.3f",
                     epoch, total / max(seen, 1), val["miou"], val["pixel_accuracy"])  # fmt: skip
            if val["miou"] > best["miou"] + t.min_delta:
                best = {"miou": val["miou"], "epoch": epoch,
                        "state": copy.deepcopy(network.state_dict())}  # fmt: skip
            elif epoch - best["epoch"] >= t.patience:
                log.info("early stop: no val mIoU progress for %d epochs", t.patience)
                break
        seconds = time.perf_counter() - started
        if live is not None:
            live.summary["best_epoch"] = best["epoch"]
            live.summary["best_val_miou"] = best["miou"]
    finally:
        if live is not None:
            live.end()
    network.load_state_dict(best["state"])
    summary = {"architecture": spec["architecture"], "init": sp.model.init, "loss": t.loss,
               "epochs": epoch, "best_epoch": best["epoch"], "val_miou": best["miou"],
               "train_seconds": round(seconds, 1)}  # fmt: skip
    return network.eval(), spec, summary


def train(params: Params, layout: Layout) -> dict[str, Any]:
    sp = params.segment
    live_dir = layout.root / "dvclive" / "segment" / "train"
    network, spec, summary = fit(sp, data_dir(layout), live_dir)
    out = model_dir(layout)
    config = SegmentConfig(spec=spec, height=sp.data.height, width=sp.data.width,
                           training=summary)  # fmt: skip
    save(out, network, config)
    log.info("segment_train: best epoch %d, val mIoU %.3f, %.0f s; saved to %s",
             summary["best_epoch"], summary["val_miou"], summary["train_seconds"], out)  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> None:
    stage_main(train, argv)


if __name__ == "__main__":
    main()
