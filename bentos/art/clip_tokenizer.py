"""A small CLIP tokenizer built offline: byte-level BPE with CLIP's ``</w>`` word ends.

Real Stable Diffusion checkpoints ship CLIP's 49 408-token vocabulary; it cannot be
downloaded here, so tiny pipelines get this one: every byte (alone and as a word end),
merges learned from :data:`~bentos.common.tiny_models.CORPUS` and the cover prompt's own
words, CLIP's start and end tokens, a pad token and ``model_max_length`` 77, as compel and
the Stable Diffusion pipeline expect.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from itertools import pairwise

from bentos.art.prompt import OTHER_FLAWS, TEMPLATE, TEXT_WORDS
from bentos.common.tiny_models import CORPUS

START, END = "<|startoftext|>", "<|endoftext|>"
WORD_END = "</w>"
MAX_LENGTH = 77


@cache
def byte_alphabet() -> tuple[str, ...]:
    """The 256 printable characters byte-level BPE uses for the bytes 0..255, in order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:  # bytes that are not printable go to code points above 255
            chars[byte] = chr(256 + extra)
            extra += 1
    return tuple(chars[b] for b in range(256))


def _words(texts: list[str]) -> Counter[tuple[str, ...]]:
    """Lower-cased words as byte characters, the last one marked as the word's end."""
    alphabet = byte_alphabet()
    counts: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        for word in text.lower().replace(",", " ").replace(".", " ").split():
            symbols = [alphabet[b] for b in word.encode("utf-8")]
            symbols[-1] += WORD_END
            counts[tuple(symbols)] += 1
    return counts


def learn_merges(texts: list[str], count: int) -> list[tuple[str, str]]:
    """Byte-pair merges: the most frequent adjacent pair, ``count`` times (ties by order)."""
    words = _words(texts)
    merges: list[tuple[str, str]] = []
    for _ in range(count):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, n in words.items():
            for pair in pairwise(word):
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        merged: Counter[tuple[str, ...]] = Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return merges


def tiny_clip_tokenizer(merges: int = 400):
    """A ``CLIPTokenizer`` with a vocabulary of 512 bytes + ``merges`` merges + 2 specials."""
    from transformers import CLIPTokenizer

    texts = [*CORPUS, TEMPLATE, *TEXT_WORDS, *OTHER_FLAWS]
    learned = learn_merges(texts, merges)
    alphabet = byte_alphabet()
    tokens = [*alphabet, *(c + WORD_END for c in alphabet), *(a + b for a, b in learned)]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    vocab[START] = len(vocab)
    vocab[END] = len(vocab)
    return CLIPTokenizer(
        vocab=vocab,
        merges=learned,
        model_max_length=MAX_LENGTH,
        pad_token=END,
    )
