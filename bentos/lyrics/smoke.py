"""The smoke profile's lyrics models: tiny random BERT classifiers, built on first use.

Same labels and loading path as pysentimiento's models; their answers are meaningless.
"""

from __future__ import annotations

from bentos.common.once import build_once
from bentos.common.tiny_models import smoke_dir, tiny_sequence_classifier
from bentos.lyrics.settings import EMOTION_MODELS
from marketplace.contracts.schemas import EMOTIONS

SENTIMENT_LABELS = ["NEG", "NEU", "POS"]


def smoke_models() -> tuple[dict[str, str], dict[str, str]]:
    """Emotion and sentiment model folders for every supported language (built if missing)."""
    root = smoke_dir() / "lyrics"
    folders = {"emotion": root / "emotion", "sentiment": root / "sentiment"}
    for task, labels in (("emotion", list(EMOTIONS)), ("sentiment", SENTIMENT_LABELS)):
        folder = folders[task]
        build_once(
            root / f".{task}.lock",
            (folder / "config.json").exists,
            lambda folder=folder, labels=labels: tiny_sequence_classifier(folder, labels),
        )
    return (
        {lang: str(folders["emotion"]) for lang in EMOTION_MODELS},
        {lang: str(folders["sentiment"]) for lang in EMOTION_MODELS},
    )
