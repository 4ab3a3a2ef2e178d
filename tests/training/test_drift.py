"""Drift: the reference stage, and the report on same-distribution and shifted requests.

The reference is the real stage run on the session's trained model; "production" is the
other tracks of the same synthetic recipes, summarised by the service's own monitoring
code, then the same tracks played louder and brighter.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bentos.common.audio import decode_audio
from bentos.genre.features import window_features
from bentos.genre.model_files import GenreModel, track_probabilities
from bentos.genre.monitoring import (
    COLUMNS,
    audio_summary,
    prediction_summary,
    record,
    safe_audio_summary,
)
from marketplace.contracts.schemas import GENRES
from training import drift, reference
from training.datasets import read_tracks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference_csv(trained: dict) -> Path:
    layout = trained["layout"]
    count = reference.run(trained["params"], layout)
    assert count == sum(t.split == "train" for t in read_tracks(layout.tracks_csv))
    return layout.reference_csv


def production(trained: dict, gain: float = 1.0, brighten: bool = False) -> pd.DataFrame:
    """The val and test tracks as the service would log them, optionally altered."""
    layout = trained["layout"]
    model = GenreModel.load(layout.model_dir)
    config = model.config.features
    rows = []
    for track in read_tracks(layout.tracks_csv):
        if track.split == "train":
            continue
        samples = decode_audio(
            layout.resolve(track.path), sample_rate=config.sample_rate, channels=1
        ).samples
        if brighten:  # a first difference boosts the highs: a brighter, thinner sound
            samples = np.diff(samples, axis=1, prepend=0.0) * 4
        samples = np.clip(samples * gain, -1, 1).astype(np.float32)
        probs = track_probabilities(model.window_probabilities(window_features(samples, config)))
        rows.append({
            **audio_summary(samples, config.sample_rate),
            **prediction_summary(dict(zip(model.config.labels, map(float, probs), strict=True))),
        })  # fmt: skip
    return pd.DataFrame(rows)


def test_the_reference_has_every_monitored_column(reference_csv: Path) -> None:
    with reference_csv.open() as handle:
        header = next(csv.reader(handle))
    assert header == ["track_id", *COLUMNS]
    frame = pd.read_csv(reference_csv)
    assert frame["top_probability"].between(0, 1).all()
    assert set(frame["genre"]) <= set(GENRES)


def test_same_distribution_passes(trained: dict, reference_csv: Path, tmp_path: Path) -> None:
    ref = pd.read_csv(reference_csv)
    result = drift.compare(ref, production(trained), trained["params"].drift, tmp_path)
    assert not result.drifted, result
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert (tmp_path / "report.json").exists()


def test_louder_brighter_audio_is_flagged(
    trained: dict, reference_csv: Path, tmp_path: Path
) -> None:
    ref = pd.read_csv(reference_csv)
    shifted = production(trained, gain=4.0, brighten=True)
    result = drift.compare(ref, shifted, trained["params"].drift, tmp_path)
    assert result.drifted
    assert {"loudness_db", "spectral_centroid_hz", "energy_high"} <= set(result.drifted_columns)


def test_the_command_exits_1_on_drift(
    trained: dict, reference_csv: Path, tmp_path: Path, capsys
) -> None:
    # (the service test checks that the service's monitor logs are read the same way)
    current = tmp_path / "current.csv"
    production(trained, gain=4.0, brighten=True).to_csv(current, index=False)
    params = tmp_path / "params.yaml"
    params.write_text("drift:\n  min_rows: 10\n")
    out = tmp_path / "r"
    args = ["--reference", str(reference_csv), "--current", str(current), "--out", str(out),
            "--params", str(params)]  # fmt: skip
    assert drift.main(args) == 1
    printed = capsys.readouterr().out
    assert "drift detected" in printed and "DRIFT loudness_db" in printed
    assert (out / "report.html").exists()
    summary = (out / "summary.md").read_text()
    assert summary.startswith("### Drift detected") and "| loudness_db | **yes** |" in summary


def test_too_few_requests_give_no_verdict(reference_csv: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    args = ["--reference", str(reference_csv), "--current", str(tmp_path / "empty")]
    assert drift.main(args) == 2
    assert "at least 30 are needed" in capsys.readouterr().out


def test_monitoring_never_raises(tmp_path: Path) -> None:
    record({"loudness_db": 1.0}, {"Rock": 1.0}, tmp_path)  # columns missing: logged, no raise
    assert safe_audio_summary(np.array(["not", "audio"]), 22050) is None
