"""The engine: runs any valid pipeline definition against the services.

Each step starts as soon as the steps it depends on (its references, its condition, its
``needs``) have ended, so independent steps run at the same time. A step is skipped when
its condition is false, or when a value it requires comes from a skipped step and has no
fallback. A step has a timeout (its own, else its service's) and retries retryable
failures only (429, 502, 503, connection errors), with exponential backoff. A failed
step that is not ``optional`` fails the run: the steps still running are cancelled and
end ``cancelled``, every result obtained is kept, and the report names the step.

Events (started, retrying, finished, skipped, failed, cancelled) reach ``on_event`` in
the order they happen. With a :class:`StepCache`, a step whose call, service version and
inputs were seen before is answered from the cache, without calling the service.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from marketplace.calls import Caller, CallFailed, FileValue
from marketplace.conditions import ConditionError, parse_condition
from marketplace.contracts.catalogue import Catalogue, Endpoint, load_catalogue
from marketplace.contracts.pipeline import (
    INPUTS,
    PipelineDefinition,
    Reference,
    is_fallback,
    literal,
    parse_reference,
)
from marketplace.contracts.services import CALL_TIMEOUTS
from marketplace.validation import dependencies

StepStatus = Literal["pending", "started", "finished", "skipped", "failed", "cancelled"]
EventKind = Literal["started", "retrying", "finished", "skipped", "failed", "cancelled"]


class StepReport(BaseModel):
    call: str
    status: StepStatus = "pending"
    result: dict[str, Any] | None = None
    detail: str | None = Field(None, description="why it was skipped, failed or cancelled")
    error_status: int | None = Field(None, description="the service's HTTP status")
    started: float | None = Field(None, description="seconds from the start of the run")
    finished: float | None = None
    seconds: float | None = None
    attempts: int = 0
    cached: bool = False


class Failure(BaseModel):
    step: str
    error: str
    status: int | None = None


class RunReport(BaseModel):
    """Everything a run produced, also when it failed part way."""

    pipeline: str
    version: int
    definition: dict[str, Any] = Field(description="the exact definition that ran")
    inputs: dict[str, Any] = Field(description="the inputs; files by name and size")
    status: Literal["running", "done", "failed"] = "running"
    steps: dict[str, StepReport]
    outputs: dict[str, Any] = Field(default_factory=dict)
    failure: Failure | None = None
    total_seconds: float | None = None


class RunEvent(BaseModel):
    step: str
    kind: EventKind
    at: float
    detail: str | None = None
    result: dict[str, Any] | None = None


class InvalidInputs(ValueError):
    """The inputs do not fit the pipeline's declared inputs (nothing ran)."""


class StepCache:
    """Step results on disk, keyed by the call, the service's version and the inputs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.folder / f"{key}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.tmp"
        tmp.write_text(json.dumps(result))
        tmp.replace(self.folder / f"{key}.json")


class _Absent:
    """A value that is not there, and why (for the step that needed it)."""

    def __init__(self, why: str, skipped: bool) -> None:
        self.why, self.skipped = why, skipped


class _StepFailed(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Engine:
    def __init__(
        self,
        caller: Caller,
        *,
        catalogue: Catalogue | None = None,
        cache: StepCache | None = None,
        backoff_s: float = 1.0,
        max_parallel: int | None = None,
        retries: int | None = None,
    ) -> None:
        """``max_parallel``: the most steps calling their service at once in a run (None:
        as many as are ready; 1: one after another). ``retries``: for every step, in place
        of the definition's."""
        self.caller = caller
        self.catalogue = catalogue or load_catalogue()
        self.cache = cache
        self.backoff_s = backoff_s
        self.max_parallel = max_parallel
        self.retries = retries

    async def run(
        self,
        definition: PipelineDefinition,
        inputs: dict[str, Any],
        on_event: Callable[[RunEvent], None] | None = None,
    ) -> RunReport:
        run = _Run(self, definition, self._inputs(definition, inputs), on_event)
        await run.execute()
        return run.report

    def _inputs(self, definition: PipelineDefinition, given: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - set(definition.inputs))
        if unknown:
            known = ", ".join(definition.inputs) or "none"
            raise InvalidInputs(f"unknown input(s) {', '.join(unknown)} (inputs: {known})")
        values: dict[str, Any] = {}
        for name, declared in definition.inputs.items():
            value = given.get(name, declared.default)
            if value is None:
                if declared.required:
                    raise InvalidInputs(f"input '{name}' is required")
                continue
            if declared.port_type == "file":
                if isinstance(value, str | Path):
                    path = Path(value)
                    if not path.is_file():
                        raise InvalidInputs(f"input '{name}': no file {path}")
                    value = FileValue.read(path)
                if not isinstance(value, FileValue):
                    raise InvalidInputs(f"input '{name}' is a file: give its path")
            values[name] = value
        return values


class _Run:
    def __init__(
        self,
        engine: Engine,
        definition: PipelineDefinition,
        inputs: dict[str, Any],
        on_event: Callable[[RunEvent], None] | None,
    ) -> None:
        self.engine, self.d, self.inputs, self.on_event = engine, definition, inputs, on_event
        self.start = time.perf_counter()
        self.done = {step_id: asyncio.Event() for step_id in definition.steps}
        limit = engine.max_parallel
        self.slots = asyncio.Semaphore(limit) if limit else contextlib.nullcontext()
        self.failed_step: str | None = None
        self.report = RunReport(
            pipeline=definition.pipeline,
            version=definition.version,
            definition=definition.model_dump(mode="json", by_alias=True, exclude_defaults=True),
            inputs={k: _describe_value(v) for k, v in inputs.items()},
            steps={s: StepReport(call=step.call) for s, step in definition.steps.items()},
        )

    def now(self) -> float:
        return round(time.perf_counter() - self.start, 3)

    def emit(self, step: str, kind: EventKind, detail: str | None = None,
             result: dict[str, Any] | None = None, at: float | None = None) -> None:  # fmt: skip
        if self.on_event is not None:
            at = self.now() if at is None else at
            self.on_event(RunEvent(step=step, kind=kind, at=at, detail=detail, result=result))

    async def execute(self) -> None:
        tasks = {s: asyncio.create_task(self.step(s), name=s) for s in self.d.steps}
        self.tasks = tasks
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        report = self.report
        for name, value in self.d.outputs.items():
            resolved = self.value(value, None, None)
            report.outputs[name] = None if isinstance(resolved, _Absent) else _jsonable(resolved)
        report.status = "failed" if report.failure else "done"
        report.total_seconds = self.now()

    # -- one step -------------------------------------------------------------------------

    async def step(self, step_id: str) -> None:
        state = self.report.steps[step_id]
        try:
            for dep in sorted(dependencies(self.d, step_id)):
                await self.done[dep].wait()
            if self.failed_step is not None:
                self.end(step_id, "cancelled", f"not run: step '{self.failed_step}' failed")
                return
            await self.run_step(step_id, state)
        except asyncio.CancelledError:
            why = f"step '{self.failed_step}' failed" if self.failed_step else "the run stopped"
            self.end(step_id, "cancelled", f"cancelled: {why}")
            raise
        except Exception as exc:  # a fault of the engine: named on the step, never lost
            self.fail(step_id, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.done[step_id].set()

    async def run_step(self, step_id: str, state: StepReport) -> None:
        step = self.d.steps[step_id]
        endpoint = self.engine.catalogue.endpoint(step.call)
        assert endpoint is not None, f"{step.call}: validate the definition first"
        if step.when is not None:
            try:
                go = parse_condition(step.when).evaluate(self.condition_values())
            except ConditionError as exc:
                go, why = False, str(exc)
            else:
                why = f"its condition is false: {step.when}"
            if not go:
                self.end(step_id, "skipped", why)
                return
        arguments: dict[str, Any] = {}
        for name, value in step.with_.items():
            port = endpoint.input(name)
            resolved = self.value(value, step_id, port.type if port else None)
            if isinstance(resolved, _Absent):
                if port is not None and port.required:
                    if resolved.skipped:
                        self.end(
                            step_id, "skipped", f"its input '{name}' is absent: {resolved.why}"
                        )
                        return
                    self.fail(step_id, f"its input '{name}' is absent: {resolved.why}")
                    return
                continue
            arguments[name] = resolved
        async with self.slots:  # started when it may call its service
            state.status, state.started = "started", self.now()
            self.emit(step_id, "started", at=state.started)
            try:
                result = await self.call(step_id, endpoint, arguments, state)
            except _StepFailed as failed:
                self.fail(step_id, str(failed), failed.status)
                return
        state.result = result
        cached = "answered from the step cache (finished before)" if state.cached else None
        self.end(step_id, "finished", cached, result=result)

    async def call(
        self, step_id: str, endpoint: Endpoint, arguments: dict[str, Any], state: StepReport
    ) -> dict[str, Any]:
        step = self.d.steps[step_id]
        service = step.call.partition("/")[0]
        key = None
        cache = self.engine.cache
        if cache is not None:
            key = _cache_key(step.call, self.engine.catalogue.service(service).version, arguments)
            cached = cache.get(key)
            if cached is not None:
                state.cached = True
                return cached
        limit = step.timeout or CALL_TIMEOUTS[service]
        try:
            async with asyncio.timeout(limit):
                result = await self.attempts(step_id, service, endpoint, arguments, state)
        except TimeoutError:
            raise _StepFailed(f"no answer within {limit:g} s (the step's timeout)") from None
        except CallFailed as exc:
            message = str(exc)
            if exc.status == 504:
                message += " (the service's own timeout; not retried)"
            raise _StepFailed(message, exc.status) from exc
        if cache is not None and key is not None:
            cache.put(key, result)
        return result

    async def attempts(self, step_id: str, service: str, endpoint: Endpoint,
                       arguments: dict[str, Any], state: StepReport) -> dict[str, Any]:  # fmt: skip
        retries = self.engine.retries
        if retries is None:
            retries = self.d.steps[step_id].retries
        while True:
            state.attempts += 1
            try:
                return await self.engine.caller.call(service, endpoint, arguments)
            except CallFailed as exc:
                if not exc.retryable or state.attempts > retries:
                    raise
                delay = self.engine.backoff_s * 2 ** (state.attempts - 1)
                self.emit(step_id, "retrying", f"{exc}; retry in {delay:g} s")
                await asyncio.sleep(delay)

    def end(self, step_id: str, status: StepStatus, detail: str | None = None,
            result: dict[str, Any] | None = None) -> None:  # fmt: skip
        state = self.report.steps[step_id]
        state.status, state.detail = status, detail
        at = self.now()
        if state.started is not None:
            state.finished = at
            state.seconds = round(state.finished - state.started, 3)
        self.emit(step_id, status, detail, result, at)  # type: ignore[arg-type]

    def fail(self, step_id: str, error: str, status: int | None = None) -> None:
        self.report.steps[step_id].error_status = status
        self.end(step_id, "failed", error)
        if self.d.steps[step_id].optional:
            return
        if self.failed_step is None:
            self.failed_step = step_id
            self.report.failure = Failure(step=step_id, error=error, status=status)
            for other, task in self.tasks.items():
                if other != step_id and not task.done():
                    task.cancel()

    # -- values -------------------------------------------------------------------------

    def condition_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {INPUTS: {k: _jsonable(v) for k, v in self.inputs.items()}}
        for step_id, state in self.report.steps.items():
            if state.status == "finished" and state.result is not None:
                values[step_id] = state.result
        return values

    def value(self, value: Any, step_id: str | None, port_type: str | None) -> Any:
        """A ``with``/``outputs`` value resolved: a literal, a reference's value (a file
        decoded once for a file input), or _Absent."""
        if is_fallback(value):
            first = self.value(value["from"], step_id, port_type)
            if not isinstance(first, _Absent):
                return first
            return self.value(value["default"], step_id, port_type)
        ref = parse_reference(value)
        if ref is None:
            return literal(value)
        found = self.lookup(ref)
        if isinstance(found, _Absent) or port_type != "file" or isinstance(found, FileValue):
            return found
        return FileValue.from_base64(f"{ref.root}-{ref.path[-1]}", found, self.media_of(ref))

    def lookup(self, ref: Reference) -> Any:
        if ref.root == INPUTS:
            name = ref.path[0]
            if name not in self.inputs:
                return _Absent(f"input '{name}' was not given", skipped=False)
            return self.inputs[name]
        state = self.report.steps[ref.root]
        if state.status != "finished" or state.result is None:
            return _Absent(f"step '{ref.root}' {state.status}", skipped=True)
        node: Any = state.result
        for name in ref.path:
            if not isinstance(node, dict) or node.get(name) is None:
                return _Absent(f"{ref} is not in the result", skipped=True)
            node = node[name]
        return node

    def media_of(self, ref: Reference) -> str | None:
        endpoint = self.engine.catalogue.endpoint(self.d.steps[ref.root].call)
        port = endpoint.output(ref.path[0]) if endpoint else None
        return port.media if port else None


def _describe_value(value: Any) -> Any:
    if isinstance(value, FileValue):
        return {"file": value.name, "bytes": len(value.content)}
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, FileValue):
        return base64.b64encode(value.content).decode()
    return value


def _cache_key(call: str, version: str, arguments: dict[str, Any]) -> str:
    def canonical(value: Any) -> Any:
        if isinstance(value, FileValue):
            return {"sha256": hashlib.sha256(value.content).hexdigest()}
        return value

    inputs = {k: canonical(v) for k, v in arguments.items()}
    text = json.dumps({"call": call, "version": version, "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
