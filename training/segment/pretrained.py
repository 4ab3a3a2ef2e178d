"""SegFormer started from published weights (the full profile's pretrained encoder).

``imagenet``: an ImageNet-1k encoder (``nvidia/mit-b0`` ... ``-b5``) under a fresh decode
head. ``cityscapes``: a Cityscapes model (``nvidia/segformer-b0-finetuned-cityscapes-...``)
whose 19-class classifier becomes the 8 categories' one: each category's row starts as the
log-mean-exp of its train classes' rows (mean weights and bias, plus the log of their
number), so the model predicts the categories before any fine-tuning; void, which no
train class covers, starts fresh. The network's spec is read off the checkpoint, so
serving builds the same network. NVIDIA's SegFormer weights are licensed for
non-commercial use only.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch

from bentos.segment.categories import CATEGORIES
from bentos.segment.network import SegFormer, segformer_config
from training.segment.cityscapes import train_id_to_category

log = logging.getLogger(__name__)


def spec_of(config: Any) -> dict[str, Any]:
    return {"architecture": "segformer", "hidden_sizes": list(config.hidden_sizes),
            "depths": list(config.depths), "heads": list(config.num_attention_heads),
            "decoder_hidden_size": int(config.decoder_hidden_size)}  # fmt: skip


def pretrained_segformer(checkpoint: str, init: str) -> tuple[SegFormer, dict[str, Any]]:
    """The network and its spec, from ``checkpoint`` (a hub name or a local folder)."""
    from transformers import SegformerForSemanticSegmentation

    source = SegformerForSemanticSegmentation.from_pretrained(checkpoint)
    spec = spec_of(source.config)
    model = SegformerForSemanticSegmentation(segformer_config(spec))
    state = {k: v for k, v in source.state_dict().items() if not k.startswith("decode_head.")}
    if init == "cityscapes":
        if source.config.num_labels != 19:
            raise ValueError(f"{checkpoint}: {source.config.num_labels} classes, not "
                             "Cityscapes' 19 train classes")  # fmt: skip
        state = source.state_dict()
        weight = state.pop("decode_head.classifier.weight")
        bias = state.pop("decode_head.classifier.bias")
        new_weight = model.decode_head.classifier.weight.detach().clone()
        new_bias = model.decode_head.classifier.bias.detach().clone()
        members: dict[int, list[int]] = {}
        for train_id, category in train_id_to_category().items():
            members.setdefault(category, []).append(train_id)
        for category, ids in members.items():
            new_weight[category] = weight[ids].mean(dim=0)
            new_bias[category] = bias[ids].mean() + math.log(len(ids))
        state["decode_head.classifier.weight"] = new_weight
        state["decode_head.classifier.bias"] = new_bias
    missing, unexpected = model.load_state_dict(state, strict=False)
    fresh = set() if init == "cityscapes" else {k for k in missing if k.startswith("decode_head.")}
    if set(missing) - fresh or unexpected:
        wrong = sorted(set(missing) - fresh)[:5]
        raise ValueError(f"{checkpoint} does not fit: missing {wrong}, unexpected {unexpected[:5]}")
    log.info("SegFormer from %s (%s): %d of %d tensors pretrained", checkpoint, init,
             len(state), len(model.state_dict()))  # fmt: skip
    assert model.config.num_labels == len(CATEGORIES)
    return SegFormer(model), spec


def initial_network(params: Any) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network training starts from, and its spec (``params``: the segment section)."""
    from bentos.segment.network import build

    m = params.model
    if m.architecture == "segformer" and m.init != "random":
        return pretrained_segformer(m.pretrained, m.init)
    spec = params.network_spec()
    return build(spec), spec
