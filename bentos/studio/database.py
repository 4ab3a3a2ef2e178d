"""The studio's tables: runs, their events, saved pipelines, the processes' heartbeats.

SQLAlchemy Core over one URL: a SQLite file by default, PostgreSQL when several studio
processes share the runs. DBOS keeps its own tables beside these (the queue and the
workflows' checkpoints); these hold what the API shows. Every method is one transaction;
callers on the event loop run them in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

runs = sa.Table(
    "studio_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("share", sa.String(64), nullable=True, unique=True),
    sa.Column("pipeline", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float, nullable=True),
    sa.Column("finished", sa.Float, nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=True),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("failed_step", sa.String(100), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("executor", sa.String(200), nullable=True),
)

events = sa.Table(
    "studio_run_events",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
)

pipelines = sa.Table(
    "studio_pipelines",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("saved", sa.Float, nullable=False),
)

executors = sa.Table(
    "studio_executors",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("heartbeat", sa.Float, nullable=False),
)

# One row: submitters update it first, so their count-then-insert happen one at a time.
admission = sa.Table(
    "studio_admission",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submitted", sa.Integer, nullable=False),
)

ACTIVE = ("queued", "running")


class QueueFull(Exception):
    """More runs are waiting than the queue holds."""


class Database:
    def __init__(self, url: str) -> None:
        args: dict[str, Any] = {}
        if url.startswith(("postgresql://", "postgres://")):  # psycopg 3 (with dbos)
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite"):
            args = {"connect_args": {"timeout": 30}}
        self.engine: Engine = sa.create_engine(url, pool_pre_ping=True, **args)
        metadata.create_all(self.engine)
        with self.begin() as db:
            if db.execute(sa.select(admission.c.id)).first() is None:
                db.execute(admission.insert().values(id=1, submitted=0))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()

    # -- runs ------------------------------------------------------------------------------

    def admit(self, row: dict[str, Any], max_queued: int) -> None:
        """Insert a queued run unless ``max_queued`` runs already wait (QueueFull)."""
        with self.begin() as db:
            db.execute(admission.update().values(submitted=admission.c.submitted + 1))
            waiting = db.execute(
                sa.select(sa.func.count()).select_from(runs).where(runs.c.status == "queued")
            ).scalar_one()
            if waiting >= max_queued:
                raise QueueFull(waiting)
            db.execute(runs.insert().values(**row))

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self.begin() as db:
            row = db.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
            return dict(row) if row else None

    def runs_of(self, owner: str, limit: int = 200) -> list[dict[str, Any]]:
        with self.begin() as db:
            query = (
                sa.select(runs)
                .where(runs.c.owner == owner)
                .order_by(runs.c.created.desc())
                .limit(limit)
            )
            return [dict(r) for r in db.execute(query).mappings()]

    def update(self, run_id: str, **values: Any) -> None:
        with self.begin() as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def start(self, run_id: str, executor: str) -> dict[str, Any] | None:
        """Mark a queued (or resumed) run running here; None if it is gone or ended."""
        with self.begin() as db:
            row = db.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None or row["status"] not in ACTIVE:
                return None
            started = row["started"] or time.time()
            db.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(status="running", started=started, executor=executor)
            )
            return {**row, "status": "running", "started": started, "executor": executor}

    def position(self, run: dict[str, Any]) -> int | None:
        """1 for the next run to start; None unless queued."""
        if run["status"] != "queued":
            return None
        with self.begin() as db:
            ahead = db.execute(
                sa.select(sa.func.count())
                .select_from(runs)
                .where(
                    runs.c.status == "queued",
                    sa.or_(
                        runs.c.created < run["created"],
                        sa.and_(runs.c.created == run["created"], runs.c.id < run["id"]),
                    ),
                )
            ).scalar_one()
        return int(ahead) + 1

    def counts(self) -> dict[str, int]:
        with self.begin() as db:
            rows = db.execute(sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status))
            return {status: int(n) for status, n in rows}

    def delete(self, run_id: str) -> None:
        with self.begin() as db:
            db.execute(events.delete().where(events.c.run_id == run_id))
            db.execute(runs.delete().where(runs.c.id == run_id))

    def expired(self, before: float) -> list[str]:
        with self.begin() as db:
            query = sa.select(runs.c.id).where(
                runs.c.status.not_in(ACTIVE), runs.c.created < before
            )
            return [r for (r,) in db.execute(query)]

    def by_share(self, token: str) -> dict[str, Any] | None:
        with self.begin() as db:
            row = db.execute(sa.select(runs).where(runs.c.share == token)).mappings().first()
            return dict(row) if row else None

    # -- events ----------------------------------------------------------------------------

    def add_event(self, run_id: str, seq: int, body: dict[str, Any], steps: dict[str, Any]) -> None:
        """An event, and the run's steps as they are after it, in one transaction."""
        with self.begin() as db:
            db.execute(events.insert().values(run_id=run_id, seq=seq, body=body))
            db.execute(runs.update().where(runs.c.id == run_id).values(steps=steps))

    def last_seq(self, run_id: str) -> int:
        with self.begin() as db:
            query = sa.select(sa.func.max(events.c.seq)).where(events.c.run_id == run_id)
            return int(db.execute(query).scalar_one() or 0)

    def events_after(self, run_id: str, seq: int) -> list[tuple[int, dict[str, Any]]]:
        with self.begin() as db:
            query = (
                sa.select(events.c.seq, events.c.body)
                .where(events.c.run_id == run_id, events.c.seq > seq)
                .order_by(events.c.seq)
            )
            return [(int(s), b) for s, b in db.execute(query)]

    # -- pipelines -------------------------------------------------------------------------

    def save_pipeline(self, name: str, text_of: Any) -> int:
        """Save the next version of ``name``; ``text_of(version)`` gives its text."""
        with self.begin() as db:
            db.execute(admission.update().values(submitted=admission.c.submitted))  # serialise
            query = sa.select(sa.func.max(pipelines.c.version)).where(pipelines.c.name == name)
            version = int(db.execute(query).scalar_one() or 0) + 1
            db.execute(
                pipelines.insert().values(
                    name=name, version=version, text=text_of(version), saved=time.time()
                )
            )
            return version

    def pipeline(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        with self.begin() as db:
            query = sa.select(pipelines).where(pipelines.c.name == name)
            if version is not None:
                query = query.where(pipelines.c.version == version)
            row = db.execute(query.order_by(pipelines.c.version.desc())).mappings().first()
            return dict(row) if row else None

    def pipelines(self) -> list[dict[str, Any]]:
        """The latest version of every saved pipeline."""
        with self.begin() as db:
            latest = (
                sa.select(pipelines.c.name, sa.func.max(pipelines.c.version).label("v"))
                .group_by(pipelines.c.name)
                .subquery()
            )
            query = (
                sa.select(pipelines)
                .join(
                    latest,
                    sa.and_(pipelines.c.name == latest.c.name, pipelines.c.version == latest.c.v),
                )
                .order_by(pipelines.c.name)
            )
            return [dict(r) for r in db.execute(query).mappings()]

    # -- processes -------------------------------------------------------------------------

    def heartbeat(self, executor: str) -> None:
        with self.begin() as db:
            done = db.execute(
                executors.update().where(executors.c.id == executor).values(heartbeat=time.time())
            )
            if done.rowcount == 0:
                db.execute(executors.insert().values(id=executor, heartbeat=time.time()))

    def silent_executors(self, older_than: float) -> list[str]:
        """Processes whose last heartbeat is older than ``older_than`` (epoch seconds)."""
        with self.begin() as db:
            query = sa.select(executors.c.id).where(executors.c.heartbeat < older_than)
            return [e for (e,) in db.execute(query)]

    def forget_executor(self, executor: str) -> None:
        with self.begin() as db:
            db.execute(executors.delete().where(executors.c.id == executor))
