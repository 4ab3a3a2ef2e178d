"""Runs of any pipeline: admitted into the database, queued durably, executed by the engine.

A run is admitted (inputs stored, a row ``queued``) and enqueued on the durable queue
(:mod:`bentos.studio.durable`), which starts at most ``STUDIO_MAX_RUNNING`` at once across
every studio process. :meth:`Runs.execute` runs it on the engine, with a step cache in the
run's folder: a run resumed after a crash answers its finished steps from there instead
of calling their services again. Every engine event is stored in order (the API streams
them); each step's files are written as it finishes; the run ends ``done``, ``failed``
(naming the step, or the storage or studio fault) or ``cancelled``, never stuck running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from bentos.studio.database import Database
from bentos.studio.storage import Storage, StorageFailed
from marketplace.calls import Caller
from marketplace.contracts.catalogue import Catalogue
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.engine import Engine, RunEvent, StepCache
from marketplace.runner import files_out, write_outputs

log = logging.getLogger("bentoml.studio")
RunStatus = Literal["queued", "running", "done", "failed", "cancelled"]
WATCH_S = 1.0  # how often a running run checks that it was not cancelled elsewhere


class StepView(BaseModel):
    call: str
    status: str = "pending"
    started: float | None = None
    seconds: float | None = None
    attempts: int = 0
    detail: str | None = None
    result: Any = Field(None, description="the step's result; files as {file, bytes}")


class RunView(BaseModel):
    id: str
    pipeline: str
    version: int
    status: RunStatus
    position: int | None = Field(None, description="place in the queue (1: next to start)")
    created: float
    started: float | None = None
    finished: float | None = None
    inputs: dict[str, Any]
    steps: dict[str, StepView]
    outputs: dict[str, Any] | None = None
    files: list[str] = Field(default_factory=list, description="results to download")
    failed_step: str | None = None
    error: str | None = None
    share: str | None = Field(None, description="the share token, when the run is shared")
    executor: str | None = Field(None, description="the studio process that runs (ran) it")


class Runs:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        catalogue: Catalogue,
        caller: Caller,
        executor: str,
    ) -> None:
        self.db, self.storage, self.catalogue, self.caller = db, storage, catalogue, caller
        self.executor = executor
        self.loop: asyncio.AbstractEventLoop | None = None  # the studio's: runs execute on it
        self.tasks: dict[str, asyncio.Task] = {}

    # -- admission -------------------------------------------------------------------------

    def admit(
        self,
        owner: str,
        definition: PipelineDefinition,
        values: dict[str, Any],
        uploads: dict[str, tuple[str, bytes]],
        max_queued: int,
    ) -> dict[str, Any]:
        """Store the inputs and insert the run, queued (QueueFull past ``max_queued``)."""
        run_id = uuid.uuid4().hex
        inputs = dict(values)
        try:
            for name, (filename, content) in uploads.items():
                stored = self.storage.save_input(run_id, name, filename, content)
                inputs[name] = {"file": stored, "name": filename, "bytes": len(content)}
            row = {
                "id": run_id,
                "owner": owner,
                "share": None,
                "pipeline": definition.pipeline,
                "version": definition.version,
                "definition": definition.model_dump(
                    mode="json", by_alias=True, exclude_defaults=True
                ),
                "inputs": inputs,
                "status": "queued",
                "created": time.time(),
                "steps": {
                    s: StepView(call=step.call).model_dump() for s, step in definition.steps.items()
                },
                "files": [],
            }
            self.db.admit(row, max_queued)
        except BaseException:
            self.storage.delete(run_id)
            raise
        return row

    def view(self, row: dict[str, Any], *, owner: bool) -> RunView:
        return RunView(
            **{k: row[k] for k in RunView.model_fields if k in row and k != "share"},
            position=self.db.position(row),
            share=row.get("share") if owner else None,
        )

    # -- execution -------------------------------------------------------------------------

    async def execute(self, run_id: str) -> str:
        """Run (or resume) a run to its end; returns its final status."""
        row = await asyncio.to_thread(self.db.start, run_id, self.executor)
        if row is None:
            return "gone"  # deleted or cancelled while it waited
        task = asyncio.current_task()
        assert task is not None
        self.tasks[run_id] = task
        watcher = asyncio.create_task(self._watch(run_id, task))
        try:
            return await self._execute(row)
        finally:
            watcher.cancel()
            self.tasks.pop(run_id, None)

    async def _execute(self, row: dict[str, Any]) -> str:
        run_id = row["id"]
        writer = _EventWriter(
            self, run_id, row["steps"], await asyncio.to_thread(self.db.last_seq, run_id)
        )
        try:
            definition = PipelineDefinition.model_validate(row["definition"])
            inputs = self._inputs(run_id, definition, row["inputs"])
            engine = Engine(
                self.caller, catalogue=self.catalogue, cache=StepCache(self.storage.cache(run_id))
            )
            report = await engine.run(definition, inputs, writer.on_event)
            files = self.storage.files(run_id)
            written = await asyncio.to_thread(write_outputs, report, files, self.catalogue)
            outputs = json.loads((files / "outputs.json").read_text())
            ended = {
                "status": report.status,
                "finished": time.time(),
                "outputs": outputs,
                "files": sorted({*writer.files, *(p.name for p in written)}),
                "failed_step": report.failure.step if report.failure else None,
                "error": report.failure.error if report.failure else None,
            }
        except asyncio.CancelledError:
            await writer.drain()
            raise
        except StorageFailed as exc:
            ended = _failed(f"storage: {exc}")
        except OSError as exc:  # a disk full or failing while results were written
            ended = _failed(f"storage: the results could not be written: {exc}")
        except Exception as exc:  # a fault of the studio: said on the run, never lost
            log.exception("run %s failed", run_id)
            ended = _failed(f"the studio failed: {type(exc).__name__}: {exc}")
        try:
            await writer.drain()
        except StorageFailed as exc:
            ended = _failed(f"storage: {exc}")
        await asyncio.to_thread(self.db.update, run_id, steps=writer.steps, **ended)
        return str(ended["status"])

    def _inputs(
        self, run_id: str, definition: PipelineDefinition, stored: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in stored.items():
            declared = definition.inputs.get(name)
            if declared is not None and declared.port_type == "file":
                values[name] = self.storage.read_input(run_id, value["file"], declared.media)
            else:
                values[name] = value
        return values

    async def _watch(self, run_id: str, task: asyncio.Task) -> None:
        """Stop the run when it is cancelled or deleted (by this process or another)."""
        while True:
            await asyncio.sleep(WATCH_S)
            row = await asyncio.to_thread(self.db.run, run_id)
            if row is None or row["status"] == "cancelled":
                task.cancel()
                return

    def cancel_here(self, run_id: str) -> None:
        task = self.tasks.get(run_id)
        if task is not None:
            task.cancel()


def _failed(error: str) -> dict[str, Any]:
    return {"status": "failed", "finished": time.time(), "error": error}


class _EventWriter:
    """Stores the engine's events in order, off the event loop; keeps the steps' view and
    writes each finished step's files."""

    def __init__(self, runs: Runs, run_id: str, steps: dict[str, Any], seq: int) -> None:
        self.runs, self.run_id, self.steps, self.seq = runs, run_id, steps, seq
        self.files: set[str] = set()
        self.queue: asyncio.Queue[tuple[int, dict[str, Any], dict[str, Any]] | None] = (
            asyncio.Queue()
        )
        self.task = asyncio.create_task(self._write())
        self.failure: BaseException | None = None

    def on_event(self, event: RunEvent) -> None:
        step = self.steps[event.step]
        step["status"] = event.kind if event.kind != "retrying" else "started"
        step["detail"] = event.detail
        if event.kind == "started":
            step["started"], step["attempts"] = event.at, step.get("attempts", 0) + 1
        elif event.kind == "retrying":
            step["attempts"] = step.get("attempts", 0) + 1
        elif step.get("started") is not None:
            step["seconds"] = round(event.at - step["started"], 3)
        body = event.model_dump(mode="json", exclude={"result"})
        if event.result is not None:
            step["result"] = body["result"] = self._files_of(event.step, event.result)
        self.seq += 1
        self.queue.put_nowait((self.seq, body, json.loads(json.dumps(self.steps))))

    def _files_of(self, step_id: str, result: dict[str, Any]) -> Any:
        call = self.steps[step_id]["call"]
        endpoint = self.runs.catalogue.endpoint(call)
        schema = endpoint.output_schema if endpoint else {}
        folder = self.runs.storage.files(self.run_id)
        written: list[Path] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            described = files_out(result, schema, folder, step_id, written)
        except OSError as exc:
            raise StorageFailed(
                f"the results of step '{step_id}' could not be written: {exc}"
            ) from exc
        self.files.update(p.name for p in written)
        return described

    async def _write(self) -> None:
        while (item := await self.queue.get()) is not None:
            seq, body, steps = item
            try:
                await asyncio.to_thread(self.runs.db.add_event, self.run_id, seq, body, steps)
            except Exception as exc:  # kept: the run ends failed with it
                self.failure = exc
                log.exception("run %s: event %d not stored", self.run_id, seq)

    async def drain(self) -> None:
        if not self.task.done():
            self.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self.task)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise StorageFailed(f"the run's progress could not be stored: {failure}")
