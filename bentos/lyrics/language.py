"""Language detection with langdetect (its language profiles ship in the wheel)."""

from __future__ import annotations

import threading

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect is random otherwise: same text, same answer
# langdetect loads its profiles into a global on first use, unguarded: a request that
# comes while another loads them sees half the languages (Spanish read as English).
# Detection takes milliseconds; one at a time.
_LOCK = threading.Lock()


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of ``text``'s language (``default`` when it cannot tell)."""
    try:
        with _LOCK:
            return detect(text).split("-")[0]
    except LangDetectException:
        return default
