"""Stage ``segment_train``: the network of ``segment.model`` trained with
``segment.train``'s loss on the prepared scenes; early stopping on the validation mIoU and
the best epoch kept. ``python -m training.segment.train``.

Writes ``models/segment/model.pt`` (the network's spec, its best weights, the categories
and what training measured) and dvclive curves in ``dvclive/segment/train``.
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
from bentos.segment.network import build, normalise
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.segment.data import Scenes, loader
from training.segment.losses import class_weights, loss
from training.segment.metrics import confusion, scores
from training.segment.prepare import data_dir

log = logging.getLogger(__name__)


def model_dir(layout: Layout) -> Path:
    return layout.root / "models" / "segment"


def evaluate_network(network: torch.nn.Module, scenes: Scenes, batch_size: int) -> dict[str, Any]:
    """Scores of the network on a split (no augmentation)."""
    network.eval()
    matrix = np.zeros((len(CATEGORIES), len(CATEGORIES)), dtype=np.int64)
    with torch.inference_mode():
        for images, masks in loader(scenes, batch_size, 0, shuffle=False, seed=0):
            predicted = network(normalise(images)).argmax(dim=1)
            matrix += confusion(masks.numpy(), predicted.numpy())
    return {**scores(matrix), "confusion": matrix.tolist()}


def train(params: Params, layout: Layout) -> dict[str, Any]:
    sp, t = params.segment, params.segment.train
    torch.manual_seed(t.seed)
    folder = data_dir(layout)
    train_set = Scenes(folder, "train", t.augment, t.seed)
    val_set = Scenes(folder, "val")
    counts = np.array(list(json.loads((folder / "class_counts.json").read_text()).values()))
    weights = class_weights(counts) if t.class_weighting else None
    spec = sp.network_spec()
    network = build(spec)
    optimizer = torch.optim.AdamW(network.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t.max_epochs)
    log.info("segment_train: %s, %d parameters, %d train / %d val scenes, loss %s",
             spec["architecture"], sum(p.numel() for p in network.parameters()),
             len(train_set), len(val_set), t.loss)  # fmt: skip
    best: dict[str, Any] = {"miou": -1.0, "epoch": 0, "state": None, "scores": None}
    started = time.perf_counter()
    live_dir = layout.root / "dvclive" / "segment" / "train"
    with Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None) as live:
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
                total, seen = total + value.item() * len(images), seen + len(images)
            schedule.step()
            val = evaluate_network(network, val_set, t.batch_size)
            live.log_metric("train/loss", total / max(seen, 1))
            live.log_metric("val/miou", val["miou"])
            live.log_metric("val/pixel_accuracy", val["pixel_accuracy"])
            live.next_step()
            log.info("epoch %d: train loss %.4f, val mIoU %.3f, pixel accuracy %.3f",
                     epoch, total / max(seen, 1), val["miou"], val["pixel_accuracy"])  # fmt: skip
            if val["miou"] > best["miou"] + t.min_delta:
                best = {"miou": val["miou"], "epoch": epoch, "scores": val,
                        "state": copy.deepcopy(network.state_dict())}  # fmt: skip
            elif epoch - best["epoch"] >= t.patience:
                log.info("early stop: no val mIoU progress for %d epochs", t.patience)
                break
        seconds = time.perf_counter() - started
        live.summary["best_epoch"] = best["epoch"]
        live.summary["best_val_miou"] = best["miou"]

    summary = {"architecture": spec["architecture"], "loss": t.loss, "epochs": epoch,
               "best_epoch": best["epoch"], "val_miou": best["miou"],
               "train_seconds": round(seconds, 1)}  # fmt: skip
    out = model_dir(layout)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = {"spec": spec, "state_dict": best["state"], "categories": list(CATEGORIES),
                  "data": sp.data.model_dump(mode="json"), "training": summary}  # fmt: skip
    torch.save(checkpoint, out / "model.pt")
    (out / "train.json").write_text(json.dumps(summary, indent=2))
    log.info("segment_train: best epoch %d, val mIoU %.3f, %.0f s; saved to %s",
             best["epoch"], best["miou"], seconds, out)  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> None:
    stage_main(train, argv)


if __name__ == "__main__":
    main()
