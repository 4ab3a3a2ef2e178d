"""Tiny Stable Diffusion pipelines with random weights, built offline.

Real architectures, small sizes: a UNet with cross-attention, a VAE that downsamples 8x
like Stable Diffusion's, a CLIP text encoder and a CLIP tokenizer (pad token,
``model_max_length`` 77). Each is saved with ``save_pretrained`` (a diffusers folder) or
as a single original-layout file, and loaded by :mod:`bentos.art.pipelines` like a real
model. Their images are noise.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from bentos.art.settings import is_single_file
from bentos.common.once import build_once
from bentos.common.tiny_models import smoke_dir

TEXT_WIDTH = 32  # the text encoder's width, and so the UNet's cross-attention width


def tiny_pipeline(seed: int = 0):
    """A random ``StableDiffusionPipeline`` of the SD 1.x layout, a few MB in all."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from bentos.art.clip_tokenizer import tiny_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer = tiny_clip_tokenizer()
    unet = UNet2DConditionModel(
        sample_size=32,
        block_out_channels=(32, 64),
        layers_per_block=1,
        # cross-attention at the coarser level only, so 512 x 512 stays quick on a CPU
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=256,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_WIDTH,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=tokenizer.model_max_length,
            projection_dim=TEXT_WIDTH,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    # The scheduler Stable Diffusion 1.x ships with; the service replaces it (DPM-Solver++).
    scheduler = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        steps_offset=1,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_tiny(target: Path, seed: int = 0) -> Path:
    """Save a tiny pipeline at ``target``: a folder, or one file if ``target`` names a
    ``.safetensors``/``.ckpt`` file (its diffusers folder, for the configs, goes beside it
    with the suffix ``.config``)."""
    from bentos.art.single_file import save_single_file

    pipeline = tiny_pipeline(seed)
    if not is_single_file(str(target)):
        pipeline.save_pretrained(target)
        return target
    pipeline.save_pretrained(config_folder(target))
    return save_single_file(pipeline, target)


def config_folder(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name + ".config")


def smoke_sources(models: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """One tiny model per configured name, of the same kind (folder or single file).

    Returns name -> local source, and the folder holding the single-file models' configs.
    Each name gets its own random weights, so the models paint different noise.
    """
    root = smoke_dir() / "art"
    sources: dict[str, str] = {}
    single_config = None
    for name, source in models.items():
        seed = zlib.crc32(name.encode())
        if is_single_file(source):
            target = root / f"{name}.safetensors"
            single_config = str(config_folder(target))  # all tiny files share one layout
            done = target.exists
        else:
            target = root / name
            done = (target / "model_index.json").exists
        build_once(root / f".{name}.lock", done, lambda t=target, s=seed: build_tiny(t, s))
        sources[name] = str(target)
    return sources, single_config
