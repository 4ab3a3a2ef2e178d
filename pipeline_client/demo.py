"""``make demo``: train the genre model, serve it, classify a generated clip, print it.

Offline and on the smoke profile: the model is trained on synthetic clips by the DVC
pipeline (``dvc repro``, skipped when up to date), served with ``bentoml serve``, and
asked about a new synthetic clip encoded as MP3. It tells synthetic genres apart; its
answers on real music are meaningless until it is trained on real data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline_client.clients import GenreClient
from pipeline_client.local_stack import serve

console = Console()


def train(root: Path) -> str:
    console.rule("1. train: dvc repro (synthetic source)")
    bin_dir = Path(sys.executable).parent
    # dvc.yaml runs `python -m training.<stage>`: it must be this environment's python.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(bin_dir / "dvc"), "repro"], cwd=root, env=env, check=True)
    registered = json.loads((root / "models" / "registered.json").read_text())
    console.print(
        f"registered model [bold]{registered['tag']}[/] "
        f"(test accuracy {registered['accuracy']:.3f} on synthetic tracks)"
    )
    return str(registered["tag"])


def make_clip(genre: str, out_dir: Path, seconds: float = 20.0) -> Path:
    from training.clips import write_clip

    out_dir.mkdir(parents=True, exist_ok=True)
    return write_clip(out_dir / "clip.mp3", genre, seconds, seed=int(time.time()))


async def classify(url: str, clip: Path):
    async with GenreClient(url) as client:
        return await client.detect(clip)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genre", default="Reggae", help="genre of the generated clip")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    parser.add_argument("--out", type=Path, help="default: <root>/covers/genre-demo")
    args = parser.parse_args(argv)
    args.out = args.out or args.root / "covers" / "genre-demo"

    tag = train(args.root)
    console.rule("2. generate a clip")
    clip = make_clip(args.genre, args.out)
    console.print(f"synthetic {args.genre} clip: {clip}")
    console.rule("3. serve the genre service and classify the clip")
    env = {"MARKETPLACE_PROFILE": "smoke", "GENRE_MODEL_TAG": tag}
    with serve("bentos.genre.service:Genre", env=env, cwd=args.root) as url:
        console.print(f"genre service ready at {url}")
        result = asyncio.run(classify(url, clip))
    (args.out / "result.json").write_text(result.model_dump_json(indent=2))

    table = Table(title=f"POST /detect: {result.windows} windows of {result.duration:.1f} s audio")
    table.add_column("genre")
    table.add_column("probability", justify="right")
    for genre, p in sorted(result.probabilities.items(), key=lambda kv: -kv[1]):
        table.add_row(genre, f"{p:.4f}", style="bold green" if genre == result.genre else None)
    console.print(table)
    verdict = "correct" if result.genre == args.genre else "wrong"
    console.print(
        f"sent a synthetic [bold]{args.genre}[/] clip, detected "
        f"[bold]{result.genre}[/] ({verdict}); model {result.model}"
    )
    console.print(f"results in {args.out} (clip.mp3, result.json)")


if __name__ == "__main__":
    main()
