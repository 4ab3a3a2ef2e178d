"""Drift report: what the genre service saw in production, against the training reference.

    python -m training.drift --current monitoring/ --out reports/drift

Reads the reference (``data/reference/genre.csv``, the ``reference`` DVC stage) and the
monitored requests (the genre service's ``bentoml.monitor`` logs: a folder of
``*.log`` JSON lines, or a CSV), compares every column with Evidently (Kolmogorov-Smirnov
for numbers, chi-square for the predicted genre, both at ``drift.column_threshold``),
writes ``report.html`` and ``report.json``, prints which columns drifted and exits with
status 1 when the data drifted (at least ``drift.drift_share`` of the columns), 2 when
there are fewer than ``drift.min_rows`` monitored requests to judge, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bentos.genre.monitoring import AUDIO_COLUMNS, CATEGORICAL_COLUMNS, MONITOR, PREDICTION_COLUMNS
from training.params import DriftParams, load_params

NUMERICAL = (*AUDIO_COLUMNS, *PREDICTION_COLUMNS)
COLUMNS = (*NUMERICAL, *CATEGORICAL_COLUMNS)


@dataclass(frozen=True)
class DriftResult:
    drifted: bool
    drifted_columns: list[str]
    share: float
    rows: int
    scores: dict[str, str]  # column -> Evidently's description of its test


def load_monitored(path: Path) -> pd.DataFrame:
    """Monitored requests from a CSV, one ``*.log`` file, or a folder of them (the monitor's
    log path, its ``genre_requests`` folder, or its ``data`` folder)."""
    if path.is_file() and path.suffix == ".csv":
        return pd.read_csv(path)
    files = [path] if path.is_file() else sorted(path.rglob("*.log"))
    files = [f for f in files if "schema" not in f.parts]
    records = []
    for file in files:
        for line in file.read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    frame = pd.DataFrame.from_records(records)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if records and missing:
        raise ValueError(f"{path} lacks the monitored columns {missing} (monitor {MONITOR!r})")
    return frame


def compare(
    reference: pd.DataFrame, current: pd.DataFrame, params: DriftParams, out: Path
) -> DriftResult:
    """Run the Evidently report, save it as HTML and JSON, and read its verdict."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=list(NUMERICAL), categorical_columns=list(CATEGORICAL_COLUMNS)
    )
    preset = DataDriftPreset(
        columns=list(COLUMNS),
        drift_share=params.drift_share,
        num_method="ks",
        cat_method="chisquare",
        threshold=params.column_threshold,
    )
    snapshot = Report([preset], include_tests=True).run(
        current_data=Dataset.from_pandas(current[list(COLUMNS)], data_definition=definition),
        reference_data=Dataset.from_pandas(reference[list(COLUMNS)], data_definition=definition),
    )
    out.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(out / "report.html"))
    snapshot.save_json(str(out / "report.json"))
    drifted, scores = [], {}
    for test in snapshot.dict()["tests"]:
        config = test["metric_config"]["params"]
        if "column" in config:
            scores[config["column"]] = test["description"]
            if test["status"] == "FAIL":
                drifted.append(config["column"])
    share = len(drifted) / len(COLUMNS)
    return DriftResult(
        drifted=share >= params.drift_share,
        drifted_columns=drifted,
        share=share,
        rows=len(current),
        scores=scores,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=Path("data/reference/genre.csv"))
    parser.add_argument("--current", type=Path, default=Path("monitoring"))
    parser.add_argument("--out", type=Path, default=Path("reports/drift"))
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    params = load_params(args.params).drift
    reference = pd.read_csv(args.reference)
    current = load_monitored(args.current)
    if len(current) < params.min_rows:
        print(
            f"{len(current)} monitored requests in {args.current}; at least "
            f"{params.min_rows} are needed for a verdict (drift.min_rows)"
        )
        return 2
    result = compare(reference, current, params, args.out)
    print(f"{result.rows} requests against {len(reference)} reference tracks")
    for column in COLUMNS:
        mark = "DRIFT" if column in result.drifted_columns else "ok   "
        print(f"  {mark} {column:<24} {result.scores.get(column, '')}")
    verdict = "drift detected" if result.drifted else "no drift"
    print(
        f"{verdict}: {len(result.drifted_columns)} of {len(COLUMNS)} columns drifted "
        f"({result.share:.0%}; threshold {params.drift_share:.0%}). "
        f"Report: {args.out / 'report.html'}"
    )
    (args.out / "summary.md").write_text(summary_markdown(result, len(reference), params))
    return 1 if result.drifted else 0


def summary_markdown(result: DriftResult, reference_rows: int, params: DriftParams) -> str:
    """The verdict and every column's test, for a workflow summary or an issue."""
    verdict = "Drift detected" if result.drifted else "No drift"
    lines = [
        f"### {verdict} in the genre service's requests",
        "",
        f"{result.rows} monitored requests against {reference_rows} training tracks: "
        f"{len(result.drifted_columns)} of {len(COLUMNS)} columns drifted "
        f"({result.share:.0%}; the data drifts at {params.drift_share:.0%}).",
        "",
        "| column | drifted | test |",
        "| --- | --- | --- |",
    ]
    for column in COLUMNS:
        drifted = "**yes**" if column in result.drifted_columns else "no"
        lines.append(f"| {column} | {drifted} | {result.scores.get(column, '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
