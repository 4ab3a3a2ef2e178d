"""Write a Stable Diffusion 1.x pipeline as one original-layout checkpoint (``.safetensors``).

Album-cover fine-tunes are usually shared as one file in the original (LDM) layout and
loaded with ``from_single_file``. No such file can be downloaded here, so the tests and the
``smoke`` profile write one from a tiny diffusers pipeline, with the key names of the
original layout: ``model.diffusion_model.*`` (UNet), ``first_stage_model.*`` (VAE) and
``cond_stage_model.transformer.text_model.*`` (CLIP text encoder). Diffusers converts
them back when it loads the file, exactly as it does for a real checkpoint.
"""

from __future__ import annotations

from pathlib import Path

RESNET = {  # diffusers -> original names inside a UNet resnet
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
VAE_ATTENTION = {  # diffusers -> original names inside the VAE's mid-block attention
    "group_norm": "norm",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "proj_out",
}


def unet_prefixes(config: dict) -> dict[str, str]:
    """Diffusers UNet module prefixes -> original ones (``input_blocks.N.M`` and so on)."""
    per_level = config["layers_per_block"] + 1  # resnets per level, plus the resampler
    levels = len(config["block_out_channels"])
    names = {
        "time_embedding.linear_1": "time_embed.0",
        "time_embedding.linear_2": "time_embed.2",
        "conv_in": "input_blocks.0.0",
        "conv_norm_out": "out.0",
        "conv_out": "out.2",
        "mid_block.resnets.0": "middle_block.0",
        "mid_block.attentions.0": "middle_block.1",
        "mid_block.resnets.1": "middle_block.2",
    }
    for level in range(levels):
        for layer in range(per_level - 1):
            block = f"input_blocks.{level * per_level + layer + 1}"
            names[f"down_blocks.{level}.resnets.{layer}"] = f"{block}.0"
            names[f"down_blocks.{level}.attentions.{layer}"] = f"{block}.1"
        if level < levels - 1:
            names[f"down_blocks.{level}.downsamplers.0.conv"] = (
                f"input_blocks.{(level + 1) * per_level}.0.op"
            )
        has_attention = "CrossAttn" in config["up_block_types"][level]
        for layer in range(per_level):
            block = f"output_blocks.{level * per_level + layer}"
            names[f"up_blocks.{level}.resnets.{layer}"] = f"{block}.0"
            names[f"up_blocks.{level}.attentions.{layer}"] = f"{block}.1"
        if level < levels - 1:
            last = f"output_blocks.{level * per_level + per_level - 1}"
            names[f"up_blocks.{level}.upsamplers.0.conv"] = (
                f"{last}.{2 if has_attention else 1}.conv"
            )
    return names


def vae_prefixes(config: dict) -> dict[str, str]:
    levels = len(config["block_out_channels"])
    names = {
        "encoder.mid_block.resnets.0": "encoder.mid.block_1",
        "encoder.mid_block.resnets.1": "encoder.mid.block_2",
        "encoder.mid_block.attentions.0": "encoder.mid.attn_1",
        "encoder.conv_norm_out": "encoder.norm_out",
        "decoder.mid_block.resnets.0": "decoder.mid.block_1",
        "decoder.mid_block.resnets.1": "decoder.mid.block_2",
        "decoder.mid_block.attentions.0": "decoder.mid.attn_1",
        "decoder.conv_norm_out": "decoder.norm_out",
    }
    for level in range(levels):
        up = levels - 1 - level  # the original decoder numbers its levels bottom-up
        for layer in range(config["layers_per_block"] + 1):
            names[f"encoder.down_blocks.{level}.resnets.{layer}"] = (
                f"encoder.down.{level}.block.{layer}"
            )
            names[f"decoder.up_blocks.{level}.resnets.{layer}"] = f"decoder.up.{up}.block.{layer}"
        names[f"encoder.down_blocks.{level}.downsamplers.0"] = f"encoder.down.{level}.downsample"
        names[f"decoder.up_blocks.{level}.upsamplers.0"] = f"decoder.up.{up}.upsample"
    return names


def _rename(key: str, prefixes: dict[str, str], inner: dict[str, str]) -> str:
    for prefix in sorted(prefixes, key=len, reverse=True):  # the longest prefix wins
        if key.startswith(prefix + "."):
            rest = key[len(prefix) + 1 :]
            for new, old in inner.items():
                if rest.startswith(new + "."):
                    rest = old + rest[len(new) :]
                    break
            return f"{prefixes[prefix]}.{rest}"
    return key


def original_state_dict(pipeline) -> dict:
    """The pipeline's UNet, VAE and text encoder weights under the original key names."""
    state = {}
    unet_names = unet_prefixes(dict(pipeline.unet.config))
    for key, value in pipeline.unet.state_dict().items():
        inner = RESNET if ".resnets." in key or key.startswith("mid_block.resnets") else {}
        state["model.diffusion_model." + _rename(key, unet_names, inner)] = value
    vae_names = vae_prefixes(dict(pipeline.vae.config))
    for key, value in pipeline.vae.state_dict().items():
        if ".attentions." in key:
            name = _rename(key, vae_names, VAE_ATTENTION)
            value = value[:, :, None, None] if value.ndim == 2 else value  # linear -> 1x1 conv
        else:
            name = _rename(key, vae_names, {"conv_shortcut": "nin_shortcut"})
        state["first_stage_model." + name] = value
    for key, value in pipeline.text_encoder.state_dict().items():
        text_key = key.removeprefix("text_model.")
        state["cond_stage_model.transformer.text_model." + text_key] = value
    return {k: v.contiguous() for k, v in state.items()}


def save_single_file(pipeline, path: Path) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(original_state_dict(pipeline), str(path))
    return path
