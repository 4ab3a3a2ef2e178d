"""`make demo`'s job, end to end, in a throwaway copy of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def copy_repo(dest: Path) -> Path:
    """The working tree's tracked and new files, as a fresh git repo (DVC needs one)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run([*git, *cmd], cwd=dest, check=True)
    return dest


def test_demo_trains_serves_and_writes_covers(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # the demo must find its own python and dvc
    proc = subprocess.run(
        [sys.executable, "-m", "stack.demo", "--root", str(repo)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = repo / "covers" / "demo"
    assert f"covers and report.json in {out}" in proc.stdout
    assert "noise" in proc.stdout  # the smoke profile says what its output is worth
    report = json.loads((out / "report.json").read_text())
    registered = json.loads((repo / "models" / "registered.json").read_text())
    assert report["definition"]["pipeline"] == "covers"  # run by the engine
    genre = report["steps"]["genre"]["result"]
    assert genre["model"] == registered["tag"]
    assert genre["genre"] == "Reggae"  # the bundled clip is synthetic Reggae
    covers = json.loads((out / "outputs.json").read_text())["covers"]
    for image in covers:
        assert (out / image["png"]["file"]).read_bytes()[:4] == b"\x89PNG"
    assert len(covers) == 3
    assert (
        json.loads((repo / "dvclive" / "evaluate" / "metrics.json").read_text())["accuracy"] >= 0.9
    )
