"""The promotion gate: a new genre model replaces production only if it is better.

    python -m training.promote --candidate dvclive/evaluate/metrics.json \
        --production-ref promoted/genre [--summary "$GITHUB_STEP_SUMMARY"]

Promote when the candidate's macro-F1 is at least production's plus ``promote.margin``
and no genre's F1 drops by more than ``promote.per_genre_tolerance`` (both in
params.yaml); the first model ever is promoted. Production's metrics come from a git
revision (the metrics file as it was at the last promotion), a model in the BentoML
model store (its registered metadata), or a file. Prints the reasoning (also as markdown
to ``--summary``) and exits 0 to promote, 1 to refuse.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from training.params import PromoteParams, load_params
from training.revisions import file_at

METRICS = "dvclive/evaluate/metrics.json"


class GenreScore(BaseModel):
    f1: float = Field(ge=0, le=1)
    support: int | None = None


class ModelMetrics(BaseModel):
    """The evaluate stage's metrics that the gate reads."""

    f1_macro: float = Field(ge=0, le=1)
    accuracy: float | None = None
    per_genre: dict[str, GenreScore]


@dataclass
class Decision:
    promote: bool
    reasons: list[str] = field(default_factory=list)

    def markdown(self, candidate: ModelMetrics, production: ModelMetrics | None) -> str:
        verdict = "**Promote**" if self.promote else "**Keep production**"
        lines = [f"### Promotion gate: {verdict}", ""]
        lines += [f"- {reason}" for reason in self.reasons]
        if production is not None:
            lines += [
                "",
                "| genre | production F1 | candidate F1 | change |",
                "| --- | ---: | ---: | ---: |",
            ]
            for genre in sorted(set(production.per_genre) | set(candidate.per_genre)):
                old = production.per_genre.get(genre)
                new = candidate.per_genre.get(genre)
                lines.append(
                    f"| {genre} | {_f(old)} | {_f(new)} | "
                    f"{(new.f1 if new else 0) - (old.f1 if old else 0):+.3f} |"
                )
        return "\n".join(lines) + "\n"


def _f(score: GenreScore | None) -> str:
    return f"{score.f1:.3f}" if score else "–"


def decide(
    candidate: ModelMetrics, production: ModelMetrics | None, params: PromoteParams
) -> Decision:
    if production is None:
        return Decision(True, ["no production model yet: the first model is promoted"])
    reasons, ok = [], True
    needed = production.f1_macro + params.margin
    if candidate.f1_macro >= needed:
        reasons.append(
            f"macro-F1 {candidate.f1_macro:.4f} >= production {production.f1_macro:.4f} "
            f"+ margin {params.margin:g}"
        )
    else:
        ok = False
        reasons.append(
            f"macro-F1 {candidate.f1_macro:.4f} < production {production.f1_macro:.4f} "
            f"+ margin {params.margin:g} = {needed:.4f}"
        )
    for genre, old in sorted(production.per_genre.items()):
        new = candidate.per_genre.get(genre)
        new_f1 = new.f1 if new is not None else 0.0
        drop = old.f1 - new_f1
        if drop > params.per_genre_tolerance + 1e-12:
            ok = False
            reasons.append(
                f"{genre}: F1 fell by {drop:.4f} ({old.f1:.4f} -> {new_f1:.4f}), more than "
                f"the tolerance {params.per_genre_tolerance:g}"
            )
    if ok:
        reasons.append(f"no genre's F1 fell by more than {params.per_genre_tolerance:g}")
    return Decision(ok, reasons)


def production_metrics(
    ref: str | None, model: str | None, path: Path | None, root: Path
) -> ModelMetrics | None:
    if path is not None:
        return ModelMetrics.model_validate_json(path.read_text()) if path.exists() else None
    if model is not None:
        import bentoml
        from bentoml.exceptions import NotFound

        try:
            stored = bentoml.models.get(model)
        except NotFound:
            return None
        return ModelMetrics.model_validate(stored.info.metadata["metrics"])
    if ref is not None:
        text = file_at(ref, METRICS, root)
        return ModelMetrics.model_validate_json(text) if text else None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", type=Path, default=Path(METRICS))
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--production-ref", help="git revision of production's metrics file")
    source.add_argument("--production-model", help="BentoML model tag of production")
    source.add_argument("--production-metrics", type=Path, help="production's metrics file")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--summary", type=Path, help="append the reasoning as markdown here")
    args = parser.parse_args(argv)

    params = load_params(args.params).promote
    candidate = ModelMetrics.model_validate(json.loads(args.candidate.read_text()))
    production = production_metrics(
        args.production_ref, args.production_model, args.production_metrics, args.root
    )
    decision = decide(candidate, production, params)
    print("PROMOTE" if decision.promote else "REFUSED")
    for reason in decision.reasons:
        print(f"  - {reason}")
    if args.summary is not None:
        with args.summary.open("a") as handle:
            handle.write(decision.markdown(candidate, production))
    return 0 if decision.promote else 1


if __name__ == "__main__":
    sys.exit(main())
