"""The smoke profile's models in the model store, made when missing: the genre model
trained from the synthetic source, a segmentation network with random weights, and the
tag-decision model trained on a small synthetic catalogue (its tags are the synthetic
ones: g00, i03, m01 ..., not the challenge's).

    python -m training.smoke    # genre:latest, segment:latest, tags:latest, made if absent

``make serve``, ``make stack`` and the stack starters (``stack.local``)
run it before a smoke-profile genre service starts; the service itself trains nothing.
It uses params.yaml with a smaller synthetic set (about 30 s). The model recognises
synthetic clips, not real music.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from training.layout import Layout
from training.params import load_params
from training.pipeline import run_all

log = logging.getLogger(__name__)
PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"
SMOKE_OVERRIDES = {
    "data": {"source": "synthetic", "synthetic": {"tracks_per_genre": 12, "seconds": 8.0}},
    "train": {"max_epochs": 20},
}


def train_smoke_model(name: str = "genre") -> str:
    params = load_params(PARAMS_FILE, **SMOKE_OVERRIDES, registry={"name": name})
    with tempfile.TemporaryDirectory(prefix="genre-smoke-") as tmp:
        result = run_all(params, Layout(Path(tmp)), labels={"profile": "smoke"})
    log.warning(
        "smoke profile: registered %s (synthetic data; meaningless on real music)", result["tag"]
    )
    return result["tag"]


def ensure(name: str, make: Callable[[str], str]) -> str:
    """``<name>:latest`` in the model store, made by ``make(name)`` first if it is
    missing; one process makes it while the others started at the same time wait."""
    import bentoml

    from bentos.common.once import build_once
    from bentos.common.store import model_exists

    tag = f"{name}:latest"
    store = Path(os.environ.get("BENTOML_HOME", "~/bentoml")).expanduser()
    build_once(store / f".{name}-smoke.lock", lambda: model_exists(tag), lambda: make(name))
    return str(bentoml.models.get(tag).tag)


def ensure_smoke_model(name: str = "genre") -> str:
    return ensure(name, train_smoke_model)


def register_random(
    name: str, save: Callable[[str], None], register: Callable[..., str], note: str
) -> str:
    """Save a random-weight model into a temporary folder and register it as such (labels
    ``profile: smoke``, ``trained: "no"``, the ``note`` saying what its output is worth)."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-smoke-") as tmp:
        save(tmp)
        tag = register(tmp, name, labels={"profile": "smoke", "trained": "no"},
                       metadata={"note": note})  # fmt: skip
    log.warning("smoke profile: registered %s (%s)", tag, note)
    return tag


def random_segment_model(name: str = "segment") -> str:
    """The segmentation network params.yaml describes, with random weights, registered
    as such (labels ``profile: smoke``, ``trained: "no"``): its masks are meaningless."""
    import torch

    from bentos.segment.model_files import SegmentConfig, register, save
    from bentos.segment.network import build

    sp = load_params(PARAMS_FILE).segment
    spec = sp.network_spec()
    torch.manual_seed(0)
    note = "random weights (smoke profile): the masks mean nothing"
    config = SegmentConfig(spec=spec, height=sp.data.height, width=sp.data.width,
                           training={"note": note})  # fmt: skip
    return register_random(name, lambda folder: save(folder, build(spec), config), register,
                           note)  # fmt: skip


def ensure_random_segment_model(name: str = "segment") -> str:
    return ensure(name, random_segment_model)


TAGS_OVERRIDES = {
    "data": {"synthetic": {"tracks": 1500}},
    "models": {"mlp": {"epochs": 5}},
    "evaluate": {"resamples": 100},
}


def train_smoke_tags_model(name: str = "tags") -> str:
    """The tags stages on 1500 synthetic tracks (seconds), registered ``profile: smoke``."""
    from training.tags import evaluate, prepare, register, train

    params = load_params(PARAMS_FILE, tags={**TAGS_OVERRIDES, "registry_name": name})
    with tempfile.TemporaryDirectory(prefix="tags-smoke-") as tmp:
        layout = Layout(Path(tmp))
        prepare.prepare(params, layout)
        train.train(params, layout)
        evaluate.run(params, layout)
        tag = register.run(params, layout, extra_labels={"profile": "smoke"})
    log.warning("smoke profile: registered %s (a synthetic catalogue's tags)", tag)
    return tag


def ensure_smoke_tags_model(name: str = "tags") -> str:
    return ensure(name, train_smoke_tags_model)


def random_actions_model(name: str = "actions") -> str:
    """The action network params.yaml describes, with random weights, registered as such
    (labels ``profile: smoke``, ``trained: "no"``): its actions mean nothing."""
    import torch

    from bentos.actions.model_files import ActionsConfig, register, save
    from bentos.actions.network import build, spec_of
    from training.actions.synthetic import CLASSES

    ap = load_params(PARAMS_FILE).actions
    spec = spec_of(ap.model.widths, ap.model.frames, ap.data.height, ap.data.width,
                   len(CLASSES), ap.model.dropout)  # fmt: skip
    torch.manual_seed(0)
    note = "random weights (smoke profile): the actions mean nothing"
    config = ActionsConfig(
        spec=spec,
        fps=ap.data.fps,
        classes=list(CLASSES),
        stride=ap.inference.stride,
        smooth_seconds=ap.inference.smooth_seconds,
        min_seconds=ap.inference.min_seconds,
        training={"note": note},
    )
    return register_random(name, lambda folder: save(folder, build(spec), config), register,
                           note)  # fmt: skip


def ensure_random_actions_model(name: str = "actions") -> str:
    return ensure(name, random_actions_model)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    print(ensure_smoke_model(*sys.argv[1:2]))
    print(ensure_random_segment_model())
    print(ensure_smoke_tags_model())
    print(ensure_random_actions_model())
