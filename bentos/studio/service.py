"""The studio: durable runs of any marketplace pipeline, and the cover page.

The studio depends on every model service (``bentoml.depends``), so ``bentoml serve`` at
the repository root starts the whole stack on one machine; with
``MARKETPLACE_<SERVICE>_URL`` set, it reaches that service by URL instead (a cluster).

The marketplace API under ``/api`` (:mod:`bentos.studio.api`): the catalogue, shipped and
saved pipelines, their validation, and runs of any of them, queued and executed durably
(:mod:`bentos.studio.durable`), visible to their owner only (:mod:`bentos.studio.owners`).
The cover page (``/``) runs the ``covers`` pipeline through that API
(``POST /api/pipelines/covers/runs``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import bentoml
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bentos.actions.service import Actions
from bentos.art.service import Art
from bentos.common.app_errors import answer_errors
from bentos.common.http import harden
from bentos.common.settings import SERVICE_TIMEOUTS
from bentos.genre.service import Genre
from bentos.lyrics.service import Lyrics
from bentos.segment.service import Segment
from bentos.studio import api, viewer
from bentos.studio.calls import DependencyCaller
from bentos.studio.database import Database
from bentos.studio.durable import Durable
from bentos.studio.owners import owners
from bentos.studio.runs import Runs
from bentos.studio.settings import StudioSettings
from bentos.studio.storage import Storage
from bentos.summarize.service import Summarize
from bentos.tags.service import Tags
from bentos.transcribe.service import Transcribe
from bentos.youtube.service import Youtube
from marketplace.contracts.catalogue import load_catalogue
from marketplace.contracts.urls import ServiceUrls

SETTINGS = StudioSettings()
URLS = ServiceUrls()
STATIC = Path(__file__).parent / "static"

app = FastAPI(title="Studio", description=__doc__)
app.mount("/static", StaticFiles(directory=STATIC), name="static")
app.include_router(api.router)
app.include_router(viewer.router)
app.middleware("http")(owners)


answer_errors(app)


@harden()
@bentoml.service(name="studio", workers=1, traffic={"timeout": SERVICE_TIMEOUTS["studio"]})
@bentoml.asgi_app(app, path="/")
class Studio:
    youtube = bentoml.depends(Youtube, url=URLS.youtube_url)
    transcribe = bentoml.depends(Transcribe, url=URLS.transcribe_url)
    genre = bentoml.depends(Genre, url=URLS.genre_url)
    lyrics = bentoml.depends(Lyrics, url=URLS.lyrics_url)
    summarize = bentoml.depends(Summarize, url=URLS.summarize_url)
    art = bentoml.depends(Art, url=URLS.art_url)
    segment = bentoml.depends(Segment, url=URLS.segment_url)
    tags = bentoml.depends(Tags, url=URLS.tags_url)
    actions = bentoml.depends(Actions, url=URLS.actions_url)

    def __init__(self) -> None:
        db = Database(SETTINGS.database())
        storage = Storage(SETTINGS.data_dir)
        catalogue = load_catalogue()
        runs = Runs(db, storage, catalogue, DependencyCaller(self), SETTINGS.executor_id)
        self.durable = Durable(SETTINGS, db, runs)
        app.state.context = api.Context(SETTINGS, db, storage, catalogue, runs, self.durable)

    @bentoml.on_startup
    async def start_runs(self) -> None:
        """Runs execute on this event loop; DBOS starts taking them (its own first)."""
        context: api.Context = app.state.context
        context.runs.loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.durable.launch)

    @bentoml.on_shutdown
    async def interrupt(self) -> None:
        """Stopping: runs stay pending in the queue, resumed at the next start."""
        context: api.Context = app.state.context
        await asyncio.to_thread(self.durable.destroy)
        for task in list(context.runs.tasks.values()):
            task.cancel()
        context.db.close()

    @app.get("/", include_in_schema=False)
    def page(self) -> FileResponse:
        return FileResponse(STATIC / "index.html")
