"""Start BentoML services on this machine for the demo, tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Every process a stack starts carries this variable (children inherit it), so whatever
# its process tree does, its stragglers can be found and stopped.
STACK_MARK = "MARKETPLACE_STACK_ID"
STOP_TIMEOUT_S = 15.0  # a stack has this long to stop on SIGTERM before it is killed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Target:
    """A service to serve: ``module:Class`` (or a folder with a bentofile) and its env."""

    target: str
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None


@contextlib.contextmanager
def serve(
    target: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ready_timeout: float = 300.0,
    log_dir: Path | None = None,
) -> Iterator[str]:
    """Run ``bentoml serve <target>`` until the block ends; yield its base URL.

    Waits for ``/readyz``; if the server dies or is not ready in time, raises with the end
    of its log. The whole process group is stopped on exit. ``log_dir``: keep its log
    there (``service.log``) after it stops.
    """
    spec = {"service": Target(target, env or {}, port)}
    with serve_many(spec, cwd, ready_timeout, log_dir) as urls:
        yield urls["service"]


@contextlib.contextmanager
def serve_many(
    targets: dict[str, Target],
    cwd: Path | None = None,
    ready_timeout: float = 300.0,
    log_dir: Path | None = None,
) -> Iterator[dict[str, str]]:
    """Serve several services at once (they start in parallel); yield name -> base URL.
    ``log_dir``: keep their logs there (``<name>.log``) after they stop."""
    bentoml_cli = Path(sys.executable).with_name("bentoml")
    prepare_smoke_models(targets, cwd)
    with (
        tempfile.TemporaryDirectory(prefix="bentoml-serve-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        started: dict[str, tuple[subprocess.Popen, str, Path]] = {}
        mark = uuid.uuid4().hex
        try:
            for name, spec in targets.items():
                port = spec.port or free_port()
                log_path = (log_dir or Path(tmp)) / f"{name}.log"
                log = stack.enter_context(log_path.open("wb"))
                # its temporary files in here: removed with it, even when it was killed
                scratch = Path(tmp) / f"{name}.tmp"
                scratch.mkdir()
                proc = subprocess.Popen(
                    [str(bentoml_cli), "serve", spec.target, "--host", "127.0.0.1",
                     "--port", str(port)],
                    cwd=cwd,
                    env={
                        **os.environ,
                        "BENTOML_DO_NOT_TRACK": "True",
                        "TMPDIR": str(scratch),
                        **spec.env,
                        STACK_MARK: mark,
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
                started[name] = (proc, f"http://127.0.0.1:{port}", log_path)
            deadline = time.monotonic() + ready_timeout
            for name, (proc, url, log_path) in started.items():
                _wait_ready(proc, url, log_path, deadline - time.monotonic(), name)
            yield {name: url for name, (_, url, _) in started.items()}
        finally:
            stop([proc for proc, _, _ in started.values()], mark)


SMOKE_MODELS = (
    "genre",
    "segment",
    "tags",
    "actions",
)  # the services whose models are in the model store


def prepare_smoke_models(targets: dict[str, Target], cwd: Path | None) -> None:
    """Before a smoke-profile stack that serves genre, segment or tags starts: their models,
    made once (``python -m training.smoke``) when the model store has none. The services
    themselves train nothing."""
    for spec in targets.values():
        env = {**os.environ, **spec.env}
        if env.get("MARKETPLACE_PROFILE") != "smoke":
            continue
        home = Path(env.get("BENTOML_HOME", "~/bentoml")).expanduser()
        missing = [
            name
            for name in SMOKE_MODELS
            if env.get(f"{name.upper()}_MODEL_TAG", f"{name}:latest") == f"{name}:latest"
            and (spec.target == "." or name in spec.target or "studio" in spec.target)
            and not (home / "models" / name / "latest").is_file()
        ]  # a model chosen by its tag must exist
        if missing:
            subprocess.run([sys.executable, "-m", "training.smoke"], cwd=cwd, env=env, check=True)
            return


def _wait_ready(
    proc: subprocess.Popen, url: str, log: Path, timeout: float, name: str = "service"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: bentoml serve exited ({proc.returncode}):\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{name} at {url} not ready after {timeout:.0f} s:\n{_tail(log)}")


def stop(procs: list[subprocess.Popen], mark: str, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every server at once, wait for all, then kill whatever carries ``mark``."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)  # workers the arbiter has not reaped yet
    for pid in marked(mark):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def marked(mark: str) -> list[int]:
    """Processes of this machine whose environment carries the stack mark ``mark``."""
    needle = f"{STACK_MARK}={mark}".encode()
    return processes(lambda environ: needle in environ)


def processes(where: Callable[[list[bytes]], bool]) -> list[int]:
    """Processes of this machine (but this one) whose environment entries satisfy ``where``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        if where(environ):
            found.append(int(entry.name))
    return found


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def service_target(service: str, root: Path) -> str:
    """``module:Class`` of a service, from its bentofile (the one place it is written)."""
    bentofile = root / "bentos" / service / "bentofile.yaml"
    match = re.search(r'^service:\s*"?([^"\s]+)"?\s*$', bentofile.read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"{bentofile} names no service")
    return match.group(1)


def stack(
    services: tuple[str, ...], root: Path, env: dict[str, str] | None = None
) -> dict[str, Target]:
    """Targets serving each of ``services`` on a free port, with the same environment."""
    return {name: Target(service_target(name, root), dict(env or {})) for name in services}


def main() -> None:
    """``make stack``: every model service on its default port until interrupted."""
    import argparse

    from marketplace.contracts.services import LOCAL_PORTS
    from marketplace.contracts.services import SERVICE_NAMES as SERVICES

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args()
    targets = stack(SERVICES, args.root)
    for name, target in targets.items():
        targets[name] = Target(target.target, target.env, LOCAL_PORTS[name])
    # SIGTERM stops the stack as Ctrl-C does (by default it would end this process alone)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with (
        contextlib.suppress(KeyboardInterrupt),
        serve_many(targets, cwd=args.root, ready_timeout=1800) as urls,
    ):
        for name, url in urls.items():
            print(f"{name:<11} {url}", flush=True)
        print("ready: `covers run <song>` in another shell; Ctrl-C stops", flush=True)
        signal.pause()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
