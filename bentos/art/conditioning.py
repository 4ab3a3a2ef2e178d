"""Prompt embeddings with compel: weights applied, long prompts kept whole.

compel's parser (pyparsing) costs tens of milliseconds per prompt on any hardware, more
than the text encoder itself, and the cover pipeline repeats texts: every request has the
same negative prompt, and one request's prompt goes to every model. So parsing is cached
per text (shared by all models) and embeddings per text and model.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import torch

CACHED_TEXTS = 64  # embeddings kept per model: the negative prompt and recent prompts


@lru_cache(maxsize=512)
def parse(text: str):
    from compel import Compel

    return Compel.parse_prompt_string(text)


class PromptEncoder:
    """A pipeline's tokenizer and text encoder behind compel (not thread-safe)."""

    def __init__(self, pipe) -> None:
        from compel import Compel

        # No truncation: a prompt over 77 tokens is encoded in 77-token chunks, whole.
        self.compel = Compel(
            tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, truncate_long_prompts=False
        )
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    def embed(self, text: str) -> torch.Tensor:
        """Embeddings of one prompt in compel syntax, shape (1, 77 x chunks, width)."""
        if text in self._cache:
            self._cache.move_to_end(text)
            return self._cache[text]
        conditioning, _ = self.compel.build_conditioning_tensor_for_conjunction(parse(text))
        self._cache[text] = conditioning
        if len(self._cache) > CACHED_TEXTS:
            self._cache.popitem(last=False)
        return conditioning

    def __call__(self, prompt: str, negative: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Both prompts' embeddings, the shorter padded to the other's length."""
        positive, negative_embeds = self.compel.pad_conditioning_tensors_to_same_length(
            [self.embed(prompt), self.embed(negative)]
        )
        return positive, negative_embeds
