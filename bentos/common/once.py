"""Building something on first use, once, when several processes may start together."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path


def build_once(lock_path: Path, is_built: Callable[[], bool], build: Callable[[], object]) -> None:
    """Run ``build`` unless ``is_built()``: one process builds under an exclusive file lock,
    the others wait for it and then find the result built."""
    if is_built():
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_built():
            build()
