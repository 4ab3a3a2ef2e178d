"""The actions service's submitted videos: a task each, run in the front's event loop.

BentoML's own task API (``@bentoml.task``) stores every upload base64 in SQLite, checks
the input only when the task runs, cannot cancel, and reports no progress; these tasks
are checked at submit (a bad video is a 4xx there), report their stage and progress,
stop when cancelled, and keep their result ``ttl_s`` after they end. Like BentoML's, they
live in the serving process: a restart forgets them (durable runs are the studio's).
At most ``max_running`` run at once; at most ``max_tasks`` are kept unfinished, beyond
which a submit is a 429.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bentos.common.errors import (
    ErrorAnswer,
    TaskCancelled,
    TaskNotDone,
    TooManyRequests,
    UnknownTask,
)
from marketplace.contracts.schemas import ErrorBody, TaskStatus

Work = Callable[["Task"], Awaitable[Any]]


@dataclass
class Task:
    id: str
    status: str = "queued"
    stage: str = "waiting"
    progress: float = 0.0
    result: Any = None
    error: ErrorAnswer | None = None
    ended: float | None = None
    runner: asyncio.Task | None = field(default=None, repr=False)

    def report(self, stage: str, progress: float) -> None:
        self.stage, self.progress = stage, round(min(max(progress, 0.0), 1.0), 4)

    def view(self) -> TaskStatus:
        error = ErrorBody(**self.error.to_body()) if self.error is not None else None
        return TaskStatus(task_id=self.id, status=self.status, stage=self.stage,
                          progress=self.progress, error=error)  # fmt: skip


class Tasks:
    def __init__(self, max_running: int, max_tasks: int, ttl_s: float) -> None:
        self.slots = asyncio.Semaphore(max_running)
        self.max_tasks, self.ttl_s = max_tasks, ttl_s
        self.tasks: dict[str, Task] = {}

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, t in self.tasks.items() if t.ended and now - t.ended > self.ttl_s]:
            del self.tasks[key]

    def submit(self, work: Work, cleanup: Callable[[], None] = lambda: None) -> Task:
        self._forget_old()
        unfinished = sum(t.ended is None for t in self.tasks.values())
        if unfinished >= self.max_tasks:
            cleanup()
            raise TooManyRequests(f"{unfinished} videos are waiting or being recognised; "
                                  "try again when one has finished")  # fmt: skip
        task = Task(uuid.uuid4().hex)
        self.tasks[task.id] = task
        task.runner = asyncio.get_running_loop().create_task(self._run(task, work, cleanup))
        return task

    async def _run(self, task: Task, work: Work, cleanup: Callable[[], None]) -> None:
        try:
            async with self.slots:
                task.status = "running"
                task.result = await work(task)
                task.status, task.stage, task.progress = "done", "done", 1.0
        except asyncio.CancelledError:
            task.status, task.stage = "cancelled", "cancelled"
        except ErrorAnswer as exc:
            task.status, task.error = "failed", exc
        except Exception as exc:  # a fault of the server: said, not raised into the loop
            from bentos.common.errors import InternalError

            task.status, task.error = "failed", InternalError(f"recognition failed: {exc!r}")
        finally:
            task.ended = time.monotonic()
            cleanup()

    def get(self, task_id: str) -> Task:
        self._forget_old()
        task = self.tasks.get(task_id)
        if task is None:
            raise UnknownTask(f"no task {task_id!r} (finished tasks are kept {self.ttl_s:g} s)")
        return task

    def result(self, task_id: str) -> Any:
        task = self.get(task_id)
        if task.status == "done":
            return task.result
        if task.status == "failed" and task.error is not None:
            raise task.error
        if task.status == "cancelled":
            raise TaskCancelled(f"task {task_id} was cancelled")
        raise TaskNotDone(f"task {task_id} is {task.status} ({task.stage}, "
                          f"{100 * task.progress:.0f} %)")  # fmt: skip

    def cancel(self, task_id: str) -> Task:
        task = self.get(task_id)
        if task.ended is None and task.runner is not None:
            task.runner.cancel()
        return task
