"""Stage ``tags_prepare``: the tagger's scores, the true tags and the vocabulary, split
64/16/20 stratified on every tag. ``python -m training.tags.prepare``.

Writes ``data/tags/tracks.npz`` (scores, category_scores, labels, split) and
``data/tags/vocabulary.json`` (tags with their class and category, the category columns).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np

from bentos.tags.features import Vocabulary
from training.cli import stage_main
from training.layout import Layout
from training.params import Params
from training.tags import mewo
from training.tags.split import split_tracks
from training.tags.synthetic import catalogue

log = logging.getLogger(__name__)


def data_dir(layout: Layout) -> Path:
    return layout.root / "data" / "tags"


def prepare(params: Params, layout: Layout) -> Path:
    p = params.tags.data
    if p.source == "synthetic":
        s = p.synthetic
        c = catalogue(s.tracks, p.seed, s.tags_per_class, s.categories_per_class, s.styles,
                      s.shared_noise)  # fmt: skip
        vocab = Vocabulary(c.tags, c.tag_class, c.tag_category, c.categories)
        scores, category_scores, labels = c.scores, c.category_scores, c.labels
    else:
        folder = layout.resolve(p.mewo_dir)
        vocab, scores, category_scores, labels = mewo.read(folder, p.inputs, p.labels, p.table)
    split = split_tracks(labels, p.val_fraction, p.test_fraction, p.seed)
    out = data_dir(layout)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "tracks.npz", scores=scores, category_scores=category_scores,
                        labels=labels, split=split)  # fmt: skip
    (out / "vocabulary.json").write_text(json.dumps(dataclasses.asdict(vocab), indent=2) + "\n")
    log.info("tags_prepare: %d tracks (%s), %d tags, %d categories, %.1f tags a track",
             len(labels), p.source, len(vocab.tags), len(vocab.categories),
             labels.sum(axis=1).mean())  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    stage_main(prepare, argv)


if __name__ == "__main__":
    main()
