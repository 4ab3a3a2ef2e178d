"""The marketplace API of the studio (JSON; errors ``{"error", "detail"}``; ``/docs``).

The catalogue, the shipped and saved pipelines, their validation, and durable runs of
any of them: submitted as a multipart form (one part per input), queued, executed, their
step events streamed (Server-Sent Events), their files downloaded. A run is visible to the
owner token that created it (:mod:`bentos.studio.owners`), and to whoever has its share
link once the owner asked for one.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from bentos.common.errors import ClientError, NotFound, ServerError
from bentos.common.settings import MarketplaceSettings, Profile
from bentos.studio.database import Database, QueueFull
from bentos.studio.durable import Durable
from bentos.studio.runs import Runs, RunView
from bentos.studio.settings import StudioSettings
from bentos.studio.storage import Storage, StorageFailed, safe_name
from marketplace.contracts.catalogue import Catalogue
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.contracts.schemas import ErrorBody
from marketplace.runner import PIPELINES_DIR
from marketplace.validation import Problem, input_problems, validate_definition, validate_text

EVENTS_POLL_S = 0.3
ENDED = ("done", "failed", "cancelled")
CHUNK = 1 << 20


class Busy(ClientError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "queue_full"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


class Conflict(ClientError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


class InvalidPipeline(ClientError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_pipeline"


class InvalidInputs(ClientError):
    code = "invalid_inputs"


class UploadTooLarge(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "upload_too_large"


class StorageError(ClientError):
    status = HTTPStatus.INSUFFICIENT_STORAGE
    code = "storage_failed"


class QueueUnavailable(ServerError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "queue_unavailable"


@dataclass
class Context:
    settings: StudioSettings
    db: Database
    storage: Storage
    catalogue: Catalogue
    runs: Runs
    durable: Durable


def context(request: Request) -> Context:
    return request.app.state.context


def owner(request: Request) -> str:
    return request.state.owner


Ctx = Annotated[Context, Depends(context)]
Owner = Annotated[str, Depends(owner)]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": why}
    for status, why in (
        (400, "bad input, named"), (403, "no owner token, or a cross-site write"),
        (404, "not found, or not yours"), (413, "an upload over STUDIO_MAX_UPLOAD_MB"),
        (422, "an invalid pipeline, every error named"), (429, "the queue is full"),
        (503, "the queue's database is away"),
    )
}  # fmt: skip
router = APIRouter(prefix="/api", responses=ERRORS)


class PipelineInfo(BaseModel):
    name: str
    version: int
    description: str
    source: str  # shipped | saved
    definition: dict[str, Any]
    yaml: str | None = None


class Checked(BaseModel):
    valid: bool = Field(description="no errors (warnings allowed)")
    errors: list[Problem]
    warnings: list[Problem]
    document: dict[str, Any] | None = Field(
        None, description="the definition as JSON, when the body was a YAML or JSON mapping"
    )
    yaml: str | None = Field(None, description="the same definition as YAML")
    typed: bool = Field(
        False, description="it parsed as a pipeline, so the catalogue's checks (types) ran"
    )


class Saved(BaseModel):
    name: str
    version: int


class Shared(BaseModel):
    share: str
    url: str


# -- the catalogue and pipelines ----------------------------------------------------------


class About(BaseModel):
    profile: str = Field(description="full: the real models; smoke: tiny random-weight models")
    note: str | None = Field(None, description="what the profile means for the results")


@router.get("/about")
def about() -> About:
    """Which models answer: with the smoke profile, every result is meaningless."""
    profile = MarketplaceSettings().profile
    note = None
    if profile is Profile.SMOKE:
        note = (
            "smoke profile: every model here is tiny and has random weights, so lyrics, "
            "genres, emotions and covers are meaningless; serve with PROFILE=full for real ones"
        )
    return About(profile=profile.value, note=note)


@router.get("/owner")
def get_owner(who: Owner) -> dict[str, str]:
    """Your owner token: send it back in X-Studio-Owner (browsers keep it in a cookie)."""
    return {"owner": who}


@router.get("/services")
def services(ctx: Ctx) -> dict[str, Any]:
    """The catalogue: every service, its endpoints and their typed ports."""
    return ctx.catalogue.model_dump(mode="json")


@router.get("/services/{name}/openapi.json")
def service_openapi(ctx: Ctx, name: str) -> dict[str, Any]:
    """An OpenAPI document of one service, from the catalogue's schemas (which are
    generated from the service's own request and answer models)."""
    service = ctx.catalogue.service(name)
    if service is None:
        known = ", ".join(s.name for s in ctx.catalogue.services)
        raise NotFound(f"no service '{name}' (services: {known})")
    paths = {}
    for endpoint in service.endpoints:
        uploads = any(p.json_schema.get("format") == "binary" for p in endpoint.inputs)
        media = "multipart/form-data" if uploads else "application/json"
        paths[endpoint.route] = {
            "post": {
                "summary": endpoint.summary,
                "operationId": endpoint.name,
                "requestBody": {"required": True, "content": {
                    media: {"schema": endpoint.input_schema}}},
                "responses": {"200": {"description": "the answer", "content": {
                    "application/json": {"schema": endpoint.output_schema}}}},
            }
        }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": service.name, "version": service.version, "summary": service.summary},
        "paths": paths,
    }


def shipped(name: str) -> PipelineInfo | None:
    path = PIPELINES_DIR / f"{name}.yaml"
    if not path.is_file():
        return None
    text = path.read_text()
    definition = PipelineDefinition.model_validate(yaml.safe_load(text))
    return PipelineInfo(
        name=name,
        version=definition.version,
        description=definition.description,
        source="shipped",
        definition=_dump(definition),
        yaml=text,
    )


def saved(ctx: Context, name: str, version: int | None = None) -> PipelineInfo | None:
    row = ctx.db.pipeline(name, version)
    if row is None:
        return None
    definition = PipelineDefinition.model_validate(yaml.safe_load(row["text"]))
    return PipelineInfo(
        name=name,
        version=row["version"],
        description=definition.description,
        source="saved",
        definition=_dump(definition),
        yaml=row["text"],
    )


def _dump(definition: PipelineDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)


@router.get("/pipelines")
def list_pipelines(ctx: Ctx) -> list[PipelineInfo]:
    """The shipped pipelines, then the saved ones (their latest versions)."""
    found = [shipped(p.stem) for p in sorted(PIPELINES_DIR.glob("*.yaml"))]
    found += [saved(ctx, row["name"]) for row in ctx.db.pipelines()]
    return [p.model_copy(update={"yaml": None}) for p in found if p is not None]


@router.get("/pipelines/{name}")
def get_pipeline(ctx: Ctx, name: str, version: int | None = None) -> PipelineInfo:
    found = shipped(name)
    if found is None or (version is not None and found.version != version):
        found = saved(ctx, name, version)
    if found is None:
        raise NotFound(f"no pipeline '{name}'" + (f" version {version}" if version else ""))
    return found


async def _definition_text(request: Request) -> str:
    body = (await request.body()).decode("utf-8", errors="replace")
    if not body.strip():
        raise ClientError("send the pipeline as YAML or JSON in the request body")
    return body


DEFINITION_BODY = {
    "requestBody": {
        "required": True,
        "description": "the pipeline definition, as YAML or JSON",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post("/pipelines/validate", openapi_extra=DEFINITION_BODY)
async def validate(request: Request) -> Checked:
    """Every problem of a definition, each naming where it is; ``valid`` when none is an
    error. The definition comes back as JSON and as YAML (the editor's two views)."""
    text = await _definition_text(request)
    result = validate_text(text)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict):
        document = None
    return Checked(
        valid=result.valid,
        errors=result.errors,
        warnings=result.warnings,
        document=document,
        yaml=yaml.safe_dump(document, sort_keys=False, allow_unicode=True) if document else None,
        typed=result.definition is not None,
    )


@router.put("/pipelines/{name}", status_code=201, openapi_extra=DEFINITION_BODY)
async def save_pipeline(ctx: Ctx, request: Request, name: str) -> Saved:
    """Save a pipeline: validated, then stored as its next version (runs keep theirs)."""
    if (PIPELINES_DIR / f"{name}.yaml").is_file():
        raise Conflict(f"'{name}' is a shipped pipeline: save yours under another name")
    try:
        data = yaml.safe_load(await _definition_text(request))
    except yaml.YAMLError as exc:
        raise InvalidPipeline(f"not YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidPipeline("a pipeline is a mapping (pipeline, version, steps, ...)")
    data = {**data, "pipeline": name, "version": data.get("version") or 1}
    result = validate_definition(data, ctx.catalogue)
    if not result.valid:
        raise InvalidPipeline("; ".join(str(p) for p in result.errors))
    assert result.definition is not None
    definition = result.definition

    def text_of(version: int) -> str:
        dumped = _dump(definition.model_copy(update={"version": version}))
        return yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True)

    version = await asyncio.to_thread(ctx.db.save_pipeline, name, text_of)
    return Saved(name=name, version=version)


# -- runs ---------------------------------------------------------------------------------


RUN_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "additionalProperties": True,
            "description": "one part per input of the pipeline (GET /api/pipelines/{name})",
        }}},
    }
}  # fmt: skip


@router.post("/pipelines/{name}/runs", status_code=202, openapi_extra=RUN_BODY)
async def submit(
    ctx: Ctx, who: Owner, request: Request, name: str, version: int | None = None
) -> RunView:
    """Start a run: a multipart form with one part per input (files as file parts; numbers,
    booleans, lists and objects as JSON text). Answers at once, queued or running."""
    info = get_pipeline(ctx, name, version)
    definition = PipelineDefinition.model_validate(info.definition)
    _refuse_oversized(request, definition, ctx.settings)
    values, uploads = await _read_inputs(request, definition, ctx.settings)
    problems = input_problems(definition, values, ctx.catalogue)
    if problems:  # a value the service would refuse: said now, not after the steps before
        raise InvalidInputs("; ".join(problems))
    try:
        row = await asyncio.to_thread(
            ctx.runs.admit, who, definition, values, uploads, ctx.settings.max_queued
        )
    except QueueFull as full:
        waiting = full.args[0]
        raise Busy(f"{waiting} runs are waiting (STUDIO_MAX_QUEUED); try again later") from None
    except StorageFailed as exc:
        raise StorageError(str(exc)) from exc
    try:
        await ctx.durable.enqueue(row["id"])
    except Exception as exc:  # the queue's database is away: the run says so, and so do we
        error = f"the run could not be queued: {type(exc).__name__}: {exc}"
        await asyncio.to_thread(ctx.db.update, row["id"], status="failed", error=error)
        raise QueueUnavailable(error) from exc
    return await asyncio.to_thread(ctx.runs.view, row, owner=True)


def _refuse_oversized(
    request: Request, definition: PipelineDefinition, settings: StudioSettings
) -> None:
    """A declared length over what the pipeline's file inputs may take is refused before
    the body is read (a body without a length is counted as it is read)."""
    length = request.headers.get("content-length", "")
    files = sum(1 for i in definition.inputs.values() if i.port_type == "file")
    ceiling = max(files, 1) * settings.max_upload_mb * 2**20 + 2**20  # + the form's fields
    if length.isdigit() and int(length) > ceiling:
        raise UploadTooLarge(
            f"the request is {int(length) / 2**20:.0f} MiB; each file may be at most "
            f"{settings.max_upload_mb:g} MiB (STUDIO_MAX_UPLOAD_MB)"
        )


async def _read_inputs(
    request: Request, definition: PipelineDefinition, settings: StudioSettings
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    form = await request.form(
        max_files=len(definition.inputs) + 1, max_fields=len(definition.inputs) + 1
    )
    unknown = sorted(set(form) - set(definition.inputs))
    if unknown:
        known = ", ".join(definition.inputs) or "none"
        raise InvalidInputs(f"unknown input(s) {', '.join(unknown)} (inputs: {known})")
    values: dict[str, Any] = {}
    uploads: dict[str, tuple[str, bytes]] = {}
    limit = int(settings.max_upload_mb * 2**20)
    for name, declared in definition.inputs.items():
        given = form.get(name)
        if given is None or given == "":
            if declared.required and declared.default is None:
                raise InvalidInputs(f"input '{name}' is required")
            continue
        if declared.port_type == "file":
            if not isinstance(given, UploadFile):
                raise InvalidInputs(f"input '{name}' is a file: send it as a file part")
            content = await _read_upload(given, limit, name, settings.max_upload_mb)
            uploads[name] = (given.filename or name, content)
            continue
        if isinstance(given, UploadFile):
            raise InvalidInputs(f"input '{name}' is a {declared.port_type}, not a file")
        values[name] = _parse(name, declared.port_type, given)
    return values, uploads


async def _read_upload(upload: UploadFile, limit: int, name: str, limit_mb: float) -> bytes:
    chunks, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"input '{name}' is over {limit_mb:g} MiB (STUDIO_MAX_UPLOAD_MB)")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInputs(f"input '{name}': the file is empty")
    return b"".join(chunks)


def _parse(name: str, kind: str, text: str) -> Any:
    if kind == "string":
        return text
    try:
        value = json.loads(text)
    except ValueError:
        if kind == "any":
            return text
        raise InvalidInputs(f"input '{name}' should be a {kind}, got {text[:40]!r}") from None
    expected = {
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }.get(kind)
    wrong_bool = kind in ("integer", "number") and isinstance(value, bool)
    if expected is not None and (not isinstance(value, expected) or wrong_bool):
        raise InvalidInputs(f"input '{name}' should be a {kind}, got {text[:40]!r}")
    return value


def _visible(ctx: Context, who: str, run_id: str, share: str | None) -> tuple[dict, bool]:
    """The run if the caller may see it (its owner, or holding its share token)."""
    row = ctx.db.run(run_id) if len(run_id) == 32 else None
    if row is not None and row["owner"] == who:
        return row, True
    if row is not None and share and row["share"] and secrets.compare_digest(share, row["share"]):
        return row, False
    raise NotFound(f"no run {run_id} of yours (it may have expired or been deleted)")


Share = Annotated[str | None, Query(description="the share token of someone else's run")]


@router.get("/runs")
def list_runs(ctx: Ctx, who: Owner) -> list[RunView]:
    """Your runs, newest first."""
    return [ctx.runs.view(row, owner=True) for row in ctx.db.runs_of(who)]


@router.get("/runs/{run_id}")
def get_run(ctx: Ctx, who: Owner, run_id: str, share: Share = None) -> RunView:
    row, mine = _visible(ctx, who, run_id, share)
    return ctx.runs.view(row, owner=mine)


@router.post("/runs/{run_id}/share")
def share_run(ctx: Ctx, who: Owner, run_id: str) -> Shared:
    """A link that shows this run (read only) to whoever has it."""
    row, _ = _visible(ctx, who, run_id, None)
    token = row["share"] or secrets.token_urlsafe(24)
    ctx.db.update(run_id, share=token)
    return Shared(share=token, url=f"/api/runs/{run_id}?share={token}")


@router.get("/runs/{run_id}/events", response_class=StreamingResponse)
async def events(
    ctx: Ctx,
    who: Owner,
    run_id: str,
    share: Share = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events: each step event as it happens (``id`` its number, ``event`` its
    kind), then ``end`` with the run's status. Reconnecting with ``Last-Event-ID`` sends
    what came after it."""
    await asyncio.to_thread(_visible, ctx, who, run_id, share)
    after = int(last_event_id) if (last_event_id or "").isdigit() else 0

    async def stream() -> AsyncIterator[str]:
        seen = after
        while True:
            found = await asyncio.to_thread(ctx.db.events_after, run_id, seen)
            for seq, body in found:
                seen = seq
                yield f"id: {seq}\nevent: {body['kind']}\ndata: {json.dumps(body)}\n\n"
            row = await asyncio.to_thread(ctx.db.run, run_id)
            if row is None or (row["status"] in ENDED and not found):
                status = row["status"] if row else "deleted"
                yield f"event: end\ndata: {json.dumps({'status': status})}\n\n"
                return
            if not found:
                yield ": waiting\n\n"
                await asyncio.sleep(EVENTS_POLL_S)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/runs/{run_id}/files/{name}", response_class=FileResponse)
def run_file(ctx: Ctx, who: Owner, run_id: str, name: str, share: Share = None) -> FileResponse:
    row, _ = _visible(ctx, who, run_id, share)
    path = ctx.storage.result_file(run_id, name) if name in row["files"] else None
    if path is None:
        have = ", ".join(row["files"]) or "none yet"
        raise NotFound(f"run {run_id} has no file '{name}' (it has: {have})")
    return FileResponse(path, filename=safe_name(name))


@router.get("/runs/{run_id}/archive.zip", response_class=StreamingResponse)
def archive(ctx: Ctx, who: Owner, run_id: str, share: Share = None) -> StreamingResponse:
    """Every file of the run in one zip, streamed."""
    row, _ = _visible(ctx, who, run_id, share)
    if not row["files"]:
        raise NotFound(f"run {run_id} has no files yet (status: {row['status']})")
    filename = f"{safe_name(row['pipeline'])}-{run_id[:8]}.zip"
    return StreamingResponse(
        ctx.storage.zipped(run_id, row["files"]),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.delete("/runs/{run_id}", status_code=204)
async def delete_run(ctx: Ctx, who: Owner, run_id: str) -> Response:
    """Cancel the run if it is queued or running, and delete it with its files."""
    await asyncio.to_thread(_visible, ctx, who, run_id, None)  # yours, or not found
    await asyncio.to_thread(ctx.db.update, run_id, status="cancelled")
    await ctx.durable.cancel(run_id)
    ctx.runs.cancel_here(run_id)
    await asyncio.to_thread(ctx.db.delete, run_id)
    await asyncio.to_thread(ctx.storage.delete, run_id)
    await ctx.durable.forget(run_id)
    return Response(status_code=204)
