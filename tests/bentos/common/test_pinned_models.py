"""Full-profile models load only at an exact revision, from a cache a pod cannot change.

The cache here is laid out as ``python -m bentos.models fetch`` leaves it (the Hugging
Face cache: ``models--<org>--<name>/snapshots/<commit>``), holding a tiny random BART
with the real architecture; the services load it through their own code, offline.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bentos.common.pinned import REVISION, UnpinnedModel, is_hub_id, pin, read_lock
from tests.conftest import ROOT

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "acme/tiny-bart"


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory) -> Path:
    """A read-only hub cache holding acme/tiny-bart at COMMIT."""
    from bentos.summarize.smoke import tiny_bart

    cache = tmp_path_factory.mktemp("hub")
    snapshot = cache / "models--acme--tiny-bart" / "snapshots" / COMMIT
    tiny_bart(snapshot)
    for path in [cache, *cache.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield cache
    for path in [cache, *cache.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SUMMARIZE_"))}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base | env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def offline(cache: Path, **env: str) -> dict[str, str]:
    return {"MARKETPLACE_PROFILE": "full", "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache),
            "HF_HOME": str(cache.parent / "hf-home"), **env}  # fmt: skip


def files(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def test_every_default_hub_model_is_in_the_lock_at_a_full_commit() -> None:
    from bentos.models import full_profile_models

    lock = read_lock()
    hub = {m.source for m in full_profile_models() if is_hub_id(m.source)}
    assert hub == set(lock), "models.lock.json lists exactly the default hub models"
    assert all(rev is None or REVISION.fullmatch(rev) for rev in lock.values())
    assert list(lock) == sorted(lock)


def test_a_hub_model_without_an_exact_revision_is_refused() -> None:
    with pytest.raises(UnpinnedModel, match="'someone/model' has no pinned revision"):
        pin("someone/model", {})
    with pytest.raises(UnpinnedModel, match="full 40-hex commit, not a branch"):
        pin("someone/model@main", {})
    assert pin(f"someone/model@{COMMIT}", {}) == ("someone/model", COMMIT)
    assert pin("someone/model", {"someone/model": COMMIT}) == ("someone/model", COMMIT)
    assert not is_hub_id(str(ROOT / "bentos"))  # a folder is used as it is


def test_the_summarizer_loads_its_pinned_model_offline_without_writing_the_cache(
    hub_cache: Path,
) -> None:
    before = files(hub_cache)
    code = (
        "import json\n"
        "from bentos.summarize.service import model_source\n"
        "from bentos.summarize.summarizer import Summarizer\n"
        "source = model_source()\n"
        "summary, chunks = Summarizer(source, num_beams=1).summarize([('la la love', 5)])[0]\n"
        "print(json.dumps({'source': source, 'chunks': chunks}))\n"
    )
    done = run_python(code, offline(hub_cache, SUMMARIZE_MODEL=f"{REPO}@{COMMIT}"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["source"].endswith(f"models--acme--tiny-bart/snapshots/{COMMIT}")
    assert result["chunks"] == 1
    assert files(hub_cache) == before


def test_a_pinned_model_missing_from_the_cache_names_itself_and_the_fetch_command(
    hub_cache: Path,
) -> None:
    other = "f" * 40
    code = "from bentos.summarize.service import model_source\nmodel_source()\n"
    done = run_python(code, offline(hub_cache, SUMMARIZE_MODEL=f"{REPO}@{other}"))
    assert done.returncode != 0
    assert f"ModelNotCached: hub model '{REPO}' at {other[:12]} is not in the model cache" in (
        done.stderr
    )
    assert "python -m bentos.models fetch" in done.stderr
    code = "from bentos.summarize.service import model_source\nmodel_source()\n"
    done = run_python(code, offline(hub_cache, SUMMARIZE_MODEL="acme/unpinned"))
    assert "UnpinnedModel: hub model 'acme/unpinned' has no pinned revision" in done.stderr


def test_models_list_and_fetch_cover_every_service_and_fail_on_the_unpinned(
    hub_cache: Path, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "whisper.pt"
    checkpoint.write_bytes(b"")
    pinned = f"{REPO}@{COMMIT}"
    env = offline(
        hub_cache,
        WHISPER_MODEL=str(checkpoint),
        LYRICS_EMOTION_MODELS=json.dumps({"en": pinned}),
        LYRICS_SENTIMENT_MODELS=json.dumps({"en": pinned}),
        SUMMARIZE_MODEL=pinned,
        ART_MODELS=json.dumps({"one": pinned}),
    )
    cli = "from bentos.models import main\nraise SystemExit(main({}))\n"
    listed = run_python(cli.format(["list", "--json"]), env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["service"] for r in rows} == {"transcribe", "lyrics", "summarize", "art"}
    assert all(r["revision"] == COMMIT for r in rows if r["service"] != "transcribe")
    fetched = run_python(cli.format(["fetch"]), env)  # all cached: nothing to download
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.count(f"@ {COMMIT[:12]} -> ") == 4
    assert "[1/5] transcribe whisper" in fetched.stdout and "local path" in fetched.stdout

    unpinned = env | {"SUMMARIZE_MODEL": "acme/unpinned"}
    listed = run_python(cli.format(["list"]), unpinned)
    assert listed.returncode == 1 and "acme/unpinned" in listed.stdout
    assert "UNPINNED" in listed.stdout
    fetched = run_python(cli.format(["fetch"]), unpinned)
    assert fetched.returncode == 1
    assert "summarize seq2seq: acme/unpinned FAILED" in fetched.stderr
    assert fetched.stdout.count(f"@ {COMMIT[:12]} -> ") == 3  # the others still fetched
