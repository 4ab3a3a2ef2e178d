"""The studio: durable runs of any marketplace pipeline, and the cover page.

The studio depends on every model service (``bentoml.depends``), so ``bentoml serve`` at
the repository root starts the whole stack on one machine; with
``MARKETPLACE_<SERVICE>_URL`` set, it reaches that service by URL instead (a cluster).

The marketplace API under ``/api`` (:mod:`bentos.studio.api`): the catalogue, shipped and
saved pipelines, their validation, and runs of any of them, queued and executed durably
(:mod:`bentos.studio.durable`), visible to their owner only (:mod:`bentos.studio.owners`).

The cover page's job API (JSON; errors are ``{"error", "detail"}``):

- ``POST /jobs``: multipart ``audio`` (a file) or ``url`` (a YouTube address), optional
  ``steps``, ``size``, ``seed``, ``models``; 202 with the job, 429 ``busy`` when
  ``STUDIO_MAX_JOBS`` jobs are running.
- ``GET /jobs``, ``GET /jobs/{id}``: status, each stage's progress, the results so far.
- ``GET /jobs/{id}/files/{name}``: a cover, the fetched audio, ``report.json``;
  ``GET /jobs/{id}/covers.zip``: all of them; ``DELETE /jobs/{id}``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Annotated

import bentoml
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from bentos.art.service import Art
from bentos.common.errors import AudioTooLarge, ClientError, EmptyAudio, ErrorAnswer
from bentos.common.http import MULTIPART_SLACK, Route, harden
from bentos.common.settings import SERVICE_TIMEOUTS
from bentos.genre.service import Genre
from bentos.lyrics.service import Lyrics
from bentos.studio import api
from bentos.studio.calls import DependencyCaller
from bentos.studio.database import Database
from bentos.studio.durable import Durable
from bentos.studio.jobs import Job, JobStore
from bentos.studio.owners import owners
from bentos.studio.runs import Runs
from bentos.studio.settings import StudioSettings
from bentos.studio.storage import Storage
from bentos.summarize.service import Summarize
from bentos.transcribe.service import Transcribe
from bentos.youtube.addresses import parse_video_url
from bentos.youtube.service import Youtube
from bentos.youtube.settings import YoutubeSettings
from marketplace.calls import FileValue
from marketplace.contracts.catalogue import load_catalogue
from marketplace.contracts.schemas import CoverSettings
from marketplace.contracts.urls import ServiceUrls
from pipeline_client.covers import CoverOptions, StageEvent, run_covers
from pipeline_client.outputs import REPORT, report_json, safe_name, write_outputs

log = logging.getLogger("bentoml.studio")
SETTINGS = StudioSettings()
URLS = ServiceUrls()
STATIC = Path(__file__).parent / "static"
CHUNK = 1 << 20

app = FastAPI(title="Studio", description=__doc__)
app.mount("/static", StaticFiles(directory=STATIC), name="static")
app.include_router(api.router)
app.middleware("http")(owners)


class Busy(ClientError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "busy"


class NotFound(ClientError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


@app.exception_handler(ErrorAnswer)
async def _error_answer(request: Request, exc: ErrorAnswer) -> JSONResponse:
    response = exc.to_response()
    if isinstance(exc, Busy):
        response.headers["Retry-After"] = "30"
    return response


@app.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    where = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
    return JSONResponse({"error": "invalid_request", "detail": where}, status_code=400)


@harden(
    routes={
        "/jobs": Route(
            media_types=("multipart/form-data", "application/x-www-form-urlencoded"),
            limit=int(SETTINGS.max_upload_mb * 2**20) + MULTIPART_SLACK,
            too_large=AudioTooLarge,
        )
    }
)
@bentoml.service(name="studio", workers=1, traffic={"timeout": SERVICE_TIMEOUTS["studio"]})
@bentoml.asgi_app(app, path="/")
class Studio:
    youtube = bentoml.depends(Youtube, url=URLS.youtube_url)
    transcribe = bentoml.depends(Transcribe, url=URLS.transcribe_url)
    genre = bentoml.depends(Genre, url=URLS.genre_url)
    lyrics = bentoml.depends(Lyrics, url=URLS.lyrics_url)
    summarize = bentoml.depends(Summarize, url=URLS.summarize_url)
    art = bentoml.depends(Art, url=URLS.art_url)

    def __init__(self) -> None:
        self.store = JobStore(SETTINGS.data_dir, timedelta(hours=SETTINGS.job_ttl_hours))
        self.tasks: dict[str, asyncio.Task] = {}
        self.youtube_rules = YoutubeSettings()
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
        """Stopping: runs stay pending in the queue (resumed at the next start); running
        jobs are saved as interrupted (their input is kept)."""
        context: api.Context = app.state.context
        await asyncio.to_thread(self.durable.destroy)
        for task in [*self.tasks.values(), *context.runs.tasks.values()]:
            task.cancel()
        self.store.interrupt_running()
        context.db.close()

    @app.get("/", include_in_schema=False)
    def page(self) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.post("/jobs", status_code=202)
    async def submit(
        self,
        audio: Annotated[UploadFile | None, File(description="an audio file")] = None,
        url: Annotated[str | None, Form(description="or a YouTube video address")] = None,
        steps: Annotated[int | None, Form()] = None,
        size: Annotated[int | None, Form(description="width and height")] = None,
        seed: Annotated[int | None, Form()] = None,
        models: Annotated[str | None, Form(description="comma-separated")] = None,
    ) -> Job:
        """Start turning a song into covers; poll ``GET /jobs/{id}`` for progress."""
        self.expire()
        options = _options(steps, size, seed, models)
        url = (url or "").strip() or None
        has_file = audio is not None and bool(audio.filename)
        if has_file == (url is not None):
            raise ClientError("send either an audio file (audio) or a YouTube address (url)")
        if self.store.running() >= SETTINGS.max_jobs:
            raise Busy(
                f"{SETTINGS.max_jobs} jobs are running (STUDIO_MAX_JOBS); try again in a minute"
            )
        if url is not None:
            parse_video_url(url, self.youtube_rules.test_origin)  # refuse early, with why
            job = self.store.create(url, url=True)
            source: str | FileValue = url
        else:
            assert audio is not None
            content = await _read_upload(audio)
            job = self.store.create(audio.filename or "audio", url=False)
            path = self.store.folder(job.id) / f"input{_suffix(audio.filename)}"
            path.write_bytes(content)
            source = FileValue(audio.filename or path.name, content)
        self.tasks[job.id] = asyncio.create_task(self.run(job, source, options))
        return job

    @app.get("/jobs")
    def list_jobs(self) -> list[Job]:
        self.expire()
        return sorted(self.store.jobs.values(), key=lambda j: j.created, reverse=True)

    @app.get("/jobs/{job_id}")
    def get_job(self, job_id: str) -> Job:
        return self._job(job_id)

    @app.delete("/jobs/{job_id}", status_code=204)
    def delete_job(self, job_id: str) -> Response:
        self._job(job_id)
        if (task := self.tasks.pop(job_id, None)) is not None:
            task.cancel()
        self.store.delete(job_id)
        return Response(status_code=204)

    @app.get("/jobs/{job_id}/files/{name}")
    def file(self, job_id: str, name: str) -> FileResponse:
        job = self._job(job_id)
        if name not in job.files:
            raise NotFound(f"job {job_id} has no file '{name}' (it has: {', '.join(job.files)})")
        return FileResponse(self.store.folder(job_id) / name, filename=name)

    @app.get("/jobs/{job_id}/covers.zip")
    def archive(self, job_id: str) -> Response:
        job = self._job(job_id)
        if not job.files:
            raise NotFound(f"job {job_id} has no files yet (status: {job.status})")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            for name in job.files:
                zipped.write(self.store.folder(job_id) / name, arcname=name)
        filename = f"covers-{safe_name(Path(job.source).stem)[:40]}-{job.id[:8]}.zip"
        return Response(
            buffer.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def run(self, job: Job, source: str | FileValue, options: CoverOptions) -> None:
        """Run the pipeline for a job, saving its progress at every stage event."""
        folder = self.store.folder(job.id)

        def on_event(event: StageEvent) -> None:
            progress = job.stages.get(event.stage)
            if progress is None:
                return  # the download, skipped for a file
            progress.state = event.kind
            progress.detail = event.detail
            if event.kind in ("finished", "failed") and event.report is not None:
                timing = event.report.timings.get(event.stage)
                progress.seconds = timing.seconds if timing else None
            if event.report is not None:
                job.report = report_json(event.report)
            self.store.save(job)

        try:
            caller = DependencyCaller(self)
            finished = await run_covers(source, options, caller=caller, on_event=on_event)
            job.status = "done"
            if finished.failure is not None:
                job.status = "failed"
                job.failed_stage, job.error = finished.failure.stage, finished.failure.error
        except asyncio.CancelledError:  # deleted while running
            return
        except Exception as exc:  # a bug: say so on the job rather than lose it
            log.exception("job %s failed", job.id)
            finished, job.status, job.error = None, "failed", f"the studio failed: {exc}"
        if finished is not None:
            written = write_outputs(finished, folder)
            job.report = report_json(finished)
            job.files = [p.name for p in written if p.name != REPORT] + [REPORT]
        self.store.save(job)
        self.tasks.pop(job.id, None)

    def expire(self) -> None:
        for job_id in self.store.expired():
            self.store.delete(job_id)

    def _job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id} (it may have expired or been deleted)")
        return job


def _options(
    steps: int | None, size: int | None, seed: int | None, models: str | None
) -> CoverOptions:
    cover = {"steps": steps, "width": size, "height": size, "seed": seed}
    if models:
        cover["models"] = [m.strip() for m in models.split(",") if m.strip()]
    try:
        settings = CoverSettings(**{k: v for k, v in cover.items() if v is not None})
    except ValidationError as exc:
        raise ClientError(
            "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors(include_url=False))
        ) from exc
    return CoverOptions(cover=settings)


async def _read_upload(audio: UploadFile) -> bytes:
    limit = int(SETTINGS.max_upload_mb * 2**20)
    chunks, size = [], 0
    while chunk := await audio.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise AudioTooLarge(
                f"the upload is over {SETTINGS.max_upload_mb:g} MiB (STUDIO_MAX_UPLOAD_MB)"
            )
        chunks.append(chunk)
    if size == 0:
        raise EmptyAudio("the uploaded file is empty")
    return b"".join(chunks)


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""
