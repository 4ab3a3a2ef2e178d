"""Reliability of the whole smoke stack: a burst of jobs, a killed model worker, a restart.

Starts ``bentoml serve .`` (the studio and every model service, smoke profile, in a fresh
temporary folder), submits ``--jobs`` cover jobs at once, SIGKILLs one model worker
(``--victim``, the art painter by default) while a job is in that stage, waits for every
job to end, stops the stack with SIGTERM, starts it again on the same data folder and
prints:

- accepted (202) / refused (4xx, by status and code) / 5xx answers to the submissions;
- when the worker was killed, how long its arbiter took to start a new one and to answer
  again, and what became of the jobs that were in that stage;
- done / failed (by the stage named) / still running at the time limit, retried stages;
- how long the stack took to stop, what was still alive 10 s after SIGTERM, and the
  jobs' statuses on disk once it had stopped;
- how long the restarted stack took to be ready and to run a new job (the recovery), and
  the finished, interrupted and lost (accepted, absent after the restart) jobs.

    .venv/bin/python bench/reliability.py                    # 64 jobs, 2 steps, 256 x 256
    .venv/bin/python bench/reliability.py --max-jobs 8 --retry-busy   # 429s waited out
    .venv/bin/python bench/reliability.py --jobs 8 --limit 300 --victim whisper

By default ``STUDIO_MAX_JOBS`` is the number of jobs, so all of them are accepted at once;
with a smaller ``--max-jobs`` the 429 ``busy`` answers are counted as refused, or waited
out (``Retry-After``, capped) with ``--retry-busy``. Everything is bounded by ``--limit``
seconds; every process started and the temporary folder are removed on exit, Ctrl-C and
SIGTERM included. The smoke models are tiny and random: the figures measure the
machinery, not the models.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
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
# The stage each model worker serves (its --service-name -> the job's stage).
STAGE_OF = {
    "art-painter": "art", "whisper": "transcribe", "genre-classifier": "genre",
    "lyrics-affect": "lyrics", "summarize-model": "summarize",
}  # fmt: skip


class OutOfTime(Exception):
    """The overall time limit (``--limit``) passed."""


@dataclass
class Figures:
    """Everything measured; printed at the end, also after a time limit or Ctrl-C."""

    submitted: int = 0
    answers: Counter = field(default_factory=Counter)  # "202", "429 busy", "ConnectError"
    accepted: list[str] = field(default_factory=list)
    submit_s: float | None = None
    fives: Counter = field(default_factory=Counter)  # "POST /jobs 500" -> count
    transport: Counter = field(default_factory=Counter)  # polls that got no answer
    victim: str = ""
    killed_pid: int | None = None
    killed_at: float | None = None  # seconds after the first submission
    in_stage_at_kill: list[str] = field(default_factory=list)
    respawned_s: float | None = None  # kill -> a new worker process of that service
    answering_s: float | None = None  # kill -> a job's victim stage finished after the kill
    ended: dict[str, dict] = field(default_factory=dict)  # accepted id -> job at the end
    ended_s: float | None = None
    stop_s: float | None = None
    alive_at_grace: list[str] = field(default_factory=list)
    alive_at_wait: list[str] = field(default_factory=list)
    on_disk: Counter = field(default_factory=Counter)
    ready_s: float | None = None
    new_job_s: float | None = None
    new_job_status: str = ""
    after: dict[str, dict] | None = None  # id -> job, after the restart
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


# -- the job API --------------------------------------------------------------------------


def answer_name(response: httpx.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    try:
        code = response.json().get("error", "?")
    except ValueError:
        code = "not JSON"
    return f"{response.status_code} {code}"


async def submit_all(url: str, form: dict[str, str], args: argparse.Namespace, f: Figures):
    """Submit ``--jobs`` jobs at once; with ``--retry-busy`` a 429 is tried again after its
    Retry-After (capped at ``--wait-cap`` s), as a patient client would."""
    song = SONG.read_bytes()
    start = time.monotonic()
    f.submitted = args.jobs
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(i: int) -> str | None:
            files = {"audio": (f"song-{i}.mp3", song, "audio/mpeg")}
            while time.monotonic() - start < args.limit:
                try:
                    response = await client.post(f"{url}/jobs", files=files, data=form)
                except httpx.TransportError as exc:
                    f.answers[type(exc).__name__] += 1
                    return None  # a POST is not retried blindly: it may have been accepted
                f.answers[answer_name(response)] += 1
                if response.status_code >= 500:
                    f.fives[f"POST /jobs {response.status_code}"] += 1
                if response.status_code == 202:
                    return str(response.json()["id"])
                if response.status_code != 429 or not args.retry_busy:
                    return None
                wait = float(response.headers.get("retry-after", args.wait_cap))
                await asyncio.sleep(min(wait, args.wait_cap))
            return None

        ids = await asyncio.gather(*(one(i) for i in range(args.jobs)))
    f.accepted = [i for i in ids if i]
    f.submit_s = time.monotonic() - start


def list_jobs(client: httpx.Client, url: str, f: Figures) -> dict[str, dict] | None:
    """Every job by id, or None when the studio did not answer well (counted)."""
    try:
        response = client.get(f"{url}/jobs", timeout=30)
    except httpx.TransportError as exc:
        f.transport[f"GET /jobs {type(exc).__name__}"] += 1
        return None
    if response.status_code >= 500:
        f.fives[f"GET /jobs {response.status_code}"] += 1
        return None
    return {job["id"]: job for job in response.json()}


def state(job: dict, stage: str) -> str | None:
    return (job.get("stages", {}).get(stage) or {}).get("state")


def kill_in_stage(
    url: str, marker: bytes, stage: str, start: float, f: Figures, done: threading.Event
) -> None:
    """SIGKILL the victim worker as soon as a job is in its stage; then time its respawn
    and the first job to get through that stage after the kill."""
    with httpx.Client() as client:
        while not done.is_set():
            jobs = list_jobs(client, url, f) or {}
            busy = [i for i, job in jobs.items() if state(job, stage) == "started"]
            if busy:
                break
            time.sleep(0.5)
        else:
            return
        victims = [pid for pid, name in stack_processes(marker).items() if name == f.victim]
        if not victims:
            f.notes.append(f"no process of the service {f.victim!r} was found to kill")
            return
        finished_before = {i for i, job in jobs.items() if state(job, stage) == "finished"}
        os.kill(victims[0], signal.SIGKILL)
        killed = time.monotonic()
        f.killed_pid, f.killed_at, f.in_stage_at_kill = victims[0], killed - start, busy
        print(f"killed {f.victim} ({victims[0]}) at {f.killed_at:.1f} s, "
              f"{len(busy)} job(s) in the {stage} stage", flush=True)  # fmt: skip
        while not done.is_set() and (f.respawned_s is None or f.answering_s is None):
            now = time.monotonic() - killed
            if f.respawned_s is None and any(
                name == f.victim and pid != victims[0]
                for pid, name in stack_processes(marker).items()
            ):
                f.respawned_s = now
            jobs = list_jobs(client, url, f) or {}
            if any(
                state(job, stage) == "finished" and i not in finished_before
                for i, job in jobs.items()
            ):
                f.answering_s = now
            time.sleep(0.2)


def wait_all_ended(url: str, ids: list[str], f: Figures, until: float) -> None:
    with httpx.Client() as client:
        while True:
            jobs = list_jobs(client, url, f)
            if jobs is not None:
                f.ended = {i: jobs.get(i, {}) for i in ids}
                if not any(job.get("status") == "running" for job in f.ended.values()):
                    return
            if time.monotonic() > until:
                return
            time.sleep(1)


def run_one(url: str, form: dict[str, str], until: float) -> tuple[str, float]:
    """Submit one job and wait for it to end: its status and the seconds it took."""
    start = time.monotonic()
    with httpx.Client(timeout=60) as client:
        files = {"audio": ("after-restart.mp3", SONG.read_bytes(), "audio/mpeg")}
        response = client.post(f"{url}/jobs", files=files, data=form)
        if response.status_code != 202:
            return f"refused: {answer_name(response)}", time.monotonic() - start
        job_id = response.json()["id"]
        while time.monotonic() < until:
            job = client.get(f"{url}/jobs/{job_id}").json()
            if job["status"] != "running":
                return str(job["status"]), time.monotonic() - start
            time.sleep(0.5)
    return "still running at the limit", time.monotonic() - start


def files_readable(url: str, jobs: list[dict]) -> int:
    """How many of ``jobs`` serve every one of their files."""
    ok = 0
    with httpx.Client(timeout=30) as client:
        for job in jobs:
            files = job.get("files") or []
            ok += bool(files) and all(
                client.get(f"{url}/jobs/{job['id']}/files/{name}").status_code == 200
                for name in files
            )
    return ok


def statuses_on_disk(data: Path) -> Counter:
    """Status of every job as saved in its job.json (what a restart will load)."""
    found: Counter = Counter()
    for path in (data / "jobs").glob("*/job.json"):
        try:
            found[json.loads(path.read_text())["status"]] += 1
        except (OSError, ValueError, KeyError):
            found["unreadable"] += 1
    return found


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
        "STUDIO_MAX_JOBS": str(args.max_jobs),
    }
    form = {"steps": str(args.steps), "size": str(args.size), "models": args.model}
    stage = args.stage
    print(f"starting the smoke stack in {tmp} ...", flush=True)
    left = deadline - time.monotonic()
    with serve(".", env=env, cwd=ROOT, ready_timeout=left) as url:
        print(f"ready in {time.monotonic() - started:.1f} s at {url}", flush=True)
        done = threading.Event()
        start = time.monotonic()
        killer = threading.Thread(
            target=kill_in_stage, args=(url, marker, stage, start, f, done), daemon=True
        )
        killer.start()
        try:
            with time_limit(deadline - RESERVE_S - time.monotonic()):
                asyncio.run(submit_all(url, form, args, f))
                print(f"{args.jobs} submitted at once: {dict(f.answers)}", flush=True)
                wait_all_ended(url, f.accepted, f, until=deadline - RESERVE_S)
        except OutOfTime:
            f.notes.append("the time limit passed before every job had ended")
        finally:
            done.set()
            killer.join(timeout=30)
        f.ended_s = time.monotonic() - start
        print(f"jobs ended (or limit) after {f.ended_s:.1f} s; stopping the stack", flush=True)
        f.stop_s, f.alive_at_grace, f.alive_at_wait = stop_stack(marker)
    f.on_disk = statuses_on_disk(data)

    print("restarting the stack on the same data folder ...", flush=True)
    restart = time.monotonic()
    left = max(deadline - time.monotonic(), 60)
    with serve(".", env=env, cwd=ROOT, ready_timeout=left) as url:
        f.ready_s = time.monotonic() - restart
        with httpx.Client() as client:
            f.after = list_jobs(client, url, f)
        if f.after is not None:
            kept = [j for i, j in f.after.items() if i in f.accepted and j["status"] == "done"]
            f.files_ok = files_readable(url, kept)
        until = max(deadline - 30, time.monotonic() + 60)
        f.new_job_status, took = run_one(url, form, until)
        f.new_job_s = time.monotonic() - restart if f.new_job_status == "done" else None
        print(f"a new job after the restart: {f.new_job_status} in {took:.1f} s", flush=True)
        f.stop2_s, f.alive2_at_grace, _ = stop_stack(marker)
    f.left_behind = names(stack_processes(marker))
    for pid in stack_processes(marker):  # stack.local should have left none: say so, and kill
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def seconds(value: float | None, missing: str = "-") -> str:
    return missing if value is None else f"{value:.1f} s"


def report(args: argparse.Namespace, f: Figures) -> None:
    ended = f.ended or {i: {} for i in f.accepted}
    status = Counter(job.get("status", "unknown") for job in ended.values())
    failed = [job for job in ended.values() if job.get("status") == "failed"]
    failed_at = Counter(job.get("failed_stage") or "studio" for job in failed)
    retried: Counter = Counter()
    for job in ended.values():
        timings = (job.get("report") or {}).get("timings") or {}
        for name, timing in timings.items():
            retried[name] += (timing or {}).get("attempts", 1) > 1
    hit = Counter(ended.get(i, {}).get("status", "unknown") for i in f.in_stage_at_kill)
    refused = {k: n for k, n in f.answers.items() if k[0] == "4"}
    after = f.after or {}
    kept_done = [i for i in f.accepted if after.get(i, {}).get("status") == "done"]

    def of(count: int | str, total: int) -> str:
        return f"{count} of {total}"

    rows: list[tuple[str, object]] = [
        ("jobs submitted at once", f.submitted),
        ("covers", f"{args.steps} steps, {args.size} x {args.size}, {args.model}"),
        ("STUDIO_MAX_JOBS", args.max_jobs),
        ("429 busy", "waited out (Retry-After)" if args.retry_busy else "counted as refused"),
        ("answers to the submissions", dict(f.answers)),
        ("accepted (202)", f"{len(f.accepted)} in {seconds(f.submit_s)}"),
        ("refused (4xx)", refused or 0),
        ("worker killed (SIGKILL)", f"{f.victim} at {seconds(f.killed_at, 'never')}"),
        (f"jobs in the {args.stage} stage at the kill", len(f.in_stage_at_kill)),
        ("  and how they ended", dict(hit) or "-"),
        ("new worker process after", seconds(f.respawned_s, "not seen")),
        (f"a job through {args.stage} again after", seconds(f.answering_s, "not seen")),
        ("done", status["done"]),
        ("failed", f"{status['failed']} {dict(failed_at) if failed else ''}".strip()),
        ("still running at the limit", status["running"]),
        ("stages retried (jobs)", {k: n for k, n in retried.items() if n} or 0),
        ("5xx answers to the client", f"{sum(f.fives.values())} {dict(f.fives) or ''}".strip()),
        ("polls without an answer", f"{sum(f.transport.values())} {dict(f.transport) or ''}"),
        ("time for all jobs to end", seconds(f.ended_s)),
        ("stack stop (SIGTERM to all gone)", seconds(f.stop_s, f"over {STOP_WAIT_S:g} s")),
        (f"processes alive {STOP_GRACE_S:g} s after SIGTERM", f.alive_at_grace or 0),
        (f"processes alive {STOP_WAIT_S:g} s after SIGTERM", f.alive_at_wait or 0),
        ("job statuses on disk after the stop", dict(f.on_disk)),
        ("recovery: restart to /readyz 200", seconds(f.ready_s)),
        ("recovery: restart to a new job done", seconds(f.new_job_s, f.new_job_status or "-")),
        ("finished jobs still there after the restart", of(len(kept_done), status["done"])),
        ("  their files served", of(f.files_ok, len(kept_done))),
        ("failed jobs still there after the restart",
         sum(after.get(i, {}).get("status") == "failed" for i in f.accepted)),
        ("interrupted after the restart",
         sum(after.get(i, {}).get("status") == "interrupted" for i in f.accepted)),
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
        f"{job.get('failed_stage')}: {(job.get('error') or '')[:200]}" for job in failed
    )
    for reason, count in reasons.most_common(5):
        print(f"  {count} x {reason}")
    for note in f.notes:
        print(f"note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=64, help="jobs submitted at once")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps of a cover")
    parser.add_argument("--size", type=int, default=256, help="cover side (256 at least)")
    parser.add_argument("--model", default="sd2-base", help="the one model that paints")
    parser.add_argument("--max-jobs", type=int, help="STUDIO_MAX_JOBS (default: --jobs)")
    parser.add_argument("--retry-busy", action="store_true", help="wait out 429s")
    parser.add_argument("--wait-cap", type=float, default=5, help="most s waited on a 429")
    parser.add_argument(
        "--victim", default="art-painter", choices=sorted(STAGE_OF), help="the worker killed"
    )
    parser.add_argument("--limit", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    args.max_jobs = args.max_jobs or args.jobs
    args.stage = STAGE_OF[args.victim]
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
