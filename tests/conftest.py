"""Shared fixtures: generated audio in several formats, and one tiny trained genre model.

The model is trained once per session on a small synthetic set, in a temporary folder,
and registered in a temporary BentoML model store: the same code path as `dvc repro`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
# Tests never touch the user's model store: one private BentoML home for the session,
# set before anything imports bentoml.
TEST_BENTOML_HOME = Path(tempfile.mkdtemp(prefix="marketplace-test-bentoml-"))
os.environ["BENTOML_HOME"] = str(TEST_BENTOML_HOME)


def ffmpeg(*args: str) -> None:
    from bentos.common.audio import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", *args], check=True)


def make_audio(
    path: Path, seconds: float = 2.0, rate: int = 44100, channels: int = 2, freq: float = 440.0
) -> Path:
    """A sine tone of the given length, rate and channels, encoded by the file's suffix."""
    codec = {
        ".ogg": ["-c:a", "libopus"],
        ".webm": ["-c:a", "libopus"],
        ".m4a": ["-c:a", "aac"],
    }.get(path.suffix, [])
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freq}:sample_rate={rate}:duration={seconds}",
        "-ac",
        str(channels),
        *codec,
        str(path),
    )
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a server this session started is still alive (and stop it)."""
    from stack.local import STACK_MARK, processes

    home, mark = f"BENTOML_HOME={TEST_BENTOML_HOME}".encode(), f"{STACK_MARK}=".encode()
    left = []
    for pid in processes(lambda env: home in env and any(v.startswith(mark) for v in env)):
        with contextlib.suppress(OSError):
            left.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()[:150]!r}")
            os.kill(pid, signal.SIGKILL)
    if left:
        print("\nservers started by the tests were still running (now killed):", *left, sep="\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def bentoml_home():
    """The session's private BentoML home, removed at the end."""
    yield TEST_BENTOML_HOME
    shutil.rmtree(TEST_BENTOML_HOME, ignore_errors=True)


SMALL_SYNTHETIC = {
    "data": {
        "source": "synthetic",
        "synthetic": {"tracks_per_genre": 10, "seconds": 6.0},
        "val_fraction": 0.2,
        "test_fraction": 0.3,
    },
    "train": {"max_epochs": 15, "patience": 4},
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, bentoml_home: Path) -> dict:
    """Run prepare -> featurize -> train -> evaluate -> register on a small synthetic set."""
    from training.layout import Layout
    from training.params import load_params
    from training.pipeline import run_all

    root = tmp_path_factory.mktemp("pipeline")
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml", **SMALL_SYNTHETIC)
    result = run_all(params, Layout(root), labels={"profile": "test"})
    return {"layout": Layout(root), "params": params, **result}


SMALL_SEGMENT = {
    "data": {"height": 64, "width": 128, "synthetic": {"train": 32, "val": 8, "test": 8}},
    "model": {"widths": [8, 16, 32], "hidden_sizes": [8, 16, 32, 64], "depths": [1, 1, 1, 1],
              "heads": [1, 1, 2, 4], "decoder_hidden_size": 32},
    "train": {"max_epochs": 6, "patience": 6, "workers": 2, "batch_size": 4, "lr": 0.01},
    "compare": {"epochs": 1, "variants": [
        {"name": "unet-ce", "architecture": "unet", "loss": "ce"},
        {"name": "segformer-dice", "architecture": "segformer", "loss": "dice"},
    ]},
}  # fmt: skip


@pytest.fixture(scope="session")
def segment_trained(tmp_path_factory: pytest.TempPathFactory, bentoml_home: Path) -> dict:
    """The segment stages (prepare, train, evaluate, compare, register) on small synthetic
    scenes, as `dvc repro` runs them: the root, the params and each stage's result."""
    from training.layout import Layout
    from training.params import load_params
    from training.segment import compare, evaluate, prepare, register, train

    root = tmp_path_factory.mktemp("segment")
    params = load_params(ROOT / "params.yaml", segment=SMALL_SEGMENT)
    layout = Layout(root)
    return {
        "layout": layout,
        "params": params,
        "prepared": prepare.prepare(params, layout),
        "train": train.train(params, layout),
        "metrics": evaluate.run(params, layout),
        "compare": compare.run(params, layout),
        "tag": register.run(params, layout, extra_labels={"profile": "test"}),
    }


SMALL_TAGS = {
    "data": {"synthetic": {"tracks": 1500}},
    "models": {"folds": 3, "mlp": {"epochs": 5}},
    "evaluate": {"resamples": 200},
}


@pytest.fixture(scope="session")
def tags_trained(tmp_path_factory: pytest.TempPathFactory, bentoml_home: Path) -> dict:
    """The tags stages (prepare, train, evaluate, register) on a small synthetic
    catalogue, as `dvc repro` runs them: the root, the params and each stage's result."""
    from training.layout import Layout
    from training.params import load_params
    from training.tags import evaluate, prepare, register, train

    root = tmp_path_factory.mktemp("tags")
    params = load_params(ROOT / "params.yaml", tags=SMALL_TAGS)
    layout = Layout(root)
    return {
        "layout": layout,
        "params": params,
        "prepared": prepare.prepare(params, layout),
        "train": train.train(params, layout),
        "metrics": evaluate.run(params, layout),
        "tag": register.run(params, layout, extra_labels={"profile": "test"}),
    }


SMALL_ACTIONS = {
    "data": {"synthetic": {"train": 4, "val": 1, "test": 1, "seconds": 12.0}},
    "train": {"max_epochs": 2, "patience": 2},
}


@pytest.fixture(scope="session")
def actions_trained(tmp_path_factory: pytest.TempPathFactory, bentoml_home: Path) -> dict:
    """The actions stages (prepare, train, evaluate, register) on a few synthetic clips,
    as `dvc repro` runs them: the root, the params and each stage's result."""
    from training.actions import evaluate, prepare, register, train
    from training.layout import Layout
    from training.params import load_params

    root = tmp_path_factory.mktemp("actions")
    params = load_params(ROOT / "params.yaml", actions=SMALL_ACTIONS)
    layout = Layout(root)
    return {
        "layout": layout,
        "params": params,
        "prepared": prepare.prepare(params, layout),
        "train": train.train(params, layout),
        "metrics": evaluate.run(params, layout),
        "tag": register.run(params, layout, extra_labels={"profile": "test"}),
    }


@pytest.fixture(scope="session")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory):
    """Factory: an MP3 synthetic clip of a genre."""
    from training.clips import write_clip

    folder = tmp_path_factory.mktemp("clips")

    def make(genre: str, seconds: float = 12.0, index: int = 1000) -> Path:
        path = folder / f"{genre}-{seconds}-{index}.mp3"
        return write_clip(path, genre, seconds, seed=99, index=index)

    return make


ROOT = Path(__file__).resolve().parents[1]


def serve_smoke(target: str, tmp_path_factory: pytest.TempPathFactory, **env: str):
    """Serve ``target`` on the smoke profile with its tiny models in a fresh folder."""
    from stack.local import serve

    smoke = str(tmp_path_factory.mktemp("smoke"))
    env = {"MARKETPLACE_PROFILE": "smoke", "MARKETPLACE_SMOKE_DIR": smoke, **env}
    return serve(target, env=env, cwd=ROOT)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


DEMO_SONG = ROOT / "stack" / "assets" / "demo-song.mp3"


@pytest.fixture(scope="session")
def audio_site(tmp_path_factory: pytest.TempPathFactory):
    """A local file server with songs: the youtube service's test origin."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    folder = tmp_path_factory.mktemp("site")
    shutil.copy(DEMO_SONG, folder / "song.mp3")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def smoke_stack(tmp_path_factory: pytest.TempPathFactory, audio_site: str) -> dict[str, str]:
    """Every model service on the smoke profile, each on its own port: service -> URL."""
    from marketplace.contracts.services import SERVICE_NAMES as SERVICES
    from stack.local import serve_many, stack

    env = {
        "MARKETPLACE_PROFILE": "smoke",
        "MARKETPLACE_SMOKE_DIR": str(tmp_path_factory.mktemp("smoke")),
        "YOUTUBE_TEST_ORIGIN": audio_site,
    }
    with serve_many(stack(SERVICES, ROOT, env), cwd=ROOT) as urls:
        yield urls


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of Debian's ``postgresql`` package in a temporary folder, for
    the session: yields its URL (the database ``studio``). Skipped, with the reason, where
    the package is not installed (``make test`` installs it as root)."""
    import pwd

    from stack.local import free_port

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = bins[-1].parent
    # Not under pytest's temporary folder: the server's user must reach it.
    folder = Path(tempfile.mkdtemp(prefix="marketplace-test-postgres-"))
    data, port = folder / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: as the package's user
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=folder)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "studio", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
        "-w", "start")  # fmt: skip
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "studio",
            "studio")  # fmt: skip
        yield f"postgresql://studio@127.0.0.1:{port}/studio"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server: str) -> str:
    """A new, empty database on the PostgreSQL server of the ``postgres`` fixture."""
    import uuid

    import sqlalchemy as sa

    name = f"t{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"
