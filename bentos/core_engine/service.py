"""The core-engine bridge: every marketplace endpoint as a Swiss AI Center core-engine
service, driven by the catalogue.

Each endpoint the engine can express is registered with the engine (``CORE_ENGINE_URL``)
at ``<CORE_ENGINE_PUBLIC_URL>/<slug>`` and answers the engine's routes there:

- ``GET /<slug>/status``: 200 while the bridge runs;
- ``POST /<slug>/compute``: a task (S3 credentials, the task's input keys, a callback
  URL): 200 once queued, 503 when the queue is full; the task then runs in the
  background and is reported to the callback, its outputs written to the same bucket;
- ``GET /<slug>/tasks/<id>/status``: the task's stage (pending, fetching, processing,
  saving, finished, error);
- ``GET /<slug>/docs``: how the endpoint's ports became the engine's fields.

``GET /`` lists the services offered and the endpoints left out, with the reasons. The
marketplace services are reached by URL (``MARKETPLACE_<SERVICE>_URL``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import bentoml
import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from bentos.common.app_errors import answer_errors
from bentos.common.errors import RETRY_AFTER_S, NotFound
from bentos.common.http import JSON_BODY_LIMIT, Route, harden
from bentos.core_engine.announce import Announcer
from bentos.core_engine.contract import ComputeRequest
from bentos.core_engine.fields import Binding, bindings, describe
from bentos.core_engine.settings import CoreEngineSettings
from bentos.core_engine.tasks import QueueFull, TaskQueue
from marketplace.calls import HttpCaller
from marketplace.contracts.catalogue import load_catalogue
from marketplace.contracts.urls import ServiceUrls

log = logging.getLogger("bentoml.marketplace.core_engine")
SETTINGS = CoreEngineSettings()
CATALOGUE = load_catalogue()
BINDINGS, LEFT_OUT = bindings(CATALOGUE, SETTINGS.services, SETTINGS.exclude, SETTINGS.slug_prefix)
DESCRIPTIONS = {
    slug: describe(b, CATALOGUE.service(b.service), SETTINGS.public_url)  # type: ignore[arg-type]
    for slug, b in BINDINGS.items()
}

app = FastAPI(title="Core-engine bridge", description=__doc__)


answer_errors(app)


def _binding(slug: str) -> Binding:
    if slug not in BINDINGS:
        raise NotFound(f"no service '{slug}' here; see GET / for the services offered")
    return BINDINGS[slug]


@app.get("/")
async def offered() -> dict[str, Any]:
    """The services offered to the engine and the endpoints left out, with why."""
    return {
        "engine": SETTINGS.url,
        "services": {
            slug: {
                "call": b.call,
                "url": DESCRIPTIONS[slug].url,
                "inputs": [f.name for f in b.inputs],
                "outputs": [f.name for f in b.outputs],
            }
            for slug, b in BINDINGS.items()
        },
        "left_out": LEFT_OUT,
    }


@app.get("/{slug}/status")
async def status(slug: str) -> dict[str, str]:
    _binding(slug)
    return {"status": "Service is available"}


@app.get("/{slug}/docs")
async def docs(slug: str) -> dict[str, Any]:
    """The registered description, and the marketplace endpoint it stands for."""
    binding = _binding(slug)
    return {
        "registered": DESCRIPTIONS[slug].model_dump(mode="json"),
        "call": binding.call,
        "defaults": list(binding.defaults),
        "input_schema": binding.endpoint.input_schema,
        "output_schema": binding.endpoint.output_schema,
    }


@app.post("/{slug}/compute")
async def compute(
    slug: str, known: Annotated[Binding, Depends(_binding)], body: ComputeRequest
) -> JSONResponse:
    """A task of the engine: queued, or 503 when the queue is full. (An unknown service
    is a 404 whatever the body: the dependency runs before the body is read.)"""
    queue: TaskQueue = app.state.queue
    try:
        queue.submit(slug, body)
    except QueueFull as exc:
        return JSONResponse(
            {"error": "queue_full", "detail": f"Queue is full: {exc}; try again later"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return JSONResponse({"status": "Task added to the queue"})


@app.get("/{slug}/tasks/{task_id}/status")
async def task_status(slug: str, task_id: str) -> dict[str, Any]:
    _binding(slug)
    task = app.state.queue.find(slug, task_id)
    if task is None:
        raise NotFound(f"no task '{task_id}' for {slug} (unknown, or long finished)")
    answer: dict[str, Any] = {"status": task.status}
    if task.error_message:
        answer["error_message"] = task.error_message
    return answer


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("registering with the core engine stopped", exc_info=task.exception())


ROUTES = {
    f"/{slug}/compute": Route(media_types=("application/json",), limit=JSON_BODY_LIMIT)
    for slug in BINDINGS
}


@harden(routes=ROUTES)
@bentoml.service(name="core_engine", workers=1, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class CoreEngine:
    """One process: the task queue and the registrations live in it."""

    @bentoml.on_startup
    async def start(self) -> None:
        self.http = httpx.AsyncClient(timeout=SETTINGS.engine_timeout_s)
        self.caller = HttpCaller(ServiceUrls().or_local())
        app.state.queue = TaskQueue(SETTINGS, BINDINGS, self.caller, self.http)
        app.state.queue.start()
        self.announcer = None
        if SETTINGS.url:
            self.announcer = Announcer(SETTINGS, list(DESCRIPTIONS.values()), self.http)
            self.announcing = asyncio.create_task(self.announcer.run())
            self.announcing.add_done_callback(_log_failure)

    @bentoml.on_shutdown
    async def stop(self) -> None:
        if self.announcer is not None:
            self.announcing.cancel()
            await asyncio.gather(self.announcing, return_exceptions=True)
            await self.announcer.retire()
        await app.state.queue.stop()
        await self.caller.aclose()
        await self.http.aclose()
