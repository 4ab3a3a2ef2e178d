"""The training pipeline on synthetic data: splits, learnability, metrics, registration."""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import bentoml
import pytest
import yaml

from bentos.genre.model_files import GenreModel
from marketplace.contracts.schemas import GENRES
from training.datasets import Track
from training.params import load_params
from training.prepare import genre_of_folder, index_fma, index_gtzan, split_tracks

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_split_is_by_track_stratified_and_seeded() -> None:
    tracks = [Track(f"t{g}{i}", g, f"{g}/{i}.wav") for g in GENRES for i in range(10)]
    data = load_params(None).data
    split = split_tracks(tracks, data)
    assert sorted(t.track_id for t in split) == sorted(t.track_id for t in tracks)
    for genre in GENRES:
        counts = {
            s: sum(t.genre == genre and t.split == s for t in split)
            for s in ("train", "val", "test")
        }
        assert counts == {"train": 6, "val": 2, "test": 2}
    assert split == split_tracks(tracks, data)  # seeded

    def test_ids(seed: int) -> set[str]:
        chosen = split_tracks(tracks, data.model_copy(update={"seed": seed}))
        return {t.track_id for t in chosen if t.split == "test"}

    assert test_ids(data.seed) != test_ids(7)


def test_no_artist_is_in_two_splits() -> None:
    tracks = [
        Track(f"t{g}{a}{i}", g, f"{g}/{a}/{i}.mp3", group=f"artist-{g}-{a}")
        for g in GENRES
        for a in range(6)
        for i in range(1 + a % 3)
    ]
    split = split_tracks(tracks, load_params(None).data)
    splits_of = {}
    for t in split:
        splits_of.setdefault(t.group, set()).add(t.split)
    assert all(len(s) == 1 for s in splits_of.values())
    for genre in GENRES:
        assert {t.split for t in split if t.genre == genre} == {"train", "val", "test"}


def test_gtzan_layout_is_indexed_with_folder_names(tmp_path: Path) -> None:
    for folder in ("hiphop", "rock", "not-a-genre"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{folder}.00000.wav").write_bytes(b"RIFF")
    tracks = index_gtzan(tmp_path)
    assert {t.genre for t in tracks} == {"Hip-Hop", "Rock"}
    assert genre_of_folder("ELECTRONIC") == "Electronic"
    with pytest.raises(FileNotFoundError, match="synthetic"):
        index_gtzan(tmp_path / "missing")


def test_fma_metadata_adds_tracks_of_our_genres_with_artist_groups(tmp_path: Path) -> None:
    rows = [
        ["", "artist", "set", "track"],
        ["", "id", "subset", "genre_top"],
        ["track_id", "", "", ""],
        ["2", "10", "small", "Hip-Hop"],
        ["3", "10", "medium", "Hip-Hop"],
        ["5", "11", "medium", "Electronic"],
        ["7", "12", "large", "Electronic"],  # not in fma_medium
        ["9", "13", "medium", "Folk"],  # not one of our genres
        ["11", "14", "medium", "Electronic"],  # audio file missing
    ]
    metadata = tmp_path / "tracks.csv"
    metadata.write_text("\n".join(",".join(r) for r in rows) + "\n")
    audio = tmp_path / "fma_medium"
    for tid in (2, 3, 5, 7, 9):
        path = audio / f"{tid:06d}"[:3] / f"{tid:06d}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ID3")
    tracks = index_fma(metadata, audio, max_per_genre=10, seed=0)
    assert {(t.track_id, t.genre, t.group) for t in tracks} == {
        ("fma/2", "Hip-Hop", "fma-artist/10"),
        ("fma/3", "Hip-Hop", "fma-artist/10"),
        ("fma/5", "Electronic", "fma-artist/11"),
    }
    assert len(index_fma(metadata, audio, max_per_genre=1, seed=0)) == 2


def test_synthetic_training_is_learnable(trained: dict) -> None:
    metrics = trained["metrics"]
    assert metrics["accuracy"] >= 0.9
    assert metrics["f1_macro"] >= 0.9
    assert set(metrics["per_genre"]) == set(GENRES)
    for genre in GENRES:
        assert set(metrics["per_genre"][genre]) == {"precision", "recall", "f1", "support"}


def test_no_track_in_two_splits(trained: dict) -> None:
    with trained["layout"].tracks_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["track_id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"train", "val", "test"}


def test_evaluation_outputs_for_dvc(trained: dict) -> None:
    layout = trained["layout"]
    metrics = json.loads(layout.metrics_json.read_text())
    assert metrics["accuracy"] == trained["metrics"]["accuracy"]
    confusion = json.loads(
        (layout.eval_live_dir / "plots" / "sklearn" / "confusion_matrix.json").read_text()
    )
    assert {"actual", "predicted"} <= set(confusion[0])
    assert (layout.train_live_dir / "plots" / "metrics" / "val" / "f1_macro.tsv").exists()


def test_registered_model_carries_its_lineage(trained: dict) -> None:
    model = bentoml.models.get(trained["tag"])
    assert model.info.labels["profile"] == "test"
    assert model.info.labels["source"] == "synthetic"
    meta = model.info.metadata
    assert set(meta) >= {"git_sha", "data_sha256", "params", "metrics"}
    assert len(meta["data_sha256"]) == 64
    assert meta["params"]["model"]["widths"] == [8, 16, 32, 64, 128]
    loaded = GenreModel.load(model.path)
    assert loaded.config.labels == GENRES
    assert loaded.config.features == trained["params"].features


def test_every_stage_declares_the_params_it_reads() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    declared = {name: set(stage.get("params", [])) for name, stage in stages.items()}
    assert {"features.sample_rate", "data"} <= declared["prepare"]
    assert {"features", "featurize"} <= declared["featurize"]
    assert {"features", "model", "train"} <= declared["train"]
    assert {"registry", "data.source"} <= declared["register"]
    assert {"segment.data"} <= declared["segment_prepare"]
    assert {"segment.data", "segment.model", "segment.train"} <= declared["segment_train"]
    assert {"segment.compare"} <= declared["segment_compare"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    loaded = load_params(ROOT / "params.yaml").model_dump(mode="json")
    assert loaded["features"] == params["features"]


def project_files(module: str) -> set[str]:
    """Source files of the project that ``module`` imports, transitively."""
    seen: set[str] = set()
    stack = [module]
    while stack:
        name = stack.pop()
        for candidate in (ROOT / (name.replace(".", "/") + ".py"),):
            rel = str(candidate.relative_to(ROOT))
            if not candidate.exists() or rel in seen:
                continue
            seen.add(rel)
            for node in ast.walk(ast.parse(candidate.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                stack += [n for n in names if n.split(".")[0] in ("bentos", "training")]
    return seen


STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_stage_depends_on_the_code_it_runs(stage: str) -> None:
    spec = STAGES[stage]
    module = spec["cmd"].removeprefix("python -m ")
    assert module == f"training.{stage.replace('_', '.')}", spec["cmd"]
    deps = set(spec["deps"])
    missing = {
        f
        for f in project_files(module)
        if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps)
    }
    assert not missing, f"dvc.yaml stage {stage} lacks deps: {sorted(missing)}"


def test_featurize_depends_on_the_raw_audio() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "data/raw" in stages["featurize"]["deps"]
