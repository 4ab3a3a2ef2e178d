"""Tiny Hugging Face models with real architectures and random weights, built offline.

No weights can be downloaded on the development and CI machines, so the ``smoke`` profile
and the tests build small models here, save them with ``save_pretrained`` and load them
through exactly the code that loads the real models. Their outputs are meaningless.
"""

from __future__ import annotations

import os
from pathlib import Path

# A small corpus so the tokenizers know common English, Spanish, Italian and Portuguese.
CORPUS = """\
I walk alone down the empty street tonight, my heart is broken and the rain keeps falling.
Dancing in the moonlight, we are young and free, nothing can stop us now.
Love is a fire that burns inside, hold me close and never let me go.
The summer sun is shining bright, the radio plays our favourite song.
Tears fall like rain when you are gone, I miss your smile and your sweet voice.
Caminando solo por la calle vacía, mi corazón late por ti esta noche.
La vida es una canción que cantamos juntos bajo el sol y las estrellas.
Il sole splende sul mare, cantiamo insieme questa canzone d'amore.
A saudade aperta o meu coração, a noite é longa sem você aqui.
""".splitlines()


def smoke_dir() -> Path:
    """Where the smoke profile keeps the tiny models it builds (setting MARKETPLACE_SMOKE_DIR)."""
    default = Path.home() / ".cache" / "ai-marketplace" / "smoke"
    return Path(os.environ.get("MARKETPLACE_SMOKE_DIR", default))


def wordpiece_tokenizer(max_length: int = 128, vocab_size: int = 400):
    """A BERT-style WordPiece tokenizer trained on :data:`CORPUS`."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        CORPUS, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special)
    )
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=max_length,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def byte_bpe_tokenizer(max_length: int = 256, vocab_size: int = 600):
    """A BART-style byte-level BPE tokenizer trained on :data:`CORPUS`."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(CORPUS, vocab_size=vocab_size, special_tokens=special)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok._tokenizer,
        model_max_length=max_length,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )


def tiny_sequence_classifier(folder: Path, labels: list[str], max_length: int = 128) -> Path:
    """A 2-layer BERT sequence classifier over ``labels`` with its tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = wordpiece_tokenizer(max_length)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_length + 2,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        pad_token_id=tokenizer.pad_token_id,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
