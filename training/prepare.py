"""Stage prepare: list the tracks of the chosen source and split them by track.

``synthetic`` generates a labelled GTZAN-layout folder; ``gtzan`` reads one
(``<genre>/<track>.wav``) and can add FMA-medium tracks of the 11 genres from FMA's
``tracks.csv``. The split is stratified by genre, seeded, and by track: no track (and so
no window of a track) is in two splits. Output: ``data/prepared/tracks.csv``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from marketplace.contracts.schemas import GENRES
from training.datasets import SPLITS, Track, write_tracks
from training.layout import Layout
from training.params import DataParams, Params
from training.synthetic import generate_dataset

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = {".wav", ".au", ".mp3", ".ogg", ".flac", ".m4a", ".opus", ".webm"}


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
        artist_col = col[("artist", "id")]
        by_genre: dict[str, list[Track]] = {}
        for row in rows:
            genre = genre_of_folder(row[genre_col])
            if genre is None or row[subset_col] not in ("small", "medium"):
                continue
            tid = int(row[0])
            path = audio_dir / f"{tid:06d}"[:3] / f"{tid:06d}.mp3"
            if path.exists():
                track = Track(f"fma/{tid}", genre, str(path), group=f"fma-artist/{row[artist_col]}")
                by_genre.setdefault(genre, []).append(track)
    rng = np.random.default_rng(seed)
    picked = []
    for genre in sorted(by_genre):
        items = by_genre[genre]
        order = rng.permutation(len(items))[:max_per_genre]
        picked += [items[i] for i in sorted(order)]
    return picked


def split_tracks(tracks: list[Track], data: DataParams) -> list[Track]:
    """Split by group (artist where known, else track), stratified by genre and seeded.

    All tracks of a group land in one split, so no artist is both learnt and tested.
    Every genre with three or more groups is in every split.
    """
    rng = np.random.default_rng(data.seed)
    groups: dict[str, list[Track]] = {}
    for t in sorted(tracks, key=lambda t: t.track_id):
        groups.setdefault(t.split_group, []).append(t)
    genre_of = {g: Counter(t.genre for t in ts).most_common(1)[0][0] for g, ts in groups.items()}
    out = []
    for genre in GENRES:
        names = sorted(g for g in groups if genre_of[g] == genre)
        n = sum(len(groups[g]) for g in names)
        enough = len(names) >= 3
        quota = {
            "test": max(1, round(n * data.test_fraction)) if enough else 0,
            "val": max(1, round(n * data.val_fraction)) if enough else 0,
        }
        for i in rng.permutation(len(names)):
            members = groups[names[i]]
            split = next((s for s in ("test", "val") if quota[s] > 0), "train")
            if split != "train":
                quota[split] -= len(members)
            out += [replace(t, split=split) for t in members]
    return out


def relative_to(path: str, root: Path) -> str:
    """``path`` relative to the root when it lies inside it: tracks.csv then does not
    depend on where the repository is cloned."""
    absolute = Path(path).resolve()
    return os.path.relpath(absolute, root) if absolute.is_relative_to(root) else str(absolute)


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
        tracks = [Track(f"synthetic/{p.stem}", genre, str(p)) for genre, p in written]
    else:
        tracks = index_gtzan(layout.resolve(data.gtzan_dir))
        if data.fma_metadata and data.fma_audio_dir:
            tracks += index_fma(
                layout.resolve(data.fma_metadata),
                layout.resolve(data.fma_audio_dir),
                data.fma_max_per_genre,
                data.seed,
            )
    tracks = [replace(t, path=relative_to(t.path, layout.root)) for t in tracks]
    tracks = split_tracks(tracks, data)
    write_tracks(layout.tracks_csv, tracks)
    counts = {s: sum(t.split == s for t in tracks) for s in SPLITS}
    log.info("prepare: %d tracks from %s (%s)", len(tracks), data.source, counts)
    return tracks


if __name__ == "__main__":
    from training.cli import stage_main

    stage_main(run)
