"""What the studio's durable runs cost and withstand, with instant stub services.

The studio (``bentoml serve``, SQLite, DBOS) runs ``lyrics-report`` against stub services
that answer at once (valid bodies of the services' schemas, over HTTP), so the figures
are the studio's own: admission, the durable queue, the engine, the events written.

1. Throughput: ``--runs`` runs submitted by 8 clients; runs per second from the first
   submission to the last run done.
2. A burst: 64 submissions at once with ``STUDIO_MAX_QUEUED=32``: accepted, refused (429),
   lost (accepted but never done).
3. Resume: 16 runs submitted, the studio SIGKILLed once a few are done, started again on
   the same database: how long until it answers, and until every run is done.

    .venv/bin/python bench/studio_runs.py --runs 100 --max-running 4
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import signal
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from marketplace.contracts.services import SERVICE_NAMES
from stack.local import processes, serve

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "stack" / "assets" / "demo-song.mp3"
STUDIO = "bentos.studio.service:Studio"
EMOTIONS = ("joy", "sadness", "anger", "surprise", "disgust", "fear", "others")
ANSWERS = {
    "/transcribe": {
        "text": "la " * 150, "language": "en", "language_probability": 0.9, "duration": 20.0,
        "segments": [], "no_speech": False, "windows": 1, "model": "stub",
    },
    "/analyze": {
        "language": "en", "language_detected": True, "model_language": "en",
        "emotions": {e: 1 / len(EMOTIONS) for e in EMOTIONS}, "emotion": "joy",
        "sentiment": {"POS": 0.5, "NEU": 0.3, "NEG": 0.2},
        "keywords": [{"word": "la", "score": 1.0}], "chunks": 1,
    },
    "/summarize": {"summary": "A song of la.", "chunks": 1},
}  # fmt: skip


class Stub(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = ANSWERS.get(self.path)
        body = json.dumps(answer or {"error": "not_found", "detail": self.path}).encode()
        self.send_response(200 if answer else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # the studio was killed mid-request
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(200 if self.path in ("/readyz", "/livez") else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def submit(url: str, owner: str) -> httpx.Response:
    files = {"audio": (SONG.name, SONG.read_bytes(), "audio/mpeg")}
    return httpx.post(f"{url}/api/pipelines/lyrics-report/runs", files=files,
                      headers={"X-Studio-Owner": owner}, timeout=60)  # fmt: skip


def wait_all(url: str, owner: str, ids: list[str], timeout: float = 600) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = httpx.get(f"{url}/api/runs", headers={"X-Studio-Owner": owner}, timeout=60)
        mine = {r["id"]: r for r in runs.json() if r["id"] in ids}
        if all(mine.get(i, {}).get("status") in ("done", "failed") for i in ids):
            return list(mine.values())
        time.sleep(0.2)
    raise TimeoutError("runs still unfinished")


def owner_of(url: str) -> str:
    return httpx.get(f"{url}/api/owner", timeout=30).json()["owner"]


def throughput(url: str, runs: int) -> None:
    owner = owner_of(url)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: submit(url, owner), range(runs)))
    ids = [a.json()["id"] for a in answers if a.status_code == 202]
    done = wait_all(url, owner, ids)
    wall = time.perf_counter() - start
    ok = sum(r["status"] == "done" for r in done)
    print(f"throughput: {runs} runs of lyrics-report (3 steps each), 8 clients")
    print(f"  {ok} done in {wall:.1f} s: {ok / wall:.1f} runs/s "
          f"({1000 * wall / max(ok, 1):.0f} ms per run)")  # fmt: skip


def burst(url: str) -> None:
    owner = owner_of(url)
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(lambda _: submit(url, owner), range(64)))
    codes = [a.status_code for a in answers]
    ids = [a.json()["id"] for a in answers if a.status_code == 202]
    queued = sum(a.json()["status"] == "queued" for a in answers if a.status_code == 202)
    done = wait_all(url, owner, ids)
    lost = len(ids) - sum(r["status"] == "done" for r in done)
    print("burst: 64 submissions at once, STUDIO_MAX_QUEUED=32")
    print(f"  accepted {codes.count(202)} ({queued} answered queued), refused 429 "
          f"{codes.count(429)}, other {len(codes) - codes.count(202) - codes.count(429)}, "
          f"lost {lost}")  # fmt: skip


def resume(env: dict[str, str]) -> None:
    mark = uuid.uuid4().hex
    env = {**env, "STUDIO_TEST_MARK": mark}
    with serve(STUDIO, env=env, cwd=ROOT) as url:
        owner = owner_of(url)
        ids = [submit(url, owner).json()["id"] for _ in range(16)]
        while True:
            runs = httpx.get(f"{url}/api/runs", headers={"X-Studio-Owner": owner}).json()
            if sum(r["status"] == "done" for r in runs) >= 3:
                break
            time.sleep(0.05)
        left = sum(r["status"] != "done" for r in runs)
        needle = f"STUDIO_TEST_MARK={mark}".encode()
        for pid in processes(lambda environ: needle in environ):
            os.kill(pid, signal.SIGKILL)
    restart = time.perf_counter()
    with serve(STUDIO, env=env, cwd=ROOT) as url:
        ready = time.perf_counter() - restart
        done = wait_all(url, owner, ids)
        total = time.perf_counter() - restart
    lost = len(ids) - sum(r["status"] == "done" for r in done)
    print(f"resume: 16 runs, the studio SIGKILLed with {left} unfinished")
    print(f"  started again and ready in {ready:.1f} s; every run done {total:.1f} s after "
          f"the restart ({total - ready:.1f} s once ready); lost {lost}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--max-running", type=int, default=4)
    args = parser.parse_args()
    stub = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        env = {
            **{f"MARKETPLACE_{s.upper()}_URL": stub_url for s in SERVICE_NAMES},
            "MARKETPLACE_PROFILE": "smoke",
            "STUDIO_MAX_RUNNING": str(args.max_running),
        }
        print(f"studio: SQLite, STUDIO_MAX_RUNNING={args.max_running}; stub services\n")
        with serve(STUDIO, env={**env, "STUDIO_DATA_DIR": f"{tmp}/a"}, cwd=ROOT) as url:
            throughput(url, args.runs)
        with serve(STUDIO, env={**env, "STUDIO_DATA_DIR": f"{tmp}/b",
                                "STUDIO_MAX_QUEUED": "32"}, cwd=ROOT) as url:  # fmt: skip
            burst(url)
        resume({**env, "STUDIO_DATA_DIR": f"{tmp}/c"})
    stub.shutdown()


if __name__ == "__main__":
    main()
