"""Runs' files on disk: ``<data_dir>/runs/<id>/`` holds ``inputs/`` (what the user sent),
``files/`` (results: images, audio, ``report.json``) and ``cache/`` (each finished step's
result, so a resumed run does not call it again). The database refers to them by name.

A disk that is full or failing raises :class:`StorageFailed` with what could not be
written: the run fails with that message, never stays "running".
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

from marketplace.calls import FileValue

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
SAFE = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK = 1 << 16


class StorageFailed(Exception):
    """A file of a run could not be written or read."""


def safe_name(name: str, default: str = "file") -> str:
    return SAFE.sub("_", Path(name).name).strip("._")[:100] or default


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root / "runs"
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, run_id: str) -> Path:
        if not RUN_ID.match(run_id):
            raise KeyError(run_id)
        return self.root / run_id

    def files(self, run_id: str) -> Path:
        return self.folder(run_id) / "files"

    def cache(self, run_id: str) -> Path:
        return self.folder(run_id) / "cache"

    def save_input(self, run_id: str, name: str, filename: str, content: bytes) -> str:
        """Keep an uploaded input; returns its stored name."""
        stored = f"{safe_name(name)}--{safe_name(filename, 'upload')}"
        path = self.folder(run_id) / "inputs" / stored
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        except OSError as exc:
            raise StorageFailed(f"the input '{name}' could not be stored: {exc}") from exc
        return stored

    def read_input(self, run_id: str, stored: str, media: str | None = None) -> FileValue:
        path = self.folder(run_id) / "inputs" / stored
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise StorageFailed(f"the input file {stored} cannot be read: {exc}") from exc
        return FileValue(stored.split("--", 1)[-1], content, media)

    def result_file(self, run_id: str, name: str) -> Path | None:
        path = self.files(run_id) / safe_name(name)
        return path if path.is_file() else None

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self.folder(run_id), ignore_errors=True)

    def zipped(self, run_id: str, names: list[str]) -> Iterator[bytes]:
        """The files as a zip, produced piece by piece (never whole in memory)."""
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                path = self.result_file(run_id, name)
                if path is None:
                    continue
                with path.open("rb") as source, archive.open(name, "w") as target:
                    while chunk := source.read(CHUNK):
                        target.write(chunk)
                        yield sink.take()
                yield sink.take()
        yield sink.take()


class _Sink:
    """A write-only stream that hands over what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.written = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data
