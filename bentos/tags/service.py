"""Music-tag decisions service: a catalogue tagger's scores of every tag (genres,
instruments, moods) and category become each track's yes/no tags.

``POST /decide`` takes JSON (``{"tracks": [{name: score, ...}, ...]}``), ``POST
/decide_table`` a CSV in the Mewo challenge's layout; both answer the decided tags of
every track, by class, with their decision scores. Two BentoML services: ``Tags`` (the
front) checks the scores and orders them as the model reads them; ``TagDecider`` holds
the decision model behind one batchable API, so the tracks of concurrent requests share
one model call. numpy only: no torch in this Bento.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from pydantic import Field

from bentos.common.errors import TABLE_ERRORS, TAGS_ERRORS, TableTooLarge
from bentos.common.http import api, harden
from bentos.common.settings import SERVICE_TIMEOUTS, model_service
from bentos.common.store import find_model
from bentos.tags.inputs import from_json, from_table
from bentos.tags.model_files import TagsConfig, TagsModel, read_config
from bentos.tags.settings import TagsSettings
from marketplace.contracts.schemas import TABLE_UPLOAD, TagsResult, TrackTags

SETTINGS = TagsSettings()
MAX_UPLOAD_BYTES = int(SETTINGS.max_upload_mb * 2**20)
TRACKS = Field(
    description="one object per track: its score in [0, 1] of every tag and category the "
    "model reads, by name",
    examples=[[{"g00": 0.8, "i03": 0.1, "genres-0": 0.6}]],
)


@harden(model=True)
@bentoml.service(**model_service("tag-decider", timeout=SERVICE_TIMEOUTS["tags"]))
class TagDecider:
    """The decision model, loaded once; decision scores of batches of tracks."""

    # Resolved when a worker starts (or `bentoml build` bundles it), not at import.
    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)

    def __init__(self) -> None:
        stored = find_model(SETTINGS.model_tag, "TAGS_MODEL_TAG")
        self.model = TagsModel.load(stored.path)

    @bentoml.api(**SETTINGS.batchable_api())
    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Decision scores ``(N, T)`` of tagger scores ``(N, T + K)``, in the model's
        column order (its tags, then its categories)."""
        return self.model.probabilities(np.asarray(scores, dtype=np.float64))


def answer(config: TagsConfig, ids: list[str], probability: np.ndarray, model: str) -> TagsResult:
    thresholds = config.threshold_array()
    tracks = []
    for track_id, row in zip(ids, probability, strict=True):
        by_class: dict[str, list[str]] = {}
        scores: dict[str, float] = {}
        for j in np.argsort(-row, kind="stable"):
            if row[j] > thresholds[j]:
                by_class.setdefault(config.tag_class[j], []).append(config.tags[j])
                scores[config.tags[j]] = round(float(row[j]), 4)
        by_class = {c: by_class[c] for c in sorted(by_class)}
        words = "; ".join(f"{c.lower()}: {', '.join(t)}" for c, t in by_class.items())
        tracks.append(TrackTags(
            id=track_id, tags=[t for tags in by_class.values() for t in tags],
            by_class=by_class, scores=scores, description=words or "no tag decided",
        ))  # fmt: skip
    return TagsResult(tracks=tracks, method=config.method, model=model)


@harden(upload_limit=MAX_UPLOAD_BYTES, upload_error=TableTooLarge)
@bentoml.service(name="tags", traffic={"timeout": SERVICE_TIMEOUTS["tags"], "max_concurrency": 64})
class Tags:
    """Front API: checks the scores, decides with the model's thresholds, answers."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)
    decider = bentoml.depends(TagDecider)

    def __init__(self) -> None:
        stored = find_model(SETTINGS.model_tag, "TAGS_MODEL_TAG")
        self.model_tag = str(stored.tag)
        self.config = read_config(stored.path)

    async def _decide(self, ids: list[str], scores: np.ndarray) -> TagsResult:
        probability = np.asarray(await self.decider.to_async.probabilities(scores))
        return answer(self.config, ids, probability, self.model_tag)

    @api(route="/decide", errors=TAGS_ERRORS)
    async def decide(self, tracks: Annotated[list[dict[str, float]], TRACKS]) -> TagsResult:
        """Decide the tags of one or many tracks from their scores (JSON).

        Every tag and category the model reads must be scored, nothing else. Bad input
        answers 400 (no tracks, unknown or missing tags), 413 (too many tracks) or 422
        (a score not in [0, 1]), with ``{"error", "detail"}``.
        """
        ids, scores = from_json(tracks, self.config.columns, SETTINGS.max_tracks)
        return await self._decide(ids, scores)

    @api(route="/decide_table", errors=TABLE_ERRORS)
    async def decide_table(self, table: Annotated[Path, TABLE_UPLOAD]) -> TagsResult:
        """Decide the tags of every track of a CSV (the Mewo challenge's layout: a row
        id, then a column per tag and category).

        Bad input answers 400 (no rows, unknown or missing columns), 413 (too many rows
        or bytes) or 422 (not a readable table, a score not in [0, 1]).
        """
        ids, scores = await asyncio.to_thread(
            from_table, table, self.config.columns, SETTINGS.max_tracks, MAX_UPLOAD_BYTES
        )
        return await self._decide(ids, scores)
