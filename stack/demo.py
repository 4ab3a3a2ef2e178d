"""``make demo``: the cover pipeline end to end, offline, on the smoke profile.

1. ``dvc repro register reference`` trains the genre model on synthetic clips (skipped
   when up to date).
2. The model services start on this machine with the smoke profile; the tiny Whisper,
   lyrics, summary and Stable Diffusion models are built on first use.
3. The engine runs ``pipelines/covers.yaml`` (``marketplace run covers``) on the bundled
   clip (``stack/assets/demo-song.mp3``, synthetic, free of rights): covers,
   ``outputs.json`` and ``report.json`` in ``covers/demo``.
4. The services stop.

Every model but the genre model has random weights here: the transcript, emotions,
keywords and covers are noise. The run shows the machinery; ``PROFILE=full`` gives
real output (see the README).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from marketplace.contracts.services import SERVICE_NAMES
from stack.local import serve_many, stack

console = Console()
SONG = Path(__file__).parent / "assets" / "demo-song.mp3"
GENRE_TARGETS = ("register", "reference")  # the genre model's stages (not segment_*)


def covers_services(root: Path) -> tuple[str, ...]:
    """The services the covers pipeline calls, but youtube: a file needs no youtube."""
    import yaml

    steps = yaml.safe_load((root / "pipelines" / "covers.yaml").read_text())["steps"]
    used = {step["call"].split("/")[0] for step in steps.values()}
    return tuple(s for s in SERVICE_NAMES if s in used and s != "youtube")


def train(root: Path) -> str:
    console.rule("1. train the genre model: dvc repro (synthetic clips)")
    bin_dir = Path(sys.executable).parent
    # dvc.yaml runs `python -m training.<stage>`: it must be this environment's python.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(bin_dir / "dvc"), "repro", *GENRE_TARGETS], cwd=root, env=env, check=True)
    registered = json.loads((root / "models" / "registered.json").read_text())
    console.print(
        f"registered model [bold]{registered['tag']}[/] "
        f"(test accuracy {registered['accuracy']:.3f} on synthetic tracks)"
    )
    return str(registered["tag"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    parser.add_argument("--out", type=Path, help="default: <root>/covers/demo")
    parser.add_argument("--song", type=Path, default=SONG, help="the audio file to cover")
    args = parser.parse_args(argv)
    out = args.out or args.root / "covers" / "demo"

    tag = train(args.root)
    console.rule("2. start the services (smoke profile: tiny random models)")
    env = {"MARKETPLACE_PROFILE": "smoke", "GENRE_MODEL_TAG": tag}
    with serve_many(stack(covers_services(args.root), args.root, env), cwd=args.root) as urls:
        for service, url in urls.items():
            console.print(f"{service:<11} {url}")
        console.rule(f"3. marketplace run covers --in audio={args.song.name}")
        urls_env = {f"MARKETPLACE_{service.upper()}_URL": url for service, url in urls.items()}
        command = [sys.executable, "-m", "marketplace.cli", "run", "covers",
                   "--in", f"audio={args.song}", "--out", str(out)]  # fmt: skip
        code = subprocess.run(command, cwd=args.root, env=os.environ | urls_env).returncode
    console.rule("4. services stopped")
    if code != 0:
        console.print(f"[red]the run failed[/]; what it produced is in {out}", soft_wrap=True)
        return code
    console.print(f"[bold]covers and report.json in {out}[/]", soft_wrap=True)  # copyable
    console.print(
        "Smoke profile: the genre model is trained on synthetic clips; every other model "
        "has random weights, so the lyrics, emotions and covers are noise. "
        "See the README for the full profile."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
