"""The full profile's hub models, each loaded at an exact revision and never unpinned.

A model source is a local folder or file (used as it is), or a hub id. A hub id is loaded
at the revision written after it (``org/name@<40-hex commit>``) or, without one, at the
revision ``models.lock.json`` pins for it; a hub id with neither is refused. The snapshot
comes from the Hugging Face cache (``HF_HUB_CACHE``): filled beforehand by
``python -m bentos.models fetch`` (the cluster's model-cache job), and downloaded on
first use only where the hub is reachable and ``HF_HUB_OFFLINE`` is unset (a laptop).

Whisper's named models (``base``, ``small`` ...) are not hub ids: openai-whisper
downloads them from its own URLs and checks each file's SHA-256, written in the pinned
package, so they are pinned by the package version.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LOCK_FILE = Path(__file__).with_name("models.lock.json")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
REVISION = re.compile(r"^[0-9a-f]{40}$")
FETCH = "python -m bentos.models fetch"
LOCK = "python -m bentos.models lock"


class UnpinnedModel(RuntimeError):
    """A hub model with no exact revision: the service refuses to start with it."""


class ModelNotCached(RuntimeError):
    """A pinned model absent from the cache while the hub may not be reached."""


def read_lock(path: Path = LOCK_FILE) -> dict[str, str | None]:
    """Hub id -> pinned commit (``None``: listed, not resolved yet)."""
    return json.loads(path.read_text())


def is_hub_id(source: str) -> bool:
    """``org/name`` (optionally ``@revision``) that is not an existing path."""
    return not Path(source).exists() and bool(HUB_ID.match(source.split("@", 1)[0]))


def pin(source: str, lock: dict[str, str | None] | None = None) -> tuple[str, str]:
    """The hub id and exact revision ``source`` is loaded at, or ``UnpinnedModel``."""
    repo, _, revision = source.partition("@")
    if not revision:
        revision = (read_lock() if lock is None else lock).get(repo) or ""
    if not revision:
        raise UnpinnedModel(
            f"hub model '{repo}' has no pinned revision: pin it in {LOCK_FILE.name} "
            f"(`{LOCK}`, with access to the hub), name it as '{repo}@<commit>', "
            "or give a local folder"
        )
    if not REVISION.match(revision):
        raise UnpinnedModel(
            f"'{repo}@{revision}': a revision must be a full 40-hex commit, "
            "not a branch or tag, which can move"
        )
    return repo, revision


def local_source(source: str) -> str:
    """A local folder or file for ``source``: itself, or its pinned snapshot in the cache."""
    if not is_hub_id(source):
        return source
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError
    from huggingface_hub.utils import OfflineModeIsEnabled

    repo, revision = pin(source)
    try:
        return snapshot_download(repo, revision=revision)
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        from huggingface_hub.constants import HF_HUB_CACHE

        raise ModelNotCached(
            f"hub model '{repo}' at {revision[:12]} is not in the model cache "
            f"({HF_HUB_CACHE}) and the hub may not be reached: fill the cache with `{FETCH}`"
        ) from exc
