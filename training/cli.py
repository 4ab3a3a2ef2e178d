"""Command line of the stages: ``python -m training.<stage> [--params F] [--root DIR]``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from training.layout import Layout
from training.params import Params, load_params


def stage_main(run: Callable[[Params, Layout], Any], argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(run.__module__ or "").rsplit(".", 1)[-1])
    parser.add_argument("--params", default="params.yaml", help="parameters file")
    parser.add_argument("--root", default=".", help="root that data/ and models/ are under")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run(load_params(args.params), Layout(Path(args.root).resolve()))
