"""The shipped pipelines, run by the engine against the smoke stack (tiny random models:
the outputs are meaningless, the paths they take are the real ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace import run
from marketplace.cli import main
from marketplace.engine import StepCache
from marketplace.runner import PIPELINES_DIR
from tests.conftest import DEMO_SONG


@pytest.fixture
def stack_env(smoke_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for service, url in smoke_stack.items():
        monkeypatch.setenv(f"MARKETPLACE_{service.upper()}_URL", url)
    monkeypatch.setenv("COLUMNS", "160")
    return smoke_stack


def test_marketplace_run_lyrics_report_writes_its_outputs_and_report(
    stack_env: dict[str, str], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    assert main(["run", "lyrics-report", "--in", f"audio={DEMO_SONG}", "--out", str(out)]) == 0
    assert "lyrics-report@1 done" in capsys.readouterr().out
    outputs = json.loads((out / "outputs.json").read_text())
    assert set(outputs) == {"transcript", "language", "emotions", "sentiment", "keywords", "story"}
    assert isinstance(outputs["transcript"], str) and outputs["story"]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "done" and report["definition"]["pipeline"] == "lyrics-report"
    for step in report["steps"].values():
        assert step["status"] in ("finished", "skipped")
        if step["status"] == "finished":
            assert step["attempts"] == 1 and step["seconds"] > 0 and step["result"]


def test_the_covers_pipeline_paints_from_a_file_and_from_a_youtube_address(
    stack_env: dict[str, str], audio_site: str, tmp_path: Path
) -> None:
    report = run("covers", audio=DEMO_SONG, steps=2, size=256, models=["sd2-base"])
    assert report.status == "done", report.failure
    assert report.steps["fetch"].status == "skipped"
    (cover,) = report.outputs["covers"]
    assert cover["model"] == "sd2-base" and cover["png"]
    report = run("covers", url=f"{audio_site}/song.mp3", steps=2, size=256, models=["sd2-base"])
    assert report.status == "done", report.failure
    assert report.steps["fetch"].status == "finished"
    assert report.steps["transcribe"].status == "finished"


def test_every_shipped_pipeline_runs_and_a_cached_rerun_calls_nothing(
    stack_env: dict[str, str], audio_site: str, tmp_path: Path
) -> None:
    from PIL import Image

    from training.segment.synthetic import scene

    photo = tmp_path / "street.jpg"
    Image.fromarray(scene(21, 128, 256)[0]).save(photo)
    scores = tagger_scores(tmp_path / "scores.csv")
    shop = shop_video(tmp_path / "shop.mp4")
    inputs = {
        "song-profile": {"audio": DEMO_SONG},
        "youtube-story": {"url": f"{audio_site}/song.mp3"},
        "lyrics-report": {"audio": DEMO_SONG},
        "covers": {"audio": DEMO_SONG, "steps": 2, "size": 256, "models": ["sd2-base"]},
        "street-poster": {"photo": photo, "steps": 1, "models": ["sd2-base"]},
        "catalogue-tags": {"scores": scores},
        "shop-actions": {"video": shop},
    }
    assert set(inputs) == {p.stem for p in PIPELINES_DIR.glob("*.yaml")}
    cache = tmp_path / "cache"
    for name, given in inputs.items():
        report = run(name, cache=cache, **given)
        assert report.status == "done", (name, report.failure)
        if name == "catalogue-tags":  # a trained smoke model: tracks get tags
            tracks = report.outputs["tracks"]
            assert [t["id"] for t in tracks] == ["track-0", "track-1", "track-2"]
            assert any(t["tags"] for t in tracks)
    again = run("song-profile", cache=cache, audio=DEMO_SONG)
    assert all(s.cached for s in again.steps.values() if s.status == "finished")
    assert len(list(StepCache(cache).folder.glob("*.json"))) >= 8


def shop_video(path: Path) -> Path:
    """Four seconds of a synthetic shop clip, as an mp4."""
    from bentos.actions.video import write
    from training.actions.synthetic import render

    clip = render(9, seconds=4, fps=15, height=96, width=128)
    return write(path, clip.frames, clip.fps)


def tagger_scores(path: Path) -> Path:
    """Three tracks of the synthetic catalogue (the smoke model's tags), as the challenge's
    CSV: a row id, then a column per tag and category."""
    from training.tags.synthetic import catalogue

    c = catalogue(3, seed=5)
    lines = [",".join(["id", *c.tags, *c.categories])]
    for i in range(3):
        values = [*c.scores[i], *c.category_scores[i]]
        lines.append(",".join([f"track-{i}", *(f"{v:.5f}" for v in values)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_failed_step_is_named_and_the_exit_status_is_1(
    stack_env: dict[str, str], tmp_path: Path, capsys
) -> None:
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("these are not sounds")
    out = tmp_path / "out"
    assert main(["run", "song-profile", "--in", f"audio={not_audio}", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "step 'genre' failed: genre service answered" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and report["failure"]["step"] == "genre"
    assert 400 <= report["failure"]["status"] < 500
    assert main(["run", "song-profile", "--out", str(out)]) == 2  # input missing: nothing ran
