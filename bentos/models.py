"""The full profile's models: list them, fill a model cache, pin their revisions.

    python -m bentos.models list             # service, model, pinned revision, cached?
    python -m bentos.models fetch            # download each at its pinned revision
    python -m bentos.models lock             # pin the unpinned (needs the hub)

The models are the ones the services' settings name (their environment variables
included), so the cache holds what the pods will load. ``fetch`` writes to the Hugging
Face cache (``HF_HUB_CACHE``) and Whisper's models to ``TRANSCRIBE_DOWNLOAD_ROOT``; in
the cluster a job runs it once per release into a volume the model pods mount read-only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bentos.common.pinned import LOCK_FILE, UnpinnedModel, is_hub_id, pin, read_lock


@dataclass(frozen=True)
class Model:
    service: str
    role: str  # what the service uses it for
    source: str  # a hub id, a Whisper name, or a local path


def full_profile_models() -> list[Model]:
    """Every model the full profile's services load, from their settings."""
    from bentos.art.settings import ArtSettings
    from bentos.lyrics.settings import LyricsSettings
    from bentos.summarize.settings import SummarizeSettings
    from bentos.transcribe.settings import TranscribeSettings

    lyrics, art = LyricsSettings(), ArtSettings()
    models = [Model("transcribe", "whisper", TranscribeSettings().model)]
    models += [Model("lyrics", f"emotion {k}", v) for k, v in lyrics.emotion_models.items()]
    models += [Model("lyrics", f"sentiment {k}", v) for k, v in lyrics.sentiment_models.items()]
    models.append(Model("summarize", "seq2seq", SummarizeSettings().model))
    models += [Model("art", name, source) for name, source in art.configured_models().items()]
    if art.single_file_config:
        models.append(Model("art", "single-file config", art.single_file_config))
    return models


def is_whisper_name(model: Model) -> bool:
    import whisper

    return model.service == "transcribe" and model.source in whisper.available_models()


def describe(model: Model, lock: dict[str, str | None]) -> tuple[str, str]:
    """(revision, where it comes from) for the listing."""
    if is_whisper_name(model):
        return "sha256 in openai-whisper", "openai-whisper's download, checksum verified"
    if not is_hub_id(model.source):
        return "-", "local path"
    try:
        return pin(model.source, lock)[1], "hub"
    except UnpinnedModel:
        return "UNPINNED", "hub: refused until pinned"


def list_models(as_json: bool) -> int:
    lock = read_lock()
    rows = [(m, *describe(m, lock)) for m in full_profile_models()]
    if as_json:
        out = [
            {"service": m.service, "role": m.role, "source": m.source, "revision": r, "from": f}
            for m, r, f in rows
        ]
        print(json.dumps(out, indent=2))
    else:
        width = max(len(m.source) for m, *_ in rows)
        for m, revision, origin in rows:
            print(f"{m.service:<11} {m.role:<14} {m.source:<{width}}  {revision:<40}  {origin}")
    return 1 if any(r == "UNPINNED" for _, r, _ in rows) else 0


def fetch(models: Sequence[Model]) -> int:
    """Download every model at its pinned revision; an unpinned one fails the run."""
    from huggingface_hub import snapshot_download

    from bentos.transcribe.settings import TranscribeSettings

    failures = 0
    for i, model in enumerate(models, 1):
        label = f"[{i}/{len(models)}] {model.service} {model.role}: {model.source}"
        try:
            if is_whisper_name(model):
                import whisper

                root = TranscribeSettings().download_root
                whisper._download(whisper._MODELS[model.source], root or _whisper_root(), False)
                print(f"{label} ok (checksum verified)", flush=True)
            elif is_hub_id(model.source):
                repo, revision = pin(model.source)
                path = snapshot_download(repo, revision=revision)
                print(f"{label} @ {revision[:12]} -> {path}", flush=True)
            else:
                print(f"{label} local path, nothing to fetch", flush=True)
        except Exception as exc:  # report each model, then fail the run
            failures += 1
            print(f"{label} FAILED: {exc}", file=sys.stderr, flush=True)
    return 1 if failures else 0


def _whisper_root() -> str:
    import os

    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return os.path.join(cache, "whisper")  # whisper.load_model's own default


def lock(upgrade: bool) -> int:
    """Pin every configured hub model without a revision (all of them with ``--upgrade``)
    to the commit its main branch points at now."""
    from huggingface_hub import HfApi

    pins = read_lock()
    api = HfApi()
    for model in full_profile_models():
        if not is_hub_id(model.source) or "@" in model.source:
            continue
        if pins.get(model.source) and not upgrade:
            continue
        pins[model.source] = api.model_info(model.source).sha
        print(f"{model.source} -> {pins[model.source]}", flush=True)
    LOCK_FILE.write_text(json.dumps(dict(sorted(pins.items())), indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bentos.models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the models, their revisions; 1 if unpinned")
    listing.add_argument("--json", action="store_true")
    commands.add_parser("fetch", help="download every model at its pinned revision")
    pinning = commands.add_parser("lock", help=f"pin unpinned hub models in {LOCK_FILE.name}")
    pinning.add_argument("--upgrade", action="store_true", help="re-pin every model")
    args = parser.parse_args(argv)
    if args.command == "list":
        return list_models(args.json)
    if args.command == "fetch":
        return fetch(full_profile_models())
    return lock(args.upgrade)


if __name__ == "__main__":
    sys.exit(main())
