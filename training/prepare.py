"""Stage prepare: list the tracks of the chosen source and split them by track.

``synthetic`` generates a labelled GTZAN-layout folder; ``gtzan`` reads one
(``<genre>/<track>.wav``) and can add FMA-medium tracks of the 11 genres from FMA's
``tracks.csv``. The split is stratified by genre, seeded, and by track: no track (and so
no window of a track) is in two splits. Output: ``data/prepared/tracks.csv``.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bentos.common.schemas import GENRES
from training.layout import Layout
from training.params import DataParams, Params
from training.synthetic import generate_dataset

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = {".wav", ".au", ".mp3", ".ogg", ".flac", ".m4a", ".opus", ".webm"}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Track:
    track_id: str
    genre: str
    path: str
    split: str = ""


def genre_of_folder(name: str) -> str | None:
    """Map a folder or FMA genre name ('hiphop', 'Hip-Hop', 'ROCK') to one of GENRES."""
    key = re.sub(r"[^a-z]", "", name.lower())
    return {re.sub(r"[^a-z]", "", g.lower()): g for g in GENRES}.get(key)


def index_gtzan(folder: Path) -> list[Track]:
    if not folder.is_dir():
        raise FileNotFoundError(
            f"GTZAN folder {folder} not found: put <genre>/<track>.wav there "
            "or set data.source: synthetic in params.yaml"
        )
    tracks = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        genre = genre_of_folder(sub.name)
        if genre is None:
            log.warning("skipping folder %s: not one of the 11 genres", sub.name)
            continue
        for f in sorted(sub.iterdir()):
            if f.suffix.lower() in AUDIO_SUFFIXES:
                tracks.append(Track(f"gtzan/{sub.name}/{f.stem}", genre, str(f)))
    if not tracks:
        raise ValueError(f"no audio files of the 11 genres under {folder}")
    return tracks


def index_fma(metadata_csv: Path, audio_dir: Path, max_per_genre: int, seed: int) -> list[Track]:
    """FMA-medium tracks whose top genre is one of ours (FMA's tracks.csv has 3 header rows)."""
    with metadata_csv.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        top, sub = next(rows), next(rows)
        next(rows)  # the 'track_id' row
        col = {(a, b): i for i, (a, b) in enumerate(zip(top, sub, strict=True))}
        genre_col, subset_col = col[("track", "genre_top")], col[("set", "subset")]
        by_genre: dict[str, list[Track]] = {}
        for row in rows:
            genre = genre_of_folder(row[genre_col])
            if genre is None or row[subset_col] not in ("small", "medium"):
                continue
            tid = int(row[0])
            path = audio_dir / f"{tid:06d}"[:3] / f"{tid:06d}.mp3"
            if path.exists():
                by_genre.setdefault(genre, []).append(Track(f"fma/{tid}", genre, str(path)))
    rng = np.random.default_rng(seed)
    picked = []
    for genre in sorted(by_genre):
        items = by_genre[genre]
        order = rng.permutation(len(items))[:max_per_genre]
        picked += [items[i] for i in sorted(order)]
    return picked


def split_tracks(tracks: list[Track], data: DataParams) -> list[Track]:
    """Stratified by genre and seeded; every genre with 3+ tracks is in every split."""
    rng = np.random.default_rng(data.seed)
    out = []
    for genre in GENRES:
        items = sorted((t for t in tracks if t.genre == genre), key=lambda t: t.track_id)
        if not items:
            continue
        order = rng.permutation(len(items))
        n = len(items)
        n_test = max(1, round(n * data.test_fraction)) if n >= 3 else 0
        n_val = max(1, round(n * data.val_fraction)) if n >= 3 else 0
        for rank, i in enumerate(order):
            split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
            t = items[i]
            out.append(Track(t.track_id, t.genre, t.path, split))
    return out


def write_tracks(path: Path, tracks: list[Track]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["track_id", "genre", "split", "path"])
        for t in tracks:
            writer.writerow([t.track_id, t.genre, t.split, t.path])


def read_tracks(path: Path) -> list[Track]:
    with path.open(newline="") as handle:
        rows = csv.DictReader(handle)
        return [Track(r["track_id"], r["genre"], r["path"], r["split"]) for r in rows]


def run(params: Params, layout: Layout) -> list[Track]:
    data = params.data
    if data.source == "synthetic":
        shutil.rmtree(layout.synthetic_audio_dir, ignore_errors=True)
        written = generate_dataset(
            layout.synthetic_audio_dir,
            tracks_per_genre=data.synthetic.tracks_per_genre,
            seconds=data.synthetic.seconds,
            sample_rate=params.features.sample_rate,
            seed=data.seed,
        )
        tracks = [
            Track(f"synthetic/{p.stem}", genre, str(p.relative_to(layout.root)))
            for genre, p in written
        ]
    else:
        tracks = index_gtzan(layout.resolve(data.gtzan_dir))
        if data.fma_metadata and data.fma_audio_dir:
            tracks += index_fma(
                layout.resolve(data.fma_metadata),
                layout.resolve(data.fma_audio_dir),
                data.fma_max_per_genre,
                data.seed,
            )
    tracks = split_tracks(tracks, data)
    write_tracks(layout.tracks_csv, tracks)
    counts = {s: sum(t.split == s for t in tracks) for s in SPLITS}
    log.info("prepare: %d tracks from %s (%s)", len(tracks), data.source, counts)
    return tracks


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
