"""Language detection with langdetect (its language profiles ship in the wheel)."""

from __future__ import annotations

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect is random otherwise: same text, same answer


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of ``text``'s language (``default`` when it cannot tell)."""
    try:
        return detect(text).split("-")[0]
    except LangDetectException:
        return default
