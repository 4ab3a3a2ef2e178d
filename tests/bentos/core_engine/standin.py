"""A stand-in for the Swiss AI Center core engine, written from its contract.

It does what the engine does with a service (swiss-ai-center/core-engine's
``backend/src``, read for this): registration (``POST /services``, 409 for a known slug,
the service's ``/status`` checked first, 503 when unreachable), the id by slug, updates
(``PATCH /services/{id}``), pings (``POST /services/{slug}/ping``, 404 for an unknown
slug), task reports (``PATCH /tasks/{id}``, ``data_out`` and ``status`` required), and
pipelines (``POST /pipelines``: each step's inputs are references whose types must be
among the matching field's, by position). To run a task it does as the engine does:
it stores the inputs in S3 under ``<uuid><extension>`` and posts the compute request.
A pipeline runs its steps when their ``needs`` ended, passes outputs by position, and
evaluates conditions with Python's ``eval`` over the step's .txt and .json inputs, after
the engine's rewrites (references to names, ``&&``, ``||``, ``!``).

Where it had to guess (the engine's tests of these parts are commented out), the
README's "core engine" section says so.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict

MIME = Literal[
    "image/jpeg", "image/png", "text/plain", "text/csv", "application/json",
    "application/pdf", "application/zip", "audio/mpeg", "audio/ogg",
]  # fmt: skip
EXTENSION = {"image/jpeg": ".jpg", "image/png": ".png", "text/plain": ".txt",
             "text/csv": ".csv", "application/json": ".json", "audio/mpeg": ".mp3",
             "audio/ogg": ".ogg"}  # fmt: skip
TAGS = {"GNR", "IP", "IR", "IG", "AP", "AG", "VP", "VG", "DP", "DG", "DPP", "NLP", "AD",
        "R", "TS", "C", "S", "SR", "SA", "NN", "XAI"}  # fmt: skip


class FieldDescription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    type: list[MIME]
    format_hint: Any = None


class Tag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    acronym: str


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    slug: str
    url: str
    summary: str
    description: str | None = None
    status: Literal["available", "unavailable", "disabled", "sleeping"] = "available"
    data_in_fields: list[FieldDescription]
    data_out_fields: list[FieldDescription]
    tags: list[Tag] | None = None
    docs_url: str | None = None
    has_ai: bool | None = False


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    slug: str | None = None
    url: str | None = None
    summary: str | None = None
    description: str | None = None
    status: str | None = None
    data_in_fields: list[FieldDescription] | None = None
    data_out_fields: list[FieldDescription] | None = None
    tags: list[Tag] | None = None
    docs_url: str | None = None
    has_ai: bool | None = None


class TaskUpdate(BaseModel):
    data_out: list[str]
    status: Literal["pending", "fetching", "processing", "saving", "finished", "error",
                    "scheduled", "skipped", "unavailable"] | None  # fmt: skip
    error_message: str | None = None


class StepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identifier: str
    needs: list[str]
    condition: str | None = None
    inputs: list[str]
    service_slug: str


class PipelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    slug: str
    summary: str
    description: str | None = None
    status: str = "available"
    data_in_fields: list[FieldDescription]
    data_out_fields: list[FieldDescription]
    tags: list[Tag] | None = None
    steps: list[StepCreate]


def engine_condition(condition: str, values: dict[str, Any]) -> bool:
    """A condition as the engine evaluates it: each loaded input's reference (``step.field``)
    rewritten to a name (``step_field``), then ``&&``, ``||`` and ``!`` to Python, then
    ``eval`` (here over test input only)."""
    names: dict[str, Any] = {}
    for ref, value in values.items():
        alias = re.sub(r"[-.]", "_", ref)
        names[alias] = value
        condition = condition.replace(ref, alias)
    for old, new in (("&&", "and"), ("||", "or"), ("!", "not ")):
        condition = condition.replace(old, new)
    return bool(eval(condition, {}, names))


@dataclass
class Storage:
    """The engine's S3 settings; what it sends every service."""

    host: str
    bucket: str
    key_id: str = "standin-key-id"
    secret: str = "standin-secret-key-never-logged"
    region: str = "us-east-1"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.host, region_name=self.region,
                            aws_access_key_id=self.key_id,
                            aws_secret_access_key=self.secret)  # fmt: skip


@dataclass
class Engine:
    storage: Storage
    url: str = ""
    services: dict[str, dict] = field(default_factory=dict)  # id -> service
    registrations: list[dict] = field(default_factory=list)  # every POST and PATCH body
    pings: list[tuple[str, float]] = field(default_factory=list)
    reports: dict[str, dict] = field(default_factory=dict)  # task id -> its PATCH body
    pipelines: dict[str, PipelineCreate] = field(default_factory=dict)
    reported: threading.Condition = field(default_factory=threading.Condition)

    def by_slug(self, slug: str) -> dict | None:  # a copy: the server thread adds to it
        return next((s for s in list(self.services.values()) if s["slug"] == slug), None)

    # -- as the engine does with one service ------------------------------------------

    def store(self, content: bytes, media: str) -> str:
        key = f"{uuid.uuid4()}{EXTENSION[media]}"
        self.storage.client().put_object(Bucket=self.storage.bucket, Key=key, Body=content)
        return key

    def read(self, key: str) -> bytes:
        return self.storage.client().get_object(Bucket=self.storage.bucket, Key=key)["Body"].read()

    def compute(self, slug: str, data_in: list[str], task_id: str | None = None,
                **overrides: str) -> tuple[str, httpx.Response]:  # fmt: skip
        """POST the task to the service registered as ``slug``, as the engine would."""
        task_id = task_id or str(uuid.uuid4())
        body = {
            "s3_access_key_id": self.storage.key_id,
            "s3_secret_access_key": self.storage.secret,
            "s3_region": self.storage.region,
            "s3_host": self.storage.host,
            "s3_bucket": self.storage.bucket,
            "task": {
                "id": task_id,
                "data_in": data_in,
                "status": "pending",
                "service_id": self.by_slug(slug)["id"],
                "data_out": None,
                "pipeline_execution_id": None,
                "error_message": None,
            },
            "callback_url": f"{self.url}/tasks/{task_id}",
        } | overrides
        answer = httpx.post(f"{self.by_slug(slug)['url']}/compute", json=body, timeout=5)
        return task_id, answer

    def wait(self, task_id: str, timeout: float = 120.0) -> dict:
        with self.reported:
            if not self.reported.wait_for(lambda: task_id in self.reports, timeout):
                raise AssertionError(f"task {task_id} was not reported in {timeout:g} s")
            return self.reports[task_id]

    def run(self, slug: str, files: list[tuple[bytes, str]], timeout: float = 120.0) -> dict:
        """Store the inputs, launch the task, wait for its report."""
        task_id, answer = self.compute(slug, [self.store(c, m) for c, m in files])
        assert answer.status_code == 200, answer.text
        return self.wait(task_id, timeout)

    # -- pipelines, as the engine runs them -------------------------------------------

    def run_pipeline(self, slug: str, files: list[tuple[bytes, str]]) -> dict[str, Any]:
        """Each step's status, and the pipeline's outputs (reference -> key)."""
        pipeline = self.pipelines[slug]
        refs = {f"pipeline.{f.name}": self.store(c, m)
                for f, (c, m) in zip(pipeline.data_in_fields, files, strict=True)}  # fmt: skip
        status: dict[str, str] = {}
        while len(status) < len(pipeline.steps):
            ready = [s for s in pipeline.steps if s.identifier not in status
                     and all(n in status for n in s.needs)]  # fmt: skip
            assert ready, f"steps wait for each other: {pipeline.steps}"
            for step in ready:
                keys = [refs[i] for i in step.inputs if i in refs]
                if step.condition and not self.condition(step.condition, step.inputs, refs):
                    status[step.identifier] = "skipped"
                    continue
                task_id, answer = self.compute(step.service_slug, keys)
                assert answer.status_code == 200, answer.text
                report = self.wait(task_id)
                status[step.identifier] = report["status"]
                if report["status"] != "finished":
                    return {"steps": status, "error": report["error_message"]}
                service = self.by_slug(step.service_slug)
                for out, key in zip(service["data_out_fields"], report["data_out"], strict=True):
                    refs[f"{step.identifier}.{out['name']}"] = key
        # by position, as the engine lists them: what a skipped step did not make is left out
        sources = [f.format_hint["pipeline_source"] for f in pipeline.data_out_fields]
        return {"steps": status, "outputs": [refs[s] for s in sources if s in refs]}

    def condition(self, condition: str, inputs: list[str], refs: dict[str, str]) -> bool:
        values: dict[str, Any] = {}
        for ref in inputs:
            key = refs.get(ref)
            if key is not None and key.endswith(".txt"):
                values[ref] = self.read(key).decode()
            elif key is not None and key.endswith(".json"):
                values[ref] = json.loads(self.read(key))
        return engine_condition(condition, values)

    # -- the HTTP side ------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/services")
        async def create(body: ServiceCreate) -> dict:
            self.registrations.append({"method": "POST", **body.model_dump()})
            if self.by_slug(body.slug) is not None:
                raise HTTPException(409, f"Service with slug '{body.slug}' already exists.")
            try:
                async with httpx.AsyncClient() as http:  # as the engine: 5 s
                    answer = await http.get(f"{body.url.rstrip('/')}/status")
            except httpx.HTTPError:
                raise HTTPException(503, "Service unreachable") from None
            service = {"id": str(uuid.uuid4()), **body.model_dump()}
            if answer.status_code != 200:
                service["status"] = "unavailable"
                self.services[service["id"]] = service
                raise HTTPException(500, "Service not available")
            self.services[service["id"]] = service
            return service

        @app.get("/services/slug/{slug}")
        async def find(slug: str) -> dict:
            service = self.by_slug(slug)
            if service is None:
                raise HTTPException(404, "Service Not Found")
            return service

        @app.patch("/services/{service_id}")
        async def update(service_id: str, body: ServiceUpdate) -> dict:
            self.registrations.append({"method": "PATCH", "id": service_id,
                                       **body.model_dump(exclude_unset=True)})  # fmt: skip
            if service_id not in self.services:
                raise HTTPException(404, "Service Not Found")
            self.services[service_id].update(body.model_dump(exclude_unset=True))
            return self.services[service_id]

        @app.post("/services/{slug}/ping")
        async def ping(slug: str) -> None:
            if self.by_slug(slug) is None:
                raise HTTPException(404, "Service Not Found")
            self.pings.append((slug, time.monotonic()))

        @app.patch("/tasks/{task_id}")
        async def report(task_id: str, body: TaskUpdate) -> dict:
            with self.reported:
                self.reports[task_id] = body.model_dump()
                self.reported.notify_all()
            return {"id": task_id, **body.model_dump()}

        @app.post("/pipelines")
        async def pipeline(body: PipelineCreate) -> dict:
            for step in body.steps:
                service = self.by_slug(step.service_slug)
                if service is None:
                    raise HTTPException(404, f"Service {step.service_slug} not found")
                for index, ref in enumerate(step.inputs):
                    source, _, name = ref.partition(".")
                    if source == "pipeline":
                        given = next(f.type for f in body.data_in_fields if f.name == name)
                    else:
                        producer = next(s for s in body.steps if s.identifier == source)
                        outputs = self.by_slug(producer.service_slug)["data_out_fields"]
                        given = next(f["type"] for f in outputs if f["name"] == name)
                    wanted = service["data_in_fields"][index]["type"]
                    if not set(given) <= set(wanted):
                        raise HTTPException(400, f"{ref} does not fit input {index} of "
                                            f"{step.service_slug}")  # fmt: skip
            self.pipelines[body.slug] = body
            return {"id": str(uuid.uuid4()), **body.model_dump()}

        return app


class Served:
    """Serve the stand-in on a port in a thread of the test process."""

    def __init__(self, engine: Engine, port: int) -> None:
        engine.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(engine.app(), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the engine stand-in did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
