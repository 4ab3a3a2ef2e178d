"""The promotion gate's rules, and its command on real metrics files and git revisions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from training.params import PromoteParams
from training.promote import KINDS, METRICS, ModelMetrics, decide, judge, main, read_scores

PARAMS = PromoteParams(margin=0.01, per_genre_tolerance=0.05)


def metrics(macro: float, **f1: float) -> ModelMetrics:
    genres = {"Rock": 0.8, "Jazz": 0.8, "Metal": 0.8} | f1
    return ModelMetrics(
        f1_macro=macro, per_genre={g: {"f1": v, "support": 10} for g, v in genres.items()}
    )


def test_the_first_model_ever_is_promoted() -> None:
    decision = decide(metrics(0.2), None, PARAMS)
    assert decision.promote and "first model" in decision.reasons[0]


def test_a_better_model_is_promoted() -> None:
    decision = decide(metrics(0.85, Rock=0.82), metrics(0.80), PARAMS)
    assert decision.promote
    assert "0.8500 >= production 0.8000" in decision.reasons[0]


def test_a_worse_model_is_refused() -> None:
    decision = decide(metrics(0.78), metrics(0.80), PARAMS)
    assert not decision.promote
    assert "macro-F1 0.7800 < production 0.8000 + margin 0.01 = 0.8100" in decision.reasons[0]


def test_a_genre_that_regresses_is_refused_although_macro_f1_rose() -> None:
    decision = decide(metrics(0.90, Jazz=0.70), metrics(0.80), PARAMS)
    assert not decision.promote
    assert any(r.startswith("Jazz: F1 fell by 0.1000") for r in decision.reasons)
    assert decide(metrics(0.90, Jazz=0.76), metrics(0.80), PARAMS).promote  # within tolerance


def test_a_genre_the_candidate_lost_counts_as_a_drop() -> None:
    candidate = ModelMetrics(f1_macro=0.9, per_genre={"Rock": {"f1": 0.9}})
    assert not decide(candidate, metrics(0.80), PARAMS).promote


def test_ties_follow_the_margin() -> None:
    assert not decide(metrics(0.80), metrics(0.80), PARAMS).promote  # needs +0.01
    assert decide(metrics(0.80), metrics(0.80), PromoteParams(margin=0.0)).promote
    assert decide(metrics(0.81), metrics(0.80), PARAMS).promote  # exactly the margin


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)  # fmt: skip


def write_metrics(root: Path, m: ModelMetrics) -> Path:
    path = root / METRICS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"accuracy": 0.9, **m.model_dump(mode="json")}))
    return path


def test_the_command_reads_production_at_a_git_revision(tmp_path: Path, capsys) -> None:
    git(tmp_path, "init", "-q")
    write_metrics(tmp_path, metrics(0.80))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "production")
    git(tmp_path, "tag", "promoted/genre")
    candidate = write_metrics(tmp_path, metrics(0.70))
    summary = tmp_path / "summary.md"
    args = ["--candidate", str(candidate), "--production-ref", "promoted/genre",
            "--root", str(tmp_path), "--params", str(tmp_path / "none.yaml"),
            "--summary", str(summary)]  # fmt: skip
    assert main(args) == 1
    assert "REFUSED" in capsys.readouterr().out
    text = summary.read_text()
    assert "Keep production" in text and "| Rock | 0.800 | 0.800 | +0.000 |" in text
    # no such revision yet (the first promotion): promoted
    args[3] = "no-such-ref"
    assert main(args) == 0


def test_the_command_reads_production_from_the_model_store(trained: dict, tmp_path) -> None:
    candidate = write_metrics(tmp_path, ModelMetrics.model_validate(trained["metrics"]))
    defaults = ["--params", str(tmp_path / "none.yaml")]
    same = ["--candidate", str(candidate), "--production-model", trained["tag"], *defaults]
    assert main(same) == 1  # a tie: the margin is not gained
    missing = ["--candidate", str(candidate), "--production-model", "genre:nosuch", *defaults]
    assert main(missing) == 0  # no production model in the store: the first is promoted


@pytest.mark.parametrize("flag", ["--production-ref", "--production-model"])
def test_one_production_source_at_a_time(flag: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--production-metrics", str(tmp_path), flag, "x"])


def segment_metrics(miou: float, **iou: float | None) -> dict:
    per = {c: 0.8 for c in ("void", "flat", "construction", "object", "nature", "sky")}
    return {
        "miou": miou,
        "pixel_accuracy": 0.9,
        "iou": {**per, "human": 0.6, "vehicle": 0.7, **iou},
    }


def test_the_segmentation_gate_reads_the_mean_iou_and_each_category(
    segment_trained: dict, tmp_path: Path, capsys
) -> None:
    kind = KINDS["segment"]
    production = read_scores(kind, segment_metrics(0.80))
    better = read_scores(kind, segment_metrics(0.82))
    assert judge(kind, better, production, 0.005, 0.03).promote
    worse_people = read_scores(kind, segment_metrics(0.82, human=0.5))
    decision = judge(kind, worse_people, production, 0.005, 0.03)
    assert not decision.promote
    assert "human: IoU fell by 0.1000 (0.6000 -> 0.5000)" in " ".join(decision.reasons)
    assert "| category | production IoU |" in decision.markdown(worse_people, production)
    # a category production never saw (no test image had it) is not held against it
    unseen = read_scores(kind, segment_metrics(0.80, void=None))
    assert judge(
        kind, read_scores(kind, segment_metrics(0.81, void=0.0)), unseen, 0.005, 0.03
    ).promote
    # the command, on the stage's real metrics against a stored model's
    root = segment_trained["layout"].root
    same = ["--model", "segment", "--root", str(root), "--params", str(tmp_path / "none.yaml"),
            "--production-model", segment_trained["tag"]]  # fmt: skip
    assert main(same) == 1  # a tie: the margin is not gained
    assert "mean IoU" in capsys.readouterr().out
    first = [*same[:-1], "segment:nosuch"]
    assert main(first) == 0


def test_the_tags_gate_reads_the_weighted_f1_and_each_class(
    tags_trained: dict, tmp_path: Path, capsys
) -> None:
    kind = KINDS["tags"]

    def scores(weighted: float, **per_class: float):
        classes = {"Genres": 0.6, "Instruments": 0.5, "Moods": 0.55} | per_class
        return read_scores(kind, {"weighted_f1": weighted, "per_class": classes})

    production = scores(0.55)
    assert judge(kind, scores(0.56), production, 0.005, 0.02).promote
    fewer_moods = scores(0.57, Moods=0.5)
    decision = judge(kind, fewer_moods, production, 0.005, 0.02)
    assert not decision.promote
    assert "Moods: weighted F1 fell by 0.0500" in " ".join(decision.reasons)
    assert "| class | production weighted F1 |" in decision.markdown(fewer_moods, production)
    root = tags_trained["layout"].root  # the command, on the stage's own metrics
    same = ["--model", "tags", "--root", str(root), "--params", str(tmp_path / "none.yaml"),
            "--production-model", tags_trained["tag"]]  # fmt: skip
    assert main(same) == 1  # a tie: the margin is not gained
    assert "weighted F1" in capsys.readouterr().out
    assert main([*same[:-1], "tags:nosuch"]) == 0


def test_the_actions_gate_reads_the_frame_accuracy_and_each_action(
    actions_trained: dict, tmp_path: Path, capsys
) -> None:
    kind = KINDS["actions"]
    metrics = actions_trained["metrics"]
    production = read_scores(kind, metrics)
    worse = read_scores(kind, {**metrics, "per_class": {**metrics["per_class"],
                                                          "background": 0.0}})  # fmt: skip
    decision = judge(kind, worse, production, 0.0, 0.03)
    assert not decision.promote and "background: frame recall fell" in " ".join(decision.reasons)
    root = actions_trained["layout"].root  # the command, on the stage's own metrics
    same = ["--model", "actions", "--root", str(root), "--params", str(tmp_path / "none.yaml"),
            "--production-model", actions_trained["tag"]]  # fmt: skip
    assert main(same) == 1  # a tie: the margin is not gained
    assert "frame accuracy" in capsys.readouterr().out
