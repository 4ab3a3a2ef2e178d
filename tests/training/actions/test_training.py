"""The actions stages as `dvc repro` runs them (tests/conftest.py: actions_trained)."""

from __future__ import annotations

import json

import numpy as np

from training.actions.synthetic import CLASSES, NEXT, render, schedule


def test_synthetic_clips_follow_the_grammar_and_are_seeded() -> None:
    a, b = render(3, seconds=6), render(3, seconds=6)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.labels, b.labels)
    assert a.frames.shape == (90, 96, 128, 3) and a.labels[0] == 0
    labels = schedule(np.random.default_rng(0), 3000, 15.0)
    changes = np.flatnonzero(np.diff(labels)) + 1
    for i in changes:
        assert labels[i] in NEXT[int(labels[i - 1])]
    assert set(np.unique(labels)) == set(range(len(CLASSES)))


def test_the_stages_prepare_train_evaluate_and_register(actions_trained: dict) -> None:
    import bentoml

    root = actions_trained["layout"].root
    index = (actions_trained["prepared"] / "index.csv").read_text().splitlines()
    assert index[0] == "clip,split,frames,source" and len(index) == 1 + 6
    metrics = actions_trained["metrics"]
    assert 0 <= metrics["frame_accuracy"] <= 1 and {"f1@0.1", "f1@0.5"} <= metrics.keys()
    assert np.array(metrics["confusion"]).sum() == round(metrics["test_seconds"] * 15)
    stored = bentoml.models.get(actions_trained["tag"])
    assert stored.info.labels["profile"] == "test"
    assert stored.info.metadata["metrics"]["frame_accuracy"] == metrics["frame_accuracy"]
    registered = json.loads((root / "models" / "actions-registered.json").read_text())
    assert registered["tag"] == actions_trained["tag"]


def test_the_committed_pipeline_run_reaches_the_bar() -> None:
    """The issue's bar (frame accuracy >= 0.9 on the synthetic source in a few minutes),
    as the committed `dvc repro` run measured it: its metrics file is the one dvc.lock
    records, from the params committed beside it."""
    import hashlib
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[3]
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    path = "dvclive/actions/evaluate/metrics.json"
    recorded = next(m for m in lock["actions_evaluate"]["outs"] if m["path"] == path)
    content = (root / path).read_bytes()
    assert hashlib.md5(content).hexdigest() == recorded["md5"]
    params = yaml.safe_load((root / "params.yaml").read_text())["actions"]
    assert lock["actions_train"]["params"]["params.yaml"]["actions.train"] == params["train"]
    assert params["data"]["source"] == "synthetic"
    metrics = json.loads(content)
    assert metrics["frame_accuracy"] >= 0.9, metrics["frame_accuracy"]
    assert metrics["training"]["train_seconds"] < 600  # "a few minutes" on two cores
