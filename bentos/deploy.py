"""Pointing an overlay at a new image: what the bentos and promote workflows change.

    python -m bentos.deploy set-image genre ghcr.io/acme/ai-marketplace/genre:3f2c9a1b7d0e-x

Rewrites the ``newName`` and ``newTag`` of ``ai-marketplace/<service>`` in the
``images`` list of each overlay's kustomization.yaml (``--overlay`` to pick one), in
place, comments and layout kept. The workflow then opens a pull request with the change.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = ROOT / "manifests" / "overlays"


def set_image(kustomization: Path, service: str, image: str) -> bool:
    """Point ``ai-marketplace/<service>`` at ``image`` (``name:tag``); False if absent."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        raise ValueError(f"'{image}' is not an image reference with a tag (name:tag)")
    text = kustomization.read_text()
    entry = re.compile(
        rf"(- name: ai-marketplace/{re.escape(service)}\n)(\s+)newName: .*\n\s+newTag: .*\n"
    )
    new, count = entry.subn(lambda m: f"{m[1]}{m[2]}newName: {name}\n{m[2]}newTag: {tag}\n", text)
    if count:
        kustomization.write_text(new)
    return bool(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("set-image", help="point the overlays at a new image")
    command.add_argument("service")
    command.add_argument("image", help="registry/name:tag")
    command.add_argument("--overlay", action="append", help="cpu, gpu (default: every one)")
    command.add_argument("--overlays-dir", type=Path, default=OVERLAYS)
    args = parser.parse_args(argv)
    names = args.overlay or sorted(p.name for p in args.overlays_dir.iterdir() if p.is_dir())
    for overlay in names:
        path = args.overlays_dir / overlay / "kustomization.yaml"
        if not set_image(path, args.service, args.image):
            print(f"{path}: no image ai-marketplace/{args.service}", file=sys.stderr)
            return 1
        print(f"{path}: ai-marketplace/{args.service} -> {args.image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
