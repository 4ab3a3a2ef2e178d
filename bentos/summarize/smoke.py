"""The smoke profile's summariser: a tiny random BART with its tokenizer, built on first use.

Same architecture family and loading path as the real model; its summaries are noise.
"""

from __future__ import annotations

from pathlib import Path

from bentos.common.once import build_once
from bentos.common.tiny_models import byte_bpe_tokenizer, smoke_dir


def tiny_bart(folder: Path, max_length: int = 128) -> Path:
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = byte_bpe_tokenizer(max_length)
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=max_length + 2,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=tokenizer.bos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
    )
    BartForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def smoke_model() -> str:
    folder = smoke_dir() / "summarize"
    build_once(
        folder.parent / ".summarize.lock",
        (folder / "config.json").exists,
        lambda: tiny_bart(folder),
    )
    return str(folder)
