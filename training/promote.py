"""The promotion gate: a new model replaces production only if it is better.

    python -m training.promote --candidate dvclive/evaluate/metrics.json \
        --production-ref promoted/genre [--summary "$GITHUB_STEP_SUMMARY"]
    python -m training.promote --model segment --production-ref promoted/segment
    python -m training.promote --model tags --production-ref promoted/tags

Genre: promote when the candidate's macro-F1 is at least production's plus
``promote.margin`` and no genre's F1 drops by more than ``promote.per_genre_tolerance``.
Segment: the same with the mean IoU and each category's IoU (``segment.promote``). Tags:
with the weighted F1 (the challenge's metric) and each class's weighted F1 (``tags.promote``;
a tag's own F1 is too noisy for rare tags to gate on). The first model ever is promoted.
Production's metrics come from a git revision (the metrics file as it was at the last
promotion), a model in the BentoML model store (its registered metadata), or a file.
Prints the reasoning (also as markdown to ``--summary``) and exits 0 to promote, 1 to
refuse.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from training.params import Params, PromoteParams, load_params
from training.revisions import file_at

METRICS = "dvclive/evaluate/metrics.json"
SEGMENT_METRICS = "dvclive/segment/evaluate/metrics.json"
TAGS_METRICS = "dvclive/tags/evaluate/metrics.json"
ACTIONS_METRICS = "dvclive/actions/evaluate/metrics.json"


@dataclass(frozen=True)
class Kind:
    """What the gate compares for one model."""

    model: str
    metrics: str  # the evaluate stage's metrics file
    headline: str  # the score that must rise
    per: str  # what the per-class scores are of
    score: str  # their name


KINDS = {
    "genre": Kind("genre", METRICS, "macro-F1", "genre", "F1"),
    "segment": Kind("segment", SEGMENT_METRICS, "mean IoU", "category", "IoU"),
    "tags": Kind("tags", TAGS_METRICS, "weighted F1", "class", "weighted F1"),
    "actions": Kind("actions", ACTIONS_METRICS, "frame accuracy", "action", "frame recall"),
}


class GenreScore(BaseModel):
    f1: float = Field(ge=0, le=1)
    support: int | None = None


class ModelMetrics(BaseModel):
    """The genre evaluate stage's metrics that the gate reads."""

    f1_macro: float = Field(ge=0, le=1)
    accuracy: float | None = None
    per_genre: dict[str, GenreScore]

    def scores(self) -> Scores:
        return Scores(
            headline=self.f1_macro, per_class={g: s.f1 for g, s in self.per_genre.items()}
        )


class SegmentMetrics(BaseModel):
    """The segment evaluate stage's metrics that the gate reads."""

    miou: float = Field(ge=0, le=1)
    pixel_accuracy: float | None = None
    iou: dict[str, float | None]  # None: the category is in no test image

    def scores(self) -> Scores:
        return Scores(headline=self.miou, per_class=dict(self.iou))


class TagsMetrics(BaseModel):
    """The tags evaluate stage's metrics that the gate reads."""

    weighted_f1: float = Field(ge=0, le=1)
    per_class: dict[str, float]

    def scores(self) -> Scores:
        return Scores(headline=self.weighted_f1, per_class=dict(self.per_class))


class ActionsMetrics(BaseModel):
    """The actions evaluate stage's metrics that the gate reads."""

    frame_accuracy: float = Field(ge=0, le=1)
    per_class: dict[str, float]

    def scores(self) -> Scores:
        return Scores(headline=self.frame_accuracy, per_class=dict(self.per_class))


class Scores(BaseModel):
    """Any model's metrics as the gate compares them."""

    headline: float
    per_class: dict[str, float | None]


def read_scores(kind: Kind, data: dict) -> Scores:
    readers = {"genre": ModelMetrics, "segment": SegmentMetrics, "tags": TagsMetrics,
               "actions": ActionsMetrics}  # fmt: skip
    return readers[kind.model].model_validate(data).scores()


@dataclass
class Decision:
    promote: bool
    reasons: list[str] = field(default_factory=list)
    kind: Kind = KINDS["genre"]

    def markdown(
        self, candidate: ModelMetrics | Scores, production: ModelMetrics | Scores | None
    ) -> str:
        verdict = "**Promote**" if self.promote else "**Keep production**"
        lines = [f"### Promotion gate: {verdict}", ""]
        lines += [f"- {reason}" for reason in self.reasons]
        if production is not None:
            new_scores, old_scores = _scores(candidate).per_class, _scores(production).per_class
            k = self.kind
            lines += ["", f"| {k.per} | production {k.score} | candidate {k.score} | change |",
                      "| --- | ---: | ---: | ---: |"]  # fmt: skip
            for name in sorted(set(old_scores) | set(new_scores), key=_order(k)):
                old, new = old_scores.get(name), new_scores.get(name)
                lines.append(f"| {name} | {_f(old)} | {_f(new)} | {(new or 0) - (old or 0):+.3f} |")
        return "\n".join(lines) + "\n"


def _scores(metrics: ModelMetrics | Scores) -> Scores:
    return metrics if isinstance(metrics, Scores) else metrics.scores()


def _order(kind: Kind):
    if kind.model == "segment":
        from marketplace.contracts.schemas import CATEGORIES

        return lambda name: (CATEGORIES.index(name) if name in CATEGORIES else 99, name)
    return lambda name: name


def _f(score: float | None) -> str:
    return "–" if score is None else f"{score:.3f}"


def decide(
    candidate: ModelMetrics, production: ModelMetrics | None, params: PromoteParams
) -> Decision:
    """The genre model's gate."""
    return judge(KINDS["genre"], candidate.scores(), production and production.scores(),
                 params.margin, params.per_genre_tolerance)  # fmt: skip


def judge(
    kind: Kind, candidate: Scores, production: Scores | None, margin: float, tolerance: float
) -> Decision:
    """Promote when the headline score gains ``margin`` and no class drops by more than
    ``tolerance`` (a class production had no score for is not held against it)."""
    if production is None:
        return Decision(True, ["no production model yet: the first model is promoted"], kind)
    reasons, ok = [], True
    needed = production.headline + margin
    if candidate.headline >= needed:
        reasons.append(f"{kind.headline} {candidate.headline:.4f} >= production "
                       f"{production.headline:.4f} + margin {margin:g}")  # fmt: skip
    else:
        ok = False
        reasons.append(f"{kind.headline} {candidate.headline:.4f} < production "
                       f"{production.headline:.4f} + margin {margin:g} = {needed:.4f}")  # fmt: skip
    for name, old in sorted(production.per_class.items(), key=lambda item: _order(kind)(item[0])):
        if old is None:
            continue
        new = candidate.per_class.get(name)
        new_value = new if new is not None else 0.0
        drop = old - new_value
        if drop > tolerance + 1e-12:
            ok = False
            reasons.append(f"{name}: {kind.score} fell by {drop:.4f} ({old:.4f} -> "
                           f"{new_value:.4f}), more than the tolerance {tolerance:g}")  # fmt: skip
    if ok:
        reasons.append(f"no {kind.per}'s {kind.score} fell by more than {tolerance:g}")
    return Decision(ok, reasons, kind)


def gate(kind: Kind, params: Params) -> tuple[float, float]:
    """(margin, tolerance) of a model's gate, from params.yaml."""
    if kind.model == "segment":
        return params.segment.promote.margin, params.segment.promote.per_class_tolerance
    if kind.model == "tags":
        return params.tags.promote.margin, params.tags.promote.per_class_tolerance
    if kind.model == "actions":
        return params.actions.promote.margin, params.actions.promote.per_class_tolerance
    return params.promote.margin, params.promote.per_genre_tolerance


def production_metrics(
    ref: str | None, model: str | None, path: Path | None, root: Path, kind: Kind = KINDS["genre"]
) -> Scores | None:
    if path is not None:
        return read_scores(kind, json.loads(path.read_text())) if path.exists() else None
    if model is not None:
        import bentoml
        from bentoml.exceptions import NotFound

        try:
            stored = bentoml.models.get(model)
        except NotFound:
            return None
        return read_scores(kind, stored.info.metadata["metrics"])
    if ref is not None:
        text = file_at(ref, kind.metrics, root)
        return read_scores(kind, json.loads(text)) if text else None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(KINDS), default="genre")
    parser.add_argument("--candidate", type=Path, help="its metrics (default: its stage's)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--production-ref", help="git revision of production's metrics file")
    source.add_argument("--production-model", help="BentoML model tag of production")
    source.add_argument("--production-metrics", type=Path, help="production's metrics file")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--summary", type=Path, help="append the reasoning as markdown here")
    args = parser.parse_args(argv)

    kind = KINDS[args.model]
    margin, tolerance = gate(kind, load_params(args.params))
    candidate_path = args.candidate or args.root / kind.metrics
    candidate = read_scores(kind, json.loads(candidate_path.read_text()))
    production = production_metrics(
        args.production_ref, args.production_model, args.production_metrics, args.root, kind
    )
    decision = judge(kind, candidate, production, margin, tolerance)
    print("PROMOTE" if decision.promote else "REFUSED")
    for reason in decision.reasons:
        print(f"  - {reason}")
    if args.summary is not None:
        with args.summary.open("a") as handle:
            handle.write(decision.markdown(candidate, production))
    return 0 if decision.promote else 1


if __name__ == "__main__":
    sys.exit(main())
