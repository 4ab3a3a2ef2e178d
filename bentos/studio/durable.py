"""Durable execution of runs with DBOS Transact: the queue, its limit, recovery.

A run is a DBOS workflow (``studio.run``, its id the run's id) on the queue
``studio-runs``, whose global concurrency is ``STUDIO_MAX_RUNNING``: however many
submissions arrive together, and however many studio processes share a PostgreSQL
database, no more run at once. The workflow's one step executes the run on the studio's
event loop (:meth:`Runs.execute`); the run's step cache makes the re-execution of a
recovered run skip the pipeline steps that had finished.

Recovery: a studio that starts again recovers the runs it held (DBOS recovers the
workflows of its ``executor_id`` at launch). A studio that dies for good is noticed by
the others through the heartbeats in the database: after ``STUDIO_TAKEOVER_AFTER_S`` of
silence, one of them recovers its workflows (DBOS's recovery of another executor's
pending workflows: ``DBOS._recover_pending_workflows``, pinned with the dbos version).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from dbos import DBOS, SetWorkflowID

if TYPE_CHECKING:
    from bentos.studio.database import Database
    from bentos.studio.runs import Runs
    from bentos.studio.settings import StudioSettings

log = logging.getLogger("bentoml.studio")
QUEUE = "studio-runs"
# Part of every workflow's identity: a workflow is recovered only by code of its version.
# Bump it when the workflow's steps change in a way an unfinished run could not replay.
APP_VERSION = "studio-runs-1"
QUEUE_POLL_S = 0.2

_runs: Runs | None = None  # this process's runs, set by Durable.launch


@DBOS.workflow(name="studio.run")
async def run_workflow(run_id: str) -> str:
    return await execute_run(run_id)


@DBOS.step(name="studio.execute")
async def execute_run(run_id: str) -> str:
    """The run on the studio's event loop (where its service clients live)."""
    runs = _runs
    assert runs is not None and runs.loop is not None, "the studio has not started"
    future = asyncio.run_coroutine_threadsafe(runs.execute(run_id), runs.loop)
    return await asyncio.wrap_future(future)


class Durable:
    def __init__(self, settings: StudioSettings, db: Database, runs: Runs) -> None:
        self.settings, self.db, self.runs = settings, db, runs
        self.stop = threading.Event()
        self.beat: threading.Thread | None = None

    def launch(self) -> None:
        """Start DBOS (recovering this executor's runs) and the heartbeat. Blocking: call
        it off the event loop."""
        global _runs
        _runs = self.runs
        DBOS(
            config={
                "name": "ai-marketplace-studio",
                "system_database_url": self.settings.dbos_database(),
                "application_version": APP_VERSION,
                "executor_id": self.settings.executor_id,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        limit = self.settings.max_running
        DBOS.register_queue(
            QUEUE,
            global_concurrency=limit,
            worker_concurrency=limit,
            polling_interval_sec=QUEUE_POLL_S,
        )
        self.db.heartbeat(self.settings.executor_id)
        self.beat = threading.Thread(target=self._heartbeat, name="studio-heartbeat", daemon=True)
        self.beat.start()

    async def enqueue(self, run_id: str) -> None:
        with SetWorkflowID(run_id):
            await DBOS.enqueue_workflow_async(QUEUE, run_workflow, run_id)

    async def cancel(self, run_id: str) -> None:
        with contextlib.suppress(Exception):  # not enqueued yet, or already ended
            await DBOS.cancel_workflow_async(run_id)

    async def forget(self, run_id: str) -> None:
        with contextlib.suppress(Exception):
            await DBOS.delete_workflow_async(run_id)

    def destroy(self) -> None:
        """Stop taking runs; the unfinished ones stay pending, resumed at the next start."""
        self.stop.set()
        DBOS.destroy(workflow_completion_timeout_sec=0)

    def _heartbeat(self) -> None:
        me = self.settings.executor_id
        while not self.stop.wait(self.settings.heartbeat_s):
            try:
                self.db.heartbeat(me)
                silent_since = time.time() - self.settings.takeover_after_s
                for other in self.db.silent_executors(silent_since):
                    if other != me:
                        self.take_over(other)
                self.expire()
            except Exception:  # the database is away: try again at the next beat
                log.exception("studio heartbeat failed")

    def expire(self) -> None:
        """Delete the finished runs older than ``STUDIO_RUN_TTL_HOURS``, with their files."""
        before = time.time() - self.settings.run_ttl_hours * 3600
        for run_id in self.db.expired(before):
            self.runs.storage.delete(run_id)
            self.db.delete(run_id)
            with contextlib.suppress(Exception):
                DBOS.delete_workflow(run_id)

    def take_over(self, executor: str) -> None:
        recovered = DBOS._recover_pending_workflows([executor])
        log.warning("studio %s is silent: %d of its runs resume here", executor, len(recovered))
        self.db.forget_executor(executor)
