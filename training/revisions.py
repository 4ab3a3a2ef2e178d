"""Reading a file as it was at a git revision (the base branch, the last promotion)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def file_at(ref: str, path: str, root: Path = Path(".")) -> str | None:
    """``path`` (relative to the repository root) at ``ref``; None if either is missing."""
    proc = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None
