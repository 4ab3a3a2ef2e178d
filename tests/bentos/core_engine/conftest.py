"""The bridge against a local S3-compatible server (moto's server mode), the engine
stand-in and the session's smoke-profile services; all started once for these tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.contracts.services import SERVICE_NAMES
from stack.local import free_port, serve
from tests.bentos.core_engine.standin import Engine, Served, Storage
from tests.conftest import ROOT

BRIDGE = "bentos.core_engine.service:CoreEngine"
BUCKET = "engine"
MAX_TASKS, MAX_RUNNING = 3, 2
DOWN = "summarize"  # served at an address where nothing answers: a service that is down


@pytest.fixture(scope="session")
def s3() -> Iterator[Storage]:
    """moto's S3 server on a free port, with the engine's bucket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    storage = Storage(f"http://127.0.0.1:{port}", BUCKET)
    storage.client().create_bucket(Bucket=BUCKET)
    yield storage
    server.stop()


class BlackHole:
    """A storage address that accepts connections and never answers, until released."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)

    def release(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="session")
def engine(s3: Storage) -> Iterator[Engine]:
    standin = Engine(s3)
    with Served(standin, free_port()):
        yield standin


@pytest.fixture(scope="session")
def bridge_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the bridge's log is kept (``service.log``)."""
    return tmp_path_factory.mktemp("bridge-logs")


@pytest.fixture(scope="session")
def bridge(engine: Engine, smoke_stack: dict[str, str], bridge_logs: Path) -> Iterator[str]:
    """The bridge, registering with the stand-in; one service of the stack is down."""
    port = free_port()
    urls = {f"MARKETPLACE_{s.upper()}_URL": smoke_stack[s] for s in SERVICE_NAMES}
    urls[f"MARKETPLACE_{DOWN.upper()}_URL"] = f"http://127.0.0.1:{free_port()}"
    env = {
        **urls,
        "CORE_ENGINE_URL": engine.url,
        "CORE_ENGINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CORE_ENGINE_HEARTBEAT_S": "0.5",
        "CORE_ENGINE_ANNOUNCE_RETRY_S": "0.2",
        "CORE_ENGINE_MAX_TASKS": str(MAX_TASKS),
        "CORE_ENGINE_MAX_RUNNING": str(MAX_RUNNING),
        "CORE_ENGINE_ENGINE_TIMEOUT_S": "3",
    }
    with serve(BRIDGE, port=port, env=env, cwd=ROOT, log_dir=bridge_logs) as url:
        yield url


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.release()
