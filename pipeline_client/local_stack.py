"""Start BentoML services on this machine for the demo, tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    target: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ready_timeout: float = 300.0,
) -> Iterator[str]:
    """Run ``bentoml serve <target>`` until the block ends; yield its base URL.

    Waits for ``/readyz``; if the server dies or is not ready in time, raises with the end
    of its log. The whole process group is stopped on exit.
    """
    port = port or free_port()
    bentoml_cli = Path(sys.executable).with_name("bentoml")
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bentoml-serve-") as tmp:
        log_path = Path(tmp) / "serve.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(bentoml_cli), "serve", target, "--host", "127.0.0.1", "--port", str(port)],
                cwd=cwd,
                env={**os.environ, "BENTOML_DO_NOT_TRACK": "True", **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_ready(proc, url, log_path, ready_timeout)
                yield url
            finally:
                _stop(proc)


def _wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bentoml serve exited ({proc.returncode}):\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
