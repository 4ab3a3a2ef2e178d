"""make bentos: every Bento builds, versioned from git, with only what its service needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bentos.build import SERVICES, BentoSpec, changed_services, main
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
# packages each image must carry, and ones it must not (what another service needs)
NEEDS = {
    "youtube": ({"yt-dlp", "deno", "imageio-ffmpeg"}, {"torch", "diffusers", "transformers"}),
    "transcribe": ({"torch", "openai-whisper"}, {"diffusers", "yt-dlp", "pysentimiento"}),
    "genre": ({"torch", "imageio-ffmpeg"}, {"diffusers", "transformers", "openai-whisper"}),
    "lyrics": ({"pysentimiento", "spacy"}, {"diffusers", "openai-whisper", "yt-dlp"}),
    "summarize": ({"transformers"}, {"diffusers", "openai-whisper", "yt-dlp", "pysentimiento"}),
    "art": ({"diffusers", "compel", "torch"}, {"openai-whisper", "yt-dlp", "pysentimiento"}),
    "segment": (
        {"torch", "transformers", "pillow"},
        {"diffusers", "openai-whisper", "yt-dlp", "imageio-ffmpeg"},
    ),
    "tags": ({"numpy", "pydantic"}, {"torch", "transformers", "diffusers", "imageio-ffmpeg"}),
    "actions": ({"torch", "av", "opencv-python-headless"}, {"diffusers", "transformers", "yt-dlp"}),
    "core_engine": (
        {"fastapi", "aiobotocore", "httpx", "cel-python"},
        {"torch", "diffusers", "transformers", "openai-whisper", "yt-dlp"},
    ),
    "studio": (
        {"fastapi", "diffusers", "openai-whisper", "yt-dlp", "cel-python", "jsonschema", "dbos"},
        set(),
    ),
}


def requirements(bento_home: Path, tag: str) -> set[str]:
    name, version = tag.split(":")
    text = (bento_home / "bentos" / name / version / "env/python/requirements.txt").read_text()
    return {re.split(r"[\[<>=!~ ]", line.strip())[0].lower() for line in text.splitlines()
            if line.strip() and not line.startswith("#")}  # fmt: skip


@pytest.fixture(scope="module")
def built(
    trained: dict, segment_trained: dict, tags_trained: dict, actions_trained: dict,
    bentoml_home: Path,
) -> list[str]:  # fmt: skip
    env = {**os.environ, "GENRE_MODEL_TAG": trained["tag"],
           "SEGMENT_MODEL_TAG": segment_trained["tag"],
           "TAGS_MODEL_TAG": tags_trained["tag"],
           "ACTIONS_MODEL_TAG": actions_trained["tag"]}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "bentos.build"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_every_bento_is_built_and_versioned_from_git(built: list[str], trained: dict) -> None:
    assert [tag.split(":")[0] for tag in built] == list(SERVICES)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    for tag in built:
        assert re.fullmatch(rf"[a-z_]+:{commit}(-dirty-\d{{14}})?(-[a-z0-9]+)?", tag), tag
    genre = next(tag for tag in built if tag.startswith("genre:"))
    assert genre.endswith("-" + trained["tag"].split(":")[1])  # the model's version


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_installs_what_its_service_needs_and_no_more(
    built: list[str], bentoml_home: Path, service: str
) -> None:
    tag = next(t for t in built if t.startswith(f"{service}:"))
    packages = requirements(bentoml_home, tag)
    needed, foreign = NEEDS[service]
    assert needed <= packages, needed - packages
    assert not foreign & packages, foreign & packages
    name, version = tag.split(":")
    dockerfile = (bentoml_home / "bentos" / name / version / "env/docker/Dockerfile").read_text()
    assert "USER bentoml" in dockerfile  # the image does not run as root


@pytest.mark.parametrize("service", SERVICES)
def test_each_bento_holds_the_contracts_and_no_smoke_model_builders(
    built: list[str], bentoml_home: Path, service: str
) -> None:
    name, version = next(t for t in built if t.startswith(f"{service}:")).split(":")
    src = bentoml_home / "bentos" / name / version / "src"
    files = {str(p.relative_to(src)) for p in src.rglob("*.py")}
    assert "marketplace/contracts/services.py" in files
    assert not {f for f in files if f.endswith(("smoke.py", "tiny_models.py"))}
    if service == "studio":  # it runs the covers pipeline on the engine
        assert (src / "pipelines" / "covers.yaml").is_file()
        assert (src / "marketplace" / "contracts" / "catalogue.json").is_file()
        # the web app ships whole: its page, styles and every module it imports
        web = src / "bentos" / "studio" / "static"
        assert {"index.html", "style.css", "js/app.js", "js/editor.js"} <= {
            str(p.relative_to(web)) for p in web.rglob("*") if p.is_file()
        }


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=root, capture_output=True, text=True, check=True).stdout  # fmt: skip


def test_changed_services_cover_every_commit_since_publication(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(ROOT, "clone", "-q", str(ROOT), str(repo))
    assert changed_services(repo) == list(SERVICES)  # nothing published yet
    for service in SERVICES:
        git(repo, "tag", f"published/{service}")
    assert changed_services(repo) == []
    (repo / "bentos/genre/README.md").write_text("changed\n")
    git(repo, "commit", "-qam", "genre docs")
    (repo / "bentos/art/prompt.py").write_text("# changed\n")
    git(repo, "commit", "-qam", "art prompt")
    # both commits count, not only the last one
    assert changed_services(repo) == ["genre", "art", "studio"]
    git(repo, "tag", "-f", "published/genre")
    assert changed_services(repo) == ["art", "studio"]
    (repo / "marketplace/contracts/schemas.py").write_text("# changed\n")
    git(repo, "commit", "-qam", "shared schemas")
    assert changed_services(repo) == list(SERVICES)


def test_the_changed_list_is_json_for_the_workflow(capsys) -> None:
    assert main(["--changed"]) == 0
    assert set(json.loads(capsys.readouterr().out)) <= set(SERVICES)


def test_bentofile_includes_are_read() -> None:
    files = BentoSpec.of("art").files(ROOT)
    assert files[0] == "bentos/art/bentofile.yaml" and "bentos/art/*.py" in files
    assert "bentos/**/*.py" in BentoSpec.of("studio").files(ROOT)
