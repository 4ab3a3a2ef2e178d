"""The smoke profile's Whisper: a tiny random checkpoint with Whisper's architecture.

Built from ``whisper.model.Whisper`` and ``ModelDimensions`` (multilingual vocabulary, 80
mel bands, 30 s audio context) and saved as a checkpoint file that ``whisper.load_model``
loads like a real one. Its transcripts are noise.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from bentos.common.once import build_once
from bentos.common.tiny_models import smoke_dir


def tiny_whisper_checkpoint(path: Path, width: int = 64, layers: int = 2, heads: int = 2) -> Path:
    """A random Whisper checkpoint; ``width=768, layers=12, heads=12`` is the ``small``
    architecture (for timing on real hardware: time does not depend on the weights)."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=width,
        n_audio_head=heads,
        n_audio_layer=layers,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=width,
        n_text_head=heads,
        n_text_layer=layers,
    )
    model = Whisper(dims)
    # Whisper leaves the decoder's positional embedding uninitialised (torch.empty): a
    # checkpoint always fills it. A random model must, or it holds whatever memory held.
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


def smoke_checkpoint() -> str:
    path = smoke_dir() / "transcribe" / "tiny-random.pt"
    build_once(path.parent / ".lock", path.exists, lambda: tiny_whisper_checkpoint(path))
    return str(path)
