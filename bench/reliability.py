"""Reliability of the whole smoke stack: a burst of runs, a killed model worker, a restart.

Starts ``bentoml serve .`` (the studio and every model service, smoke profile, in a fresh
temporary folder), submits ``--runs`` runs of the ``covers`` pipeline at once
(``POST /api/pipelines/covers/runs``), SIGKILLs one model worker (``--victim``, the art
painter by default) while a run is in that step, waits for every run to end, stops the
stack with SIGTERM, starts it again on the same data folder and prints:

- accepted (202) / refused (4xx, by status and code) / 5xx answers to the submissions;
- when the worker was killed, how long its arbiter took to start a new one and to answer
  again, and what became of the runs that were in that step;
- done / failed (by the step named) / still queued or running at the time limit, retried
  steps;
- how long the stack took to stop, what was still alive 10 s after SIGTERM, and the
  runs' statuses in the studio's database once it had stopped;
- how long the restarted stack took to be ready and to run a new run (the recovery), and
  the finished, resumed (unfinished at the stop) and lost (accepted, absent after the
  restart) runs.

    .venv/bin/python bench/reliability.py                    # 64 runs, 2 steps, 256 x 256
    .venv/bin/python bench/reliability.py --max-queued 8 --retry-busy  # 429s waited out
    .venv/bin/python bench/reliability.py --runs 8 --limit 300 --victim whisper

At most ``--max-running`` runs execute at once (``STUDIO_MAX_RUNNING``, the studio's
default 2); the others wait in the queue. By default ``STUDIO_MAX_QUEUED`` is the number
of runs, so all of them are accepted at once; with a smaller ``--max-queued`` the 429
``queue_full`` answers are counted as refused, or waited out (``Retry-After``, capped)
with ``--retry-busy``. Everything is bounded by ``--limit`` seconds; every process
started and the temporary folder are removed on exit, Ctrl-C and SIGTERM included. The
smoke models are tiny and random: the figures measure the machinery, not the models.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stack.local import processes, serve

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "stack" / "assets" / "demo-song.mp3"
ARBITER = "arbiter"  # the `bentoml serve` process of the stack (it has no --service-name)
STOP_GRACE_S = 10.0  # a stack should be gone this long after SIGTERM
STOP_WAIT_S = 30.0  # how long the stop is watched before stack.local kills what is left
RESERVE_S = 150.0  # of the time limit, kept for stopping, restarting and checking
# The covers pipeline's step each model worker serves (its --service-name -> the step).
STEP_OF = {
    "art-painter": "art", "whisper": "transcribe", "genre-classifier": "genre",
    "lyrics-affect": "lyrics", "summarize-model": "summary",
}  # fmt: skip
ACTIVE = ("queued", "running")
OWNER = secrets.token_urlsafe(32)  # the owner token of every run the bench submits
HEADERS = {"X-Studio-Owner": OWNER}


class OutOfTime(Exception):
    """The overall time limit (``--limit``) passed."""


@dataclass
class Figures:
    """Everything measured; printed at the end, also after a time limit or Ctrl-C."""

    submitted: int = 0
    answers: Counter = field(default_factory=Counter)  # "202", "429 queue_full", "ReadError"
    accepted: list[str] = field(default_factory=list)
    submit_s: float | None = None
    fives: Counter = field(default_factory=Counter)  # "POST /api/.../runs 500" -> count
    transport: Counter = field(default_factory=Counter)  # polls that got no answer
    victim: str = ""
    killed_pid: int | None = None
    killed_at: float | None = None  # seconds after the first submission
    in_step_at_kill: list[str] = field(default_factory=list)
    respawned_s: float | None = None  # kill -> a new worker process of that service
    answering_s: float | None = None  # kill -> a run's victim step finished after the kill
    ended: dict[str, dict] = field(default_factory=dict)  # accepted id -> run at the end
    ended_s: float | None = None
    stop_s: float | None = None
    alive_at_grace: list[str] = field(default_factory=list)
    alive_at_wait: list[str] = field(default_factory=list)
    in_database: dict[str, str] = field(default_factory=dict)  # id -> status after the stop
    ready_s: float | None = None
    new_run_s: float | None = None
    new_run_status: str = ""
    after: dict[str, dict] | None = None  # id -> run, after the restart
    files_ok: int = 0
    stop2_s: float | None = None
    alive2_at_grace: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- the stack's processes ----------------------------------------------------------------


def stack_processes(marker: bytes) -> dict[int, str]:
    """pid -> service name (``--service-name``, or ``arbiter``) of every process whose
    environment holds ``marker``; zombies have none and do not count."""
    found = {}
    for pid in processes(lambda environ: marker in environ):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        name = ARBITER
        if b"--service-name" in argv[:-1]:
            name = argv[argv.index(b"--service-name") + 1].decode(errors="replace")
        found[pid] = name
    return found


def names(processes: dict[int, str]) -> list[str]:
    return [f"{name}({pid})" for pid, name in sorted(processes.items())]


def stop_stack(marker: bytes) -> tuple[float | None, list[str], list[str]]:
    """SIGTERM the stack's arbiter (its process group) and watch it go: seconds until no
    process is left (None if some still are after STOP_WAIT_S), what was alive
    STOP_GRACE_S after the signal, and what is alive at the end of the watch."""
    alive = stack_processes(marker)
    start = time.monotonic()
    for pid, name in alive.items():
        if name == ARBITER:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)  # `serve` runs it in a session of its own
    at_grace: list[str] | None = None
    while alive and time.monotonic() - start < STOP_WAIT_S:
        time.sleep(0.1)
        alive = stack_processes(marker)
        if at_grace is None and time.monotonic() - start >= STOP_GRACE_S:
            at_grace = names(alive)
    took = None if alive else time.monotonic() - start
    return took, at_grace or [], names(alive)


# -- the runs API -------------------------------------------------------------------------

SUBMIT = "/api/pipelines/covers/runs"


def answer_name(response: httpx.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    try:
        code = response.json().get("error", "?")
    except ValueError:
        code = "not JSON"
    return f"{response.status_code} {code}"


async def submit_all(url: str, form: dict[str, str], args: argparse.Namespace, f: Figures):
    """Submit ``--runs`` runs at once; with ``--retry-busy`` a 429 is tried again after its
    Retry-After (capped at ``--wait-cap`` s), as a patient client would."""
    song = SONG.read_bytes()
    start = time.monotonic()
    f.submitted = args.runs
    async with httpx.AsyncClient(timeout=120, headers=HEADERS) as client:

        async def one(i: int) -> str | None:
            files = {"audio": (f"song-{i}.mp3", song, "audio/mpeg")}
            while time.monotonic() - start < args.limit:
                try:
                    response = await client.post(f"{url}{SUBMIT}", files=files, data=form)
                except httpx.TransportError as exc:
                    f.answers[type(exc).__name__] += 1
                    return None  # a POST is not retried blindly: it may have been accepted
                f.answers[answer_name(response)] += 1
                if response.status_code >= 500:
                    f.fives[f"POST {SUBMIT} {response.status_code}"] += 1
                if response.status_code == 202:
                    return str(response.json()["id"])
                if response.status_code != 429 or not args.retry_busy:
                    return None
                wait = float(response.headers.get("retry-after", args.wait_cap))
                await asyncio.sleep(min(wait, args.wait_cap))
            return None

        ids = await asyncio.gather(*(one(i) for i in range(args.runs)))
    f.accepted = [i for i in ids if i]
    f.submit_s = time.monotonic() - start


def get(client: httpx.Client, url: str, path: str, f: Figures) -> httpx.Response | None:
    """A GET of the studio, or None when it did not answer well (counted)."""
    route = "GET /api/runs" if path == "/api/runs" else "GET /api/runs/{id}"
    try:
        response = client.get(f"{url}{path}", headers=HEADERS, timeout=30)
    except httpx.TransportError as exc:
        f.transport[f"{route} {type(exc).__name__}"] += 1
        return None
    if response.status_code >= 500:
        f.fives[f"{route} {response.status_code}"] += 1
        return None
    return response


def list_runs(
    client: httpx.Client, url: str, f: Figures, ids: Iterable[str] = ()
) -> dict[str, dict] | None:
    """Every run of the bench by id (the newest 200, and each of ``ids`` beyond them), or
    None when the studio did not answer well (counted)."""
    response = get(client, url, "/api/runs", f)
    if response is None:
        return None
    runs = {run["id"]: run for run in response.json()}
    for run_id in ids:
        if run_id in runs:
            continue
        one = get(client, url, f"/api/runs/{run_id}", f)
        if one is not None and one.status_code == 200:
            runs[run_id] = one.json()
    return runs


def state(run: dict, step: str) -> str | None:
    return (run.get("steps", {}).get(step) or {}).get("status")


def kill_in_step(
    url: str, marker: bytes, step: str, start: float, f: Figures, done: threading.Event
) -> None:
    """SIGKILL the victim worker as soon as a run is in its step; then time its respawn
    and the first run to get through that step after the kill."""
    with httpx.Client() as client:
        while not done.is_set():
            runs = list_runs(client, url, f) or {}
            busy = [i for i, run in runs.items() if state(run, step) == "started"]
            if busy:
                break
            time.sleep(0.5)
        else:
            return
        victims = [pid for pid, name in stack_processes(marker).items() if name == f.victim]
        if not victims:
            f.notes.append(f"no process of the service {f.victim!r} was found to kill")
            return
        finished_before = {i for i, run in runs.items() if state(run, step) == "finished"}
        os.kill(victims[0], signal.SIGKILL)
        killed = time.monotonic()
        f.killed_pid, f.killed_at, f.in_step_at_kill = victims[0], killed - start, busy
        print(f"killed {f.victim} ({victims[0]}) at {f.killed_at:.1f} s, "
              f"{len(busy)} run(s) in the {step} step", flush=True)  # fmt: skip
        while not done.is_set() and (f.respawned_s is None or f.answering_s is None):
            now = time.monotonic() - killed
            if f.respawned_s is None and any(
                name == f.victim and pid != victims[0]
                for pid, name in stack_processes(marker).items()
            ):
                f.respawned_s = now
            runs = list_runs(client, url, f) or {}
            if any(
                state(run, step) == "finished" and i not in finished_before
                for i, run in runs.items()
            ):
                f.answering_s = now
            time.sleep(0.2)


def wait_all_ended(url: str, ids: list[str], f: Figures, until: float) -> None:
    with httpx.Client() as client:
        while True:
            runs = list_runs(client, url, f, ids)
            if runs is not None:
                f.ended = {i: runs.get(i, {}) for i in ids}
                if not any(run.get("status") in ACTIVE for run in f.ended.values()):
                    return
            if time.monotonic() > until:
                return
            time.sleep(1)


def run_one(url: str, form: dict[str, str], until: float) -> tuple[str, float]:
    """Submit one run and wait for it to end: its status and the seconds it took."""
    start = time.monotonic()
    with httpx.Client(timeout=60, headers=HEADERS) as client:
        files = {"audio": ("after-restart.mp3", SONG.read_bytes(), "audio/mpeg")}
        response = client.post(f"{url}{SUBMIT}", files=files, data=form)
        if response.status_code != 202:
            return f"refused: {answer_name(response)}", time.monotonic() - start
        run_id = response.json()["id"]
        while time.monotonic() < until:
            run = client.get(f"{url}/api/runs/{run_id}").json()
            if run["status"] not in ACTIVE:
                return str(run["status"]), time.monotonic() - start
            time.sleep(0.5)
    return "still running at the limit", time.monotonic() - start


def files_readable(url: str, runs: list[dict]) -> int:
    """How many of ``runs`` serve every one of their files."""
    ok = 0
    with httpx.Client(timeout=30, headers=HEADERS) as client:
        for run in runs:
            files = run.get("files") or []
            ok += bool(files) and all(
                client.get(f"{url}/api/runs/{run['id']}/files/{name}").status_code == 200
                for name in files
            )
    return ok


def statuses_in_database(data: Path) -> dict[str, str]:
    """Status of every run as the studio's database holds it (what a restart resumes)."""
    path = data / "studio.sqlite"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return dict(db.execute("SELECT id, status FROM studio_runs").fetchall())
    except sqlite3.Error as exc:
        return {"unreadable": f"{type(exc).__name__}: {exc}"}


# -- the run ------------------------------------------------------------------------------


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in the main thread after ``seconds`` (disarmed on leaving, so a
    stack being stopped is not interrupted)."""

    def expire(signum: int, frame: object) -> None:
        raise OutOfTime(f"over the time limit of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bench(args: argparse.Namespace, tmp: Path, f: Figures) -> None:
    started = time.monotonic()
    deadline = started + args.limit
    data = tmp / "studio"
    marker = f"STUDIO_DATA_DIR={data}".encode()
    env = {
        "MARKETPLACE_PROFILE": "smoke",
        "MARKETPLACE_SMOKE_DIR": str(tmp / "smoke"),
        "BENTOML_HOME": str(tmp / "bentoml"),
        "STUDIO_DATA_DIR": str(data),
        "STUDIO_MAX_RUNNING": str(args.max_running),
        "STUDIO_MAX_QUEUED": str(args.max_queued),
    }
    form = {"steps": str(args.steps), "size": str(args.size), "models": json.dumps([args.model])}
    step = args.step
    print(f"starting the smoke stack in {tmp} ...", flush=True)
    left = deadline - time.monotonic()
    with serve(".", env=env, cwd=ROOT, ready_timeout=left) as url:
        print(f"ready in {time.monotonic() - started:.1f} s at {url}", flush=True)
        done = threading.Event()
        start = time.monotonic()
        killer = threading.Thread(
            target=kill_in_step, args=(url, marker, step, start, f, done), daemon=True
        )
        killer.start()
        try:
            with time_limit(deadline - RESERVE_S - time.monotonic()):
                asyncio.run(submit_all(url, form, args, f))
                print(f"{args.runs} submitted at once: {dict(f.answers)}", flush=True)
                wait_all_ended(url, f.accepted, f, until=deadline - RESERVE_S)
        except OutOfTime:
            f.notes.append("the time limit passed before every run had ended")
        finally:
            done.set()
            killer.join(timeout=30)
        f.ended_s = time.monotonic() - start
        print(f"runs ended (or limit) after {f.ended_s:.1f} s; stopping the stack", flush=True)
        f.stop_s, f.alive_at_grace, f.alive_at_wait = stop_stack(marker)
    f.in_database = statuses_in_database(data)

    print("restarting the stack on the same data folder ...", flush=True)
    restart = time.monotonic()
    left = max(deadline - time.monotonic(), 60)
    with serve(".", env=env, cwd=ROOT, ready_timeout=left) as url:
        f.ready_s = time.monotonic() - restart
        until = max(deadline - 30, time.monotonic() + 60)
        f.new_run_status, took = run_one(url, form, until)
        f.new_run_s = time.monotonic() - restart if f.new_run_status == "done" else None
        print(f"a new run after the restart: {f.new_run_status} in {took:.1f} s", flush=True)
        with httpx.Client() as client:  # after the new run: the resumed ones had time too
            f.after = list_runs(client, url, f, f.accepted)
        if f.after is not None:
            kept = [r for i, r in f.after.items() if i in f.accepted and r["status"] == "done"]
            f.files_ok = files_readable(url, kept)
        f.stop2_s, f.alive2_at_grace, _ = stop_stack(marker)
    f.left_behind = names(stack_processes(marker))
    for pid in stack_processes(marker):  # stack.local should have left none: say so, and kill
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def seconds(value: float | None, missing: str = "-") -> str:
    return missing if value is None else f"{value:.1f} s"


def report(args: argparse.Namespace, f: Figures) -> None:
    ended = f.ended or {i: {} for i in f.accepted}
    status = Counter(run.get("status", "unknown") for run in ended.values())
    failed = [run for run in ended.values() if run.get("status") == "failed"]
    failed_at = Counter(run.get("failed_step") or "studio" for run in failed)
    retried: Counter = Counter()
    for run in ended.values():
        for name, step in (run.get("steps") or {}).items():
            retried[name] += (step or {}).get("attempts", 1) > 1
    hit = Counter(ended.get(i, {}).get("status", "unknown") for i in f.in_step_at_kill)
    refused = {k: n for k, n in f.answers.items() if k[0] == "4"}
    after = f.after or {}
    kept_done = [i for i in f.accepted if after.get(i, {}).get("status") == "done"]
    unfinished = [i for i in f.accepted if f.in_database.get(i) in ACTIVE]
    resumed = Counter(after.get(i, {}).get("status", "absent") for i in unfinished)

    def of(count: int | str, total: int) -> str:
        return f"{count} of {total}"

    rows: list[tuple[str, object]] = [
        ("covers runs submitted at once", f.submitted),
        ("covers", f"{args.steps} steps, {args.size} x {args.size}, {args.model}"),
        ("STUDIO_MAX_RUNNING / STUDIO_MAX_QUEUED", f"{args.max_running} / {args.max_queued}"),
        ("429 queue_full", "waited out (Retry-After)" if args.retry_busy else "counted as refused"),
        ("answers to the submissions", dict(f.answers)),
        ("accepted (202)", f"{len(f.accepted)} in {seconds(f.submit_s)}"),
        ("refused (4xx)", refused or 0),
        ("worker killed (SIGKILL)", f"{f.victim} at {seconds(f.killed_at, 'never')}"),
        (f"runs in the {args.step} step at the kill", len(f.in_step_at_kill)),
        ("  and how they ended", dict(hit) or "-"),
        ("new worker process after", seconds(f.respawned_s, "not seen")),
        (f"a run through {args.step} again after", seconds(f.answering_s, "not seen")),
        ("done", status["done"]),
        ("failed", f"{status['failed']} {dict(failed_at) if failed else ''}".strip()),
        ("still queued or running at the limit", status["queued"] + status["running"]),
        ("steps retried (runs)", {k: n for k, n in retried.items() if n} or 0),
        ("5xx answers to the client", f"{sum(f.fives.values())} {dict(f.fives) or ''}".strip()),
        ("polls without an answer", f"{sum(f.transport.values())} {dict(f.transport) or ''}"),
        ("time for all runs to end", seconds(f.ended_s)),
        ("stack stop (SIGTERM to all gone)", seconds(f.stop_s, f"over {STOP_WAIT_S:g} s")),
        (f"processes alive {STOP_GRACE_S:g} s after SIGTERM", f.alive_at_grace or 0),
        (f"processes alive {STOP_WAIT_S:g} s after SIGTERM", f.alive_at_wait or 0),
        ("run statuses in the database after the stop", dict(Counter(f.in_database.values()))),
        ("recovery: restart to /readyz 200", seconds(f.ready_s)),
        ("recovery: restart to a new run done", seconds(f.new_run_s, f.new_run_status or "-")),
        ("finished runs still there after the restart", of(len(kept_done), status["done"])),
        ("  their files served", of(f.files_ok, len(kept_done))),
        ("failed runs still there after the restart",
         sum(after.get(i, {}).get("status") == "failed" for i in f.accepted)),
        ("unfinished at the stop, after the restart", dict(resumed) or 0),
        ("lost (accepted, absent after the restart)",
         sum(i not in after for i in f.accepted) if f.after is not None else "not checked"),
        ("second stop (SIGTERM to all gone)", seconds(f.stop2_s, f"over {STOP_WAIT_S:g} s")),
        ("processes left behind by the stack", f.left_behind or 0),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    reasons = Counter(
        f"{run.get('failed_step')}: {(run.get('error') or '')[:200]}" for run in failed
    )
    for reason, count in reasons.most_common(5):
        print(f"  {count} x {reason}")
    for note in f.notes:
        print(f"note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--runs", "--jobs", type=int, default=64, help="covers runs submitted at once"
    )
    parser.add_argument("--steps", type=int, default=2, help="denoising steps of a cover")
    parser.add_argument("--size", type=int, default=256, help="cover side (256 at least)")
    parser.add_argument("--model", default="sd2-base", help="the one model that paints")
    parser.add_argument(
        "--max-running", type=int, default=2, help="STUDIO_MAX_RUNNING: runs executing at once"
    )
    parser.add_argument(
        "--max-queued", "--max-jobs", type=int, help="STUDIO_MAX_QUEUED (default: --runs)"
    )
    parser.add_argument("--retry-busy", action="store_true", help="wait out 429s")
    parser.add_argument("--wait-cap", type=float, default=5, help="most s waited on a 429")
    parser.add_argument(
        "--victim", default="art-painter", choices=sorted(STEP_OF), help="the worker killed"
    )
    parser.add_argument("--limit", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    args.max_queued = args.max_queued or args.runs
    args.step = STEP_OF[args.victim]
    if args.limit < RESERVE_S + 120:
        parser.error(f"--limit must leave room for the restart: {RESERVE_S + 120:g} s at least")
    # SIGTERM stops the run as Ctrl-C does: the stacks are stopped, the folder removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    f = Figures(victim=args.victim)
    begun = time.monotonic()
    code = 0
    with tempfile.TemporaryDirectory(prefix="marketplace-reliability-") as tmp:
        try:
            bench(args, Path(tmp), f)
        except KeyboardInterrupt:
            f.notes.append("interrupted (Ctrl-C or SIGTERM): the figures are partial")
            code = 130
        except (OutOfTime, TimeoutError, RuntimeError) as exc:
            f.notes.append(f"stopped early: {exc}")
            code = 1
    report(args, f)
    print(f"\nwhole run: {time.monotonic() - begun:.0f} s")
    sys.exit(code)


if __name__ == "__main__":
    main()
