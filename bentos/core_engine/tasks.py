"""The bridge's tasks: a bounded queue, a few workers, and each task's four stages.

A task from the engine goes through ``fetching`` (its S3 objects, checked against its
fields), ``processing`` (one call of the marketplace service, through the pipeline
engine: the service's timeout, retries of retryable failures with backoff),
``saving`` (its outputs written to S3) and ends ``finished`` or ``error``; either way the
engine hears of it at the task's ``callback_url``, an error with the stage and its
reason. Past ``max_tasks`` tasks queued or running, new ones are refused (503).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from typing import Literal

import httpx

from bentos.core_engine.contract import ComputeRequest, TaskUpdate
from bentos.core_engine.fields import RESULT, Binding
from bentos.core_engine.settings import CoreEngineSettings
from bentos.core_engine.storage import StorageError, TaskStorage, task_storage
from bentos.core_engine.values import BadValue, check_keys, result_document, to_inputs, to_outputs
from marketplace.calls import Caller
from marketplace.contracts.pipeline import PipelineDefinition, PipelineInput, Step
from marketplace.engine import Engine, InvalidInputs, RunEvent

log = logging.getLogger("bentoml.marketplace.core_engine")

Stage = Literal["pending", "fetching", "processing", "saving", "finished", "error"]


class QueueFull(Exception):
    pass


class TaskFailed(Exception):
    """A task's failure at a stage; the message is what the engine shows its user."""

    def __init__(self, stage: Stage, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")


@dataclass
class Task:
    id: str
    slug: str
    status: Stage = "pending"
    error_message: str | None = None
    data_out: list[str] = field(default_factory=list)
    request: ComputeRequest | None = None  # dropped once reported: it holds credentials

    @property
    def done(self) -> bool:
        return self.status in ("finished", "error")


def one_step(binding: Binding) -> PipelineDefinition:
    """A pipeline of the one call a task makes, its inputs the engine's fields."""
    inputs = {
        f.name: PipelineInput(media=port.media) if f.kind == "file" else
        PipelineInput(type=port.type)
        for f in binding.inputs if (port := binding.endpoint.input(f.name)) is not None
    }  # fmt: skip
    step = Step(call=binding.call, with_={name: f"$inputs.{name}" for name in inputs})
    return PipelineDefinition(pipeline=binding.slug, version=1, inputs=inputs,
                              steps={"call": step})  # fmt: skip


class TaskQueue:
    def __init__(
        self,
        settings: CoreEngineSettings,
        bindings: dict[str, Binding],
        caller: Caller,
        http: httpx.AsyncClient,
    ) -> None:
        self.settings = settings
        self.bindings = bindings
        self.engine = Engine(caller, max_parallel=1)
        self.definitions = {slug: one_step(b) for slug, b in bindings.items()}
        self.http = http
        self.tasks: collections.OrderedDict[str, Task] = collections.OrderedDict()
        self.queue: asyncio.Queue[Task] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []
        self.reporting: set[asyncio.Task[None]] = set()  # reports in flight, their own tasks

    # -- the engine's requests ---------------------------------------------------------

    def submit(self, slug: str, request: ComputeRequest) -> Task:
        """Queue a task (the same task sent again is the same task); QueueFull past the
        limit."""
        task_id = request.task.id
        known = self.tasks.get(task_id)
        if known is not None and not known.done:
            return known
        if self.unfinished() >= self.settings.max_tasks:
            raise QueueFull(f"{self.settings.max_tasks} tasks are queued or running")
        task = Task(task_id, slug, request=request)
        self.tasks.pop(task_id, None)
        self.tasks[task_id] = task
        self.queue.put_nowait(task)
        self._forget_old()
        return task

    def find(self, slug: str, task_id: str) -> Task | None:
        task = self.tasks.get(task_id)
        return task if task is not None and task.slug == slug else None

    def unfinished(self) -> int:
        return sum(not t.done for t in self.tasks.values())

    def _forget_old(self) -> None:
        finished = [t.id for t in self.tasks.values() if t.done]
        for task_id in finished[: max(0, len(finished) - self.settings.keep_finished)]:
            del self.tasks[task_id]

    # -- workers -----------------------------------------------------------------------

    def start(self) -> None:
        self.workers = [asyncio.create_task(self._work())
                        for _ in range(self.settings.max_running)]  # fmt: skip

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop working: every unfinished task is reported as an error, and the reports
        in flight get ``grace_s`` to reach the engine (one try each for the new ones)."""
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        for task in [t for t in self.tasks.values() if not t.done]:
            stage = task.status
            task.status = "error"
            task.error_message = (
                f"{stage}: the bridge stopped before the task finished; submit it again"
            )
            self._send_report(task, attempts=1)
        if self.reporting:
            _, late = await asyncio.wait(self.reporting, timeout=grace_s)
            for report in late:
                report.cancel()
            if late:
                log.error("%d task report(s) did not reach the engine before the bridge "
                          "stopped", len(late))  # fmt: skip

    async def _work(self) -> None:
        while True:
            task = await self.queue.get()
            try:
                await self.run(task)
            except asyncio.CancelledError:
                raise
            except Exception:  # a worker never dies: the next task must still run
                log.exception("task %s (%s): the bridge failed", task.id, task.slug)
            finally:
                self.queue.task_done()

    async def run(self, task: Task) -> None:
        binding, request = self.bindings[task.slug], task.request
        assert request is not None
        try:
            task.status = "fetching"
            async with task_storage(
                request, self.settings.max_input_bytes, self.settings.engine_timeout_s
            ) as storage:
                keys = request.task.data_in
                try:
                    check_keys(binding, keys)
                    contents = [await storage.read(key) for key in keys]
                    inputs = to_inputs(binding, keys, contents)
                except (BadValue, StorageError) as exc:
                    raise TaskFailed("fetching", str(exc)) from None
                task.status = "processing"
                answer = await self._call(task, inputs)
                task.status = "saving"
                try:
                    task.data_out = await self._save(storage, binding, answer)
                except (BadValue, StorageError) as exc:
                    raise TaskFailed("saving", str(exc)) from None
            task.status = "finished"
        except TaskFailed as exc:
            task.status, task.error_message = "error", str(exc)
        except StorageError as exc:  # the storage itself: its address or credentials
            task.status, task.error_message = "error", f"{task.status}: {exc}"
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %s (%s) failed in %s", task.id, task.slug, task.status)
            task.error_message = f"{task.status}: an unexpected error in the bridge"
            task.status = "error"
        log.info("task %s (%s): %s%s", task.id, task.slug, task.status,
                 f" ({task.error_message})" if task.error_message else "")  # fmt: skip
        self._send_report(task)

    def _send_report(self, task: Task, attempts: int | None = None) -> None:
        """Report ``task`` in a task of its own: a worker moves on, and a stop waits for it."""
        report = asyncio.create_task(self._report(task, attempts))
        self.reporting.add(report)
        report.add_done_callback(self.reporting.discard)

    async def _call(self, task: Task, inputs: dict) -> dict:
        def retried(event: RunEvent) -> None:
            if event.kind == "retrying":
                log.warning("task %s: %s", task.id, event.detail)

        try:
            report = await self.engine.run(self.definitions[task.slug], inputs, retried)
        except InvalidInputs as exc:  # a JSON input that is null, for one
            raise TaskFailed("fetching", str(exc)) from None
        if report.failure is not None:
            raise TaskFailed("processing", report.failure.error)
        return report.steps["call"].result or {}

    async def _save(self, storage: TaskStorage, binding: Binding, answer: dict) -> list[str]:
        outputs = to_outputs(binding, answer)
        keys = {o.field.name: await storage.write(o.content, o.media) for o in outputs}
        result = await storage.write(result_document(binding, answer, keys), "application/json")
        keys[RESULT] = result
        return [keys[f.name] for f in binding.outputs]

    async def _report(self, task: Task, attempts: int | None = None) -> None:
        """PATCH the task's callback, retrying while the engine is unreachable or failing;
        then the task's request (its credentials) is dropped."""
        request = task.request
        if request is None:
            return
        try:
            await self._patch(task, request, attempts or self.settings.callback_attempts)
        finally:
            task.request = None

    async def _patch(self, task: Task, request: ComputeRequest, attempts: int) -> None:
        update = TaskUpdate(
            data_out=task.data_out if task.status == "finished" else [],
            status="finished" if task.status == "finished" else "error",
            error_message=task.error_message,
        )
        delay = 1.0
        for attempt in range(1, attempts + 1):
            try:
                answer = await self.http.patch(request.callback_url, json=update.model_dump())
                if answer.status_code < 500:
                    if answer.status_code >= 400:
                        log.error("task %s: the engine refused its report (%s): %s",
                                  task.id, answer.status_code, answer.text[:300])  # fmt: skip
                    return
                reason = f"answered {answer.status_code}"
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                reason = type(exc).__name__
            if attempt < attempts:
                await asyncio.sleep(delay)
                delay *= 2
        log.error("task %s: its report did not reach the engine (%s)", task.id, reason)
