"""The pull-request training report, built from a branch and its base in a real git repo."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from PIL import Image

from training.promote import METRICS
from training.report import CONFUSION, main

GENRES = ["Jazz", "Metal", "Rock"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)  # fmt: skip


def write_run(root: Path, lr: float, f1: dict[str, float], confused: int = 0) -> None:
    (root / "params.yaml").write_text(f"train:\n  lr: {lr}\n  batch_size: 32\n")
    macro = sum(f1.values()) / len(f1)
    metrics = {"accuracy": macro, "f1_macro": macro, "test_tracks": 30,
               "per_genre": {g: {"f1": v, "support": 10} for g, v in f1.items()}}  # fmt: skip
    (root / METRICS).parent.mkdir(parents=True, exist_ok=True)
    (root / METRICS).write_text(json.dumps(metrics))
    pairs = [{"actual": g, "predicted": g} for g in GENRES for _ in range(10)]
    for i in range(confused):
        pairs[i]["predicted"] = "Metal"
    (root / CONFUSION).parent.mkdir(parents=True, exist_ok=True)
    (root / CONFUSION).write_text(json.dumps(pairs))


def test_the_report_compares_the_branch_with_its_base(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    write_run(tmp_path, 0.002, {"Jazz": 0.9, "Metal": 0.8, "Rock": 0.85})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    write_run(tmp_path, 0.001, {"Jazz": 0.7, "Metal": 0.95, "Rock": 0.9}, confused=3)
    out = tmp_path / "report"
    assert main(["--base", "main", "--root", str(tmp_path), "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "| `train.lr` | 0.002 | 0.001 |" in text and "batch_size" not in text
    assert "| f1_macro | 0.8500 | 0.8500 |" in text
    assert "| Jazz | 10 | 0.9000 | 0.7000 | -0.2000 |" in text
    assert "![confusion matrix](confusion_matrix.png)" in text
    # the gate's verdict if merged: Jazz fell by more than the tolerance
    assert "Keep production" in text and "Jazz: F1 fell by 0.2000" in text
    image = Image.open(out / "confusion_matrix.png")
    assert image.size[0] == image.size[1] > 200


def test_a_first_training_has_no_baseline(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "README").write_text("empty main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "start")
    write_run(tmp_path, 0.002, {"Jazz": 0.9, "Metal": 0.8, "Rock": 0.85})
    main(["--base", "main", "--root", str(tmp_path), "--out", str(tmp_path / "r")])
    text = (tmp_path / "r" / "report.md").read_text()
    assert "No params.yaml on the base branch" in text
    assert "| Jazz | 10 | – | 0.9000 | – |" in text and "first model is promoted" in text


def test_the_report_has_the_segmentation_model_when_it_was_trained(
    tmp_path: Path, segment_trained: dict
) -> None:
    import shutil

    git(tmp_path, "init", "-q", "-b", "main")
    write_run(tmp_path, 0.002, {"Jazz": 0.9, "Metal": 0.8, "Rock": 0.85})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base: no segmentation model yet")
    shutil.copytree(segment_trained["layout"].root / "dvclive", tmp_path / "dvclive",
                    dirs_exist_ok=True)  # fmt: skip
    main(["--base", "main", "--root", str(tmp_path), "--out", str(tmp_path / "r")])
    text = (tmp_path / "r" / "report.md").read_text()
    assert "# Segmentation model: this branch against `main`" in text
    miou = segment_trained["metrics"]["miou"]
    assert f"| miou | – | {miou:.4f} | – |" in text
    assert "| human | – |" in text and "## Models and losses compared" in text
    assert "| unet-ce | unet | random | ce |" in text
    assert (tmp_path / "r" / "segment_confusion_matrix.png").is_file()
    assert text.count("first model is promoted") == 1  # segment's; genre has a base


def test_the_report_has_the_tags_model_when_it_was_trained(
    tmp_path: Path, tags_trained: dict
) -> None:
    import shutil

    git(tmp_path, "init", "-q", "-b", "main")
    write_run(tmp_path, 0.002, {"Jazz": 0.9, "Metal": 0.8, "Rock": 0.85})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base: no tags model yet")
    shutil.copytree(tags_trained["layout"].root / "dvclive", tmp_path / "dvclive",
                    dirs_exist_ok=True)  # fmt: skip
    with (tmp_path / "params.yaml").open("a") as params:  # a tags parameter the base lacks
        params.write("tags:\n  registry_name: tags-candidate\n")
    main(["--base", "main", "--root", str(tmp_path), "--out", str(tmp_path / "r")])
    text = (tmp_path / "r" / "report.md").read_text()
    assert "# Tag-decision model: this branch against `main`" in text
    assert text.count("| `tags.registry_name` |") == 1  # in the tags section only
    metrics = tags_trained["metrics"]
    assert f"| weighted_f1 | – | {metrics['weighted_f1']:.4f} | – |" in text
    assert "| Moods | – |" in text and "## Methods compared" in text
    gain = metrics["compare"]["linear"]
    assert f"{gain['difference']:+.4f} ({gain['low']:+.4f} to {gain['high']:+.4f})" in text
    assert f"| {metrics['method']} (registered) |" in text
    assert (tmp_path / "r" / "tags_calibration.png").is_file()
    assert text.count("first model is promoted") == 1  # tags'; genre has a base
    assert "`tags." not in text.split("# Tag-decision model")[0]  # not among genre's params


def test_the_report_has_the_action_model_when_it_was_trained(
    tmp_path: Path, actions_trained: dict
) -> None:
    import shutil

    git(tmp_path, "init", "-q", "-b", "main")
    write_run(tmp_path, 0.002, {"Jazz": 0.9, "Metal": 0.8, "Rock": 0.85})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base: no action model yet")
    shutil.copytree(actions_trained["layout"].root / "dvclive", tmp_path / "dvclive",
                    dirs_exist_ok=True)  # fmt: skip
    main(["--base", "main", "--root", str(tmp_path), "--out", str(tmp_path / "r")])
    text = (tmp_path / "r" / "report.md").read_text()
    assert "# Action model: this branch against `main`" in text
    accuracy = actions_trained["metrics"]["frame_accuracy"]
    assert f"| frame_accuracy | – | {accuracy:.4f} | – |" in text
    assert (tmp_path / "r" / "actions_confusion_matrix.png").is_file()
    assert text.count("first model is promoted") == 1
