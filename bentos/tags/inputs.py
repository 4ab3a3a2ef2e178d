"""What a client sends the tags service, checked and turned into the model's input: a
``(tracks, tags + categories)`` matrix of scores in the model's column order.

JSON: a list of ``{name: score}`` per track. CSV: the Mewo challenge's layout, a header
(``id, <name>, <name>, ...``) then one row per track. Either way every tag and category
the model reads must be given, nothing else, each score a number in [0, 1]; the errors
name the first offending tracks and names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from bentos.common.errors import (
    BadTable,
    InvalidScore,
    MissingTags,
    NoTracks,
    TableTooLarge,
    TooManyTracks,
    UnknownTags,
)

SHOWN = 5  # names or tracks an error message lists


def _some(names: Iterable[str]) -> str:
    names = list(names)
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(repr(n) for n in names[:SHOWN]) + more


def _check_count(count: int, max_tracks: int) -> None:
    if count == 0:
        raise NoTracks("no track given: send at least one track's scores")
    if count > max_tracks:
        raise TooManyTracks(f"{count} tracks in one request; at most {max_tracks} (split it)")


def _check_names(given: Sequence[str], columns: Sequence[str], where: str) -> None:
    known = set(columns)
    unknown = [n for n in given if n not in known]
    if unknown:
        raise UnknownTags(f"{where}: unknown tags or categories {_some(unknown)}; the model "
                          f"reads {len(columns)}, listed in its config.json")  # fmt: skip
    present = set(given)
    missing = [n for n in columns if n not in present]
    if missing:
        raise MissingTags(f"{where}: no score for {_some(missing)}; every one of the model's "
                          f"{len(columns)} tags and categories is needed")  # fmt: skip


def _check_values(matrix: np.ndarray, columns: Sequence[str], ids: Sequence[str]) -> None:
    bad = ~(np.isfinite(matrix) & (matrix >= 0) & (matrix <= 1))
    if bad.any():
        rows, cols = np.nonzero(bad)
        shown = [f"track {ids[r]} {columns[c]}={float(matrix[r, c])!r}"
                 for r, c in zip(rows[:SHOWN], cols[:SHOWN], strict=True)]  # fmt: skip
        raise InvalidScore(f"{int(bad.sum())} scores are not numbers in [0, 1]: "
                           f"{'; '.join(shown)}")  # fmt: skip


def from_json(
    tracks: Sequence[dict[str, float]], columns: Sequence[str], max_tracks: int
) -> tuple[list[str], np.ndarray]:
    """(ids, scores) of the JSON tracks: the ids are their positions."""
    _check_count(len(tracks), max_tracks)
    ids = [str(i) for i in range(len(tracks))]
    for i, track in enumerate(tracks):
        _check_names(list(track), columns, f"track {i}")
    matrix = np.array([[track[c] for c in columns] for track in tracks], dtype=np.float64)
    _check_values(matrix, columns, ids)
    return ids, matrix


def _number(text: str, row: int, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidScore(f"row {row}, {name}: {text[:40]!r} is not a number") from None


def from_table(
    path: Path, columns: Sequence[str], max_tracks: int, max_bytes: int
) -> tuple[list[str], np.ndarray]:
    """(ids, scores) of a CSV upload: the first column is the track's id."""
    size = path.stat().st_size
    if size > max_bytes:
        raise TableTooLarge(f"the table is {size} bytes; at most {max_bytes}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadTable("the table is not UTF-8 text (a CSV file is expected)") from None
    if "\x00" in text:
        raise BadTable("the table holds NUL bytes: not a CSV file")
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    except csv.Error as exc:
        raise BadTable(f"the table cannot be read as CSV: {exc}") from None
    if not rows:
        raise NoTracks("the table is empty: a header and one row per track are expected")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if len(header) < 2:
        raise BadTable("the header has fewer than two columns: the track's id, then scores")
    _check_count(len(body), max_tracks)
    names = header[1:]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadTable(f"columns named twice: {_some(twice)}")
    _check_names(names, columns, "the table's header")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise BadTable(f"row {number} has {len(row)} cells; the header has {len(header)}")
    position = [names.index(c) + 1 for c in columns]
    ids = [row[0].strip() for row in body]
    matrix = np.array(
        [[_number(row[p], n, header[p]) for p in position] for n, row in enumerate(body, 2)],
        dtype=np.float64,
    )
    _check_values(matrix, columns, ids)
    return ids, matrix
