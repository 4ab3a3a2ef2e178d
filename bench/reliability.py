"""Reliability of the whole smoke stack under a burst, a killed model worker and a restart.

Starts ``bentoml serve .`` (the studio and every model service, smoke profile), submits
``--jobs`` cover jobs at once, SIGKILLs the art painter's worker while a job is painting,
waits for every job to end, stops the stack (SIGTERM), starts it again on the same data
folder and prints: jobs accepted / done / failed (with the stage named) / lost, 5xx
answers, how long the stack took to stop and to be ready again, and the finished jobs
still there after the restart.

    .venv/bin/python bench/reliability.py            # 64 jobs, 2 steps, 256 x 256

The smoke models are tiny and random: the figures measure the machinery, not the models.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from pipeline_client.local_stack import serve

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "pipeline_client" / "assets" / "demo-song.mp3"


def processes_of(data_dir: Path, service: str) -> list[int]:
    """Workers of ``service`` (e.g. art-painter) of the stack whose studio uses data_dir."""
    needle, name = f"STUDIO_DATA_DIR={data_dir}".encode(), service.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        named = b"--service-name" in argv and argv[argv.index(b"--service-name") + 1] == name
        if needle in environ and named:
            found.append(int(entry.name))
    return found


async def submit_all(
    url: str, jobs: int, form: dict[str, str], wait_cap: float, limit: float
) -> tuple[list[str], Counter, float]:
    """Submit ``jobs`` jobs at once, as clients that honour 429's Retry-After (capped at
    ``wait_cap`` s) would; the accepted ids, the count of every answer, the time taken."""
    song = SONG.read_bytes()
    statuses: Counter = Counter()
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(i: int) -> str | None:
            files = {"audio": (f"song-{i}.mp3", song, "audio/mpeg")}
            while time.monotonic() - start < limit:
                try:
                    response = await client.post(f"{url}/jobs", files=files, data=form)
                except httpx.TransportError as exc:  # a kept-alive connection the server closed
                    statuses[type(exc).__name__] += 1
                    continue
                statuses[response.status_code] += 1
                if response.status_code == 202:
                    return response.json()["id"]
                if response.status_code != 429:
                    return None
                wait = float(response.headers.get("retry-after", wait_cap))
                await asyncio.sleep(min(wait, wait_cap))
            return None

        ids = await asyncio.gather(*(one(i) for i in range(jobs)))
    return [i for i in ids if i], statuses, time.monotonic() - start


def jobs_now(url: str, fives: Counter) -> dict[str, dict]:
    response = httpx.get(f"{url}/jobs", timeout=30)
    if response.status_code >= 500:
        fives["GET /jobs"] += 1
        return {}
    return {job["id"]: job for job in response.json()}


def wait_for_painting(url: str, fives: Counter, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(
            j["stages"].get("art", {}).get("state") == "started"
            for j in jobs_now(url, fives).values()
        ):
            return True
        time.sleep(0.2)
    return False


def wait_all_ended(url: str, ids: list[str], fives: Counter, limit: float) -> dict[str, dict]:
    deadline = time.monotonic() + limit
    while True:
        jobs = jobs_now(url, fives)
        running = [i for i in ids if jobs.get(i, {}).get("status") == "running"]
        if not running or time.monotonic() > deadline:
            return jobs
        time.sleep(1)


KILLED: list[float] = []


def kill_when_painting(url: str, data: Path, fives: Counter, args: argparse.Namespace) -> None:
    """SIGKILL the art painter's worker as soon as a job is painting."""
    start = time.monotonic()
    if wait_for_painting(url, fives, limit=min(args.limit, 180)):
        victims = processes_of(data, "art-painter")
        if victims:
            os.kill(victims[0], signal.SIGKILL)
            KILLED.append(time.monotonic() - start)
            print(f"killed the art painter ({victims[0]}) at {KILLED[0]:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--limit", type=float, default=900, help="seconds for the jobs to end")
    parser.add_argument("--max-jobs", type=int, default=8, help="STUDIO_MAX_JOBS")
    parser.add_argument("--wait-cap", type=float, default=5, help="most s waited on a 429")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the stack on SIGTERM

    with tempfile.TemporaryDirectory(prefix="marketplace-reliability-") as tmp:
        data = Path(tmp) / "studio"
        env = {
            "MARKETPLACE_PROFILE": "smoke",
            "MARKETPLACE_SMOKE_DIR": str(Path(tmp) / "smoke"),
            "BENTOML_HOME": str(Path(tmp) / "bentoml"),
            "STUDIO_DATA_DIR": str(data),
            "STUDIO_MAX_JOBS": str(args.max_jobs),
        }
        form = {"steps": str(args.steps), "size": str(args.size), "models": "sd2-base"}
        fives: Counter = Counter()
        print(f"starting the smoke stack ({tmp}) ...", flush=True)
        with serve(".", env=env, cwd=ROOT, ready_timeout=600) as url:
            start = time.monotonic()
            killer = threading.Thread(target=kill_when_painting, args=(url, data, fives, args))
            killer.start()
            ids, statuses, submitting = asyncio.run(
                submit_all(url, args.jobs, form, args.wait_cap, args.limit)
            )
            killer.join()
            fives["POST /jobs"] += sum(
                n for s, n in statuses.items() if isinstance(s, int) and s >= 500
            )
            print(f"{args.jobs} submitted at once: answers {dict(statuses)}", flush=True)
            jobs = wait_all_ended(url, ids, fives, args.limit)
            ran = time.monotonic() - start
            stopping = time.monotonic()
        stopped = time.monotonic() - stopping
        ended = {i: jobs.get(i, {}) for i in ids}
        status = Counter(job.get("status", "lost") for job in ended.values())
        failed = [job for job in ended.values() if job.get("status") == "failed"]
        failed_at = Counter(job.get("failed_stage") or "?" for job in failed)
        retried = sum(
            any(s.get("detail") and "retry" in s["detail"] for s in job.get("stages", {}).values())
            for job in ended.values()
        )
        restart = time.monotonic()
        with serve(".", env=env, cwd=ROOT, ready_timeout=600) as url:
            recovered = time.monotonic() - restart
            after = jobs_now(url, fives)
        kept_done = sum(after.get(i, {}).get("status") == "done" for i in ids)
        interrupted = sum(after.get(i, {}).get("status") == "interrupted" for i in ids)
        lost = sum(i not in after for i in ids)

    rows = [
        ("jobs submitted at once", args.jobs),
        ("STUDIO_MAX_JOBS", args.max_jobs),
        ("accepted (202), after waiting out 429s", f"{len(ids)} in {submitting:.1f} s"),
        ("429 busy answers along the way", statuses[429]),
        ("art painter killed at", f"{KILLED[0]:.1f} s" if KILLED else "not reached"),
        ("done", status["done"]),
        ("failed", f"{status['failed']} {dict(failed_at) if failed_at else ''}".strip()),
        ("still running at the limit", status["running"]),
        ("jobs with a retried stage", retried),
        ("5xx answers to the client", sum(fives.values())),
        ("time for all jobs to end", f"{ran:.1f} s"),
        ("stack stop (SIGTERM to gone)", f"{stopped:.1f} s"),
        ("stack restart (to ready)", f"{recovered:.1f} s"),
        ("finished jobs still there after the restart", f"{kept_done} of {status['done']}"),
        ("interrupted after the restart", interrupted),
        ("lost (accepted, absent after the restart)", lost),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for reason, count in Counter(
        f"{job.get('failed_stage')}: {(job.get('error') or '')[:160]}" for job in failed
    ).most_common(5):
        print(f"  {count} x {reason}")


if __name__ == "__main__":
    main()
