"""Checking a text a client sent before any model sees it."""

from __future__ import annotations

import unicodedata

from bentos.common.errors import EmptyText, NoWords, TextTooLong

KEPT_CONTROLS = frozenset("\n\t\r")


def check_text(text: str, max_chars: int, setting: str) -> str:
    """``text`` without control characters and lone surrogates, or a 4xx naming the
    problem: empty, longer than ``max_chars`` (``setting`` names the limit), no words."""
    if len(text) > max_chars:
        raise TextTooLong(
            f"the text has {len(text)} characters; the limit is {max_chars} ({setting})"
        )
    cleaned = "".join(
        c
        for c in text
        if c in KEPT_CONTROLS or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
    )
    if not cleaned.strip():
        raise EmptyText("the text is empty (or only control characters and white space)")
    if not any(unicodedata.category(c)[0] in "LN" for c in cleaned):
        raise NoWords("the text has no words: only punctuation, symbols or emoji")
    return cleaned
