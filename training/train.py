"""Stage train: fit the genre network on train windows, early-stop on validation macro-F1.

The best epoch's weights are kept and written with their configs to ``models/genre``;
per-epoch curves go to ``dvclive/train``.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
from dvclive import Live
from torch import nn

from bentos.genre.model_files import GenreModel, GenreModelConfig
from bentos.genre.network import build_network, count_parameters
from marketplace.contracts.schemas import GENRES
from training.datasets import load_split
from training.layout import Layout
from training.params import Params
from training.scoring import macro_f1, track_level

log = logging.getLogger(__name__)


def _validate(
    network: nn.Module, x: torch.Tensor, y: torch.Tensor, track: np.ndarray
) -> tuple[float, float, float]:
    """Window-level loss; track-level accuracy and macro-F1 (what evaluation reports)."""
    network.eval()
    with torch.inference_mode():
        logits = torch.cat([network(x[i : i + 256]) for i in range(0, len(x), 256)])
    loss = nn.functional.cross_entropy(logits, y).item()
    truth, pred = track_level(torch.softmax(logits, 1).numpy(), y.numpy(), track)
    return loss, float((truth == pred).mean()), macro_f1(truth, pred)


def run(params: Params, layout: Layout) -> GenreModel:
    tp = params.train
    torch.manual_seed(tp.seed)
    generator = torch.Generator().manual_seed(tp.seed)
    x_train, y_train, _ = load_split(layout, "train")
    x_val, y_val, track_val = load_split(layout, "val")
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_val, y_val = torch.from_numpy(x_val), torch.from_numpy(y_val)

    network = build_network(params.features.channels, len(GENRES), params.model)
    log.info(
        "train: %d parameters, %d train / %d val windows",
        count_parameters(network),
        len(x_train),
        len(x_val),
    )
    optimizer = torch.optim.AdamW(network.parameters(), lr=tp.lr, weight_decay=tp.weight_decay)
    best_f1, best_loss, best_epoch, best_state = -1.0, float("inf"), 0, None

    with Live(
        dir=str(layout.train_live_dir), dvcyaml=None, save_dvc_exp=False, report=None
    ) as live:
        for epoch in range(1, tp.max_epochs + 1):
            network.train()
            order = torch.randperm(len(x_train), generator=generator)
            total = 0.0
            for i in range(0, len(order), tp.batch_size):
                batch = order[i : i + tp.batch_size]
                if len(batch) < 2:  # BatchNorm needs two samples
                    continue
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(network(x_train[batch]), y_train[batch])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            val_loss, val_acc, val_f1 = _validate(network, x_val, y_val, track_val)
            for name, value in (
                ("train/loss", total / len(x_train)),
                ("val/loss", val_loss),
                ("val/accuracy", val_acc),
                ("val/f1_macro", val_f1),
            ):
                live.log_metric(name, value)
            live.next_step()
            log.info(
                "epoch %d: train loss %.4f, val loss %.4f, val acc %.3f, val F1 %.3f",
                epoch,
                total / len(x_train),
                val_loss,
                val_acc,
                val_f1,
            )
            better_f1 = val_f1 > best_f1 + tp.min_delta
            if better_f1 or (val_f1 >= best_f1 and val_loss < best_loss - tp.min_delta):
                best_f1, best_loss, best_epoch = val_f1, val_loss, epoch
                best_state = copy.deepcopy(network.state_dict())
            elif epoch - best_epoch >= tp.patience:
                log.info("early stop: no val progress for %d epochs", tp.patience)
                break
        live.summary["best_epoch"] = best_epoch
        live.summary["best_val_f1_macro"] = best_f1

    assert best_state is not None
    network.load_state_dict(best_state)
    model = GenreModel(
        network, GenreModelConfig(features=params.features, network=params.model, labels=GENRES)
    )
    model.save(layout.model_dir)
    log.info(
        "train: best epoch %d (val macro-F1 %.3f) saved to %s",
        best_epoch,
        best_f1,
        layout.model_dir,
    )
    return model


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
