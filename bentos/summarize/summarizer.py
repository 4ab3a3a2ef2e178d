"""Summaries of texts of any length with a seq2seq model (BART by default).

A text longer than the model's input is cut into chunks (at line breaks, else between
words), each chunk is summarised, then the joined summaries are summarised, until one
piece fits. At each level every piece of every text in the batch goes through one
batched ``generate`` call.
"""

from __future__ import annotations

from dataclasses import dataclass

from bentos.common.text_chunks import Chunk, chunk_text

TOKENS_PER_WORD = 1.6  # BPE tokens per English word, with margin
MAX_LEVELS = 8  # summaries of summaries; each level shrinks the text several times
GENERATE_BATCH = 8  # pieces per generate call: bounds memory (beams x length x batch)


@dataclass
class _Job:
    text: str
    max_words: int
    chunks: int = 0
    summary: str | None = None


class Summarizer:
    def __init__(self, source: str, num_beams: int = 4) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(source).eval()
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda":
            self.model = self.model.half()
        self.model.to(self.device)
        positions = getattr(self.model.config, "max_position_embeddings", 1024)
        self.input_limit = min(self.tokenizer.model_max_length, positions) - 2
        self.num_beams = num_beams

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def summarize(self, items: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """(text, max_words) pairs to (summary, number of chunks of the text)."""
        jobs = [_Job(text, max_words) for text, max_words in items]
        pending = list(jobs)
        for level in range(MAX_LEVELS):
            if not pending:
                break
            last = level == MAX_LEVELS - 1
            pieces: list[tuple[_Job, Chunk, int]] = []
            for job in pending:
                chunks = chunk_text(job.text, self.count_tokens, self.input_limit)
                if last or len(chunks) <= 1:  # one piece (the model truncates if need be)
                    chunks = [Chunk(job.text, 0)]
                job.chunks = job.chunks or len(chunks)
                final = int(job.max_words * TOKENS_PER_WORD) + 4
                # Intermediate summaries are short enough that each round shrinks the text
                # at least four times, so the summaries of summaries converge.
                length = final if len(chunks) == 1 else min(final, self.input_limit // 4)
                pieces += [(job, chunk, length) for chunk in chunks]
            outputs = self._generate([(chunk.text, length) for _, chunk, length in pieces])
            summaries: dict[int, list[str]] = {}
            for (job, _, _), summary in zip(pieces, outputs, strict=True):
                summaries.setdefault(id(job), []).append(summary)
            next_round = []
            for job in pending:
                done = summaries[id(job)]
                if len(done) == 1:
                    job.summary = _limit_words(done[0], job.max_words)
                else:  # summarise the summaries
                    job.text = "\n".join(done)
                    next_round.append(job)
            pending = next_round
        return [(job.summary or "", max(job.chunks, 1)) for job in jobs]

    def _generate(self, requests: list[tuple[str, int]]) -> list[str]:
        """Generate for (text, max new tokens) pairs: one call per length, in sub-batches."""
        out: list[str] = [""] * len(requests)
        by_length: dict[int, list[int]] = {}
        for i, (_, length) in enumerate(requests):
            by_length.setdefault(length, []).append(i)
        for length, index in by_length.items():
            for start in range(0, len(index), GENERATE_BATCH):
                part = index[start : start + GENERATE_BATCH]
                texts = [requests[i][0] for i in part]
                for i, summary in zip(part, self._generate_batch(texts, length), strict=True):
                    out[i] = summary
        return out

    def _generate_batch(self, texts: list[str], max_new_tokens: int) -> list[str]:
        import torch

        batch = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.input_limit + 2,
        ).to(self.device)
        with torch.inference_mode():
            ids = self.model.generate(
                **batch,
                num_beams=self.num_beams,
                early_stopping=True,
                max_new_tokens=max_new_tokens,
            )
        return [t.strip() for t in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]


def _limit_words(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])
