"""Keywords of lyrics: spaCy lemmas (lookup lemmatizer) ranked by TF-IDF over the lines.

Stop words, punctuation, numbers and one-letter Latin tokens are dropped; each lemma appears at
most once. A lemma's score is its TF-IDF summed over the lines, scaled so the top keyword
scores 1.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from marketplace.contracts.schemas import Keyword

if TYPE_CHECKING:  # spaCy and scikit-learn load when the first lyrics are analysed
    import spacy


def spacy_language(language: str) -> str:
    """``language`` if spaCy knows it, else its multi-language ``xx``."""
    import spacy

    try:
        return spacy.util.get_lang_class(language).lang or "xx"
    except ImportError:
        return "xx"


def pipeline(language: str) -> spacy.Language:
    # Cached on spaCy's own (finite) set of languages, never on what a client sent.
    return _pipeline(spacy_language(language))


@cache
def _pipeline(language: str) -> spacy.Language:
    """A blank spaCy pipeline with the lookup lemmatizer where tables exist for it."""
    import spacy

    try:
        nlp = spacy.blank(language)
    except ImportError:  # the language needs a tokenizer package that is not installed
        nlp = spacy.blank("xx")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except (ValueError, KeyError, OSError):  # no lookup table for this language
        nlp = spacy.blank(nlp.lang)
    return nlp


def line_lemmas(text: str, language: str) -> list[list[str]]:
    nlp = pipeline(language)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    for doc in nlp.pipe(lines):
        lemmas = [
            (t.lemma_ or t.text).lower()
            for t in doc
            if t.is_alpha
            and not (t.is_stop or t.is_punct or t.like_num)
            and (len(t.text) > 1 or not t.text.isascii())  # one CJK character is a word
        ]
        out.append([lemma for lemma in lemmas if not nlp.vocab[lemma].is_stop])
    return [lemmas for lemmas in out if lemmas]


def extract_keywords(text: str, language: str, limit: int = 10) -> list[Keyword]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = line_lemmas(text, language)
    if not docs:
        return []
    vectorizer = TfidfVectorizer(analyzer=lambda lemmas: lemmas)
    matrix = vectorizer.fit_transform(docs)
    scores = matrix.sum(axis=0).A1
    vocab = vectorizer.get_feature_names_out()
    ranked = sorted(zip(vocab, scores, strict=True), key=lambda kv: (-kv[1], kv[0]))[:limit]
    top = ranked[0][1]
    return [Keyword(word=str(word), score=round(float(s / top), 4)) for word, s in ranked]
