"""Cutting long texts into pieces a model can read whole (its token limit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    text: str
    tokens: int


def chunk_text(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[Chunk]:
    """Cut ``text`` into chunks of at most ``max_tokens`` tokens, at line breaks first."""
    pieces: list[Chunk] = []
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        n = count_tokens(line)
        if n <= max_tokens:
            pieces.append(Chunk(line, n))
            continue
        # An over-long line: cut between words, counting each word once (linear time).
        words: list[str] = []
        used = 0
        for word in line.split():
            n_word = count_tokens(word)
            if words and used + n_word > max_tokens:
                joined = " ".join(words)
                pieces.append(Chunk(joined, count_tokens(joined)))
                words, used = [], 0
            words.append(word)
            used += n_word
        if words:
            joined = " ".join(words)
            pieces.append(Chunk(joined, count_tokens(joined)))
    chunks: list[Chunk] = []
    for piece in pieces:  # then pack consecutive lines up to the limit
        if chunks:
            merged = f"{chunks[-1].text}\n{piece.text}"
            n = count_tokens(merged)
            if n <= max_tokens:
                chunks[-1] = Chunk(merged, n)
                continue
        chunks.append(piece)
    return chunks
