"""Pointing an overlay at a new image: what the bentos and promote workflows change.

    python -m bentos.deploy set-image genre ghcr.io/acme/ai-marketplace/genre:3f2c9a1b7d0e-x

Rewrites the ``newName`` and ``newTag`` (or ``digest``) of ``ai-marketplace/<service>``
in the ``images`` list of each overlay's kustomization.yaml (``--overlay`` to pick one),
in place, comments and layout kept. The workflow then opens a pull request with the
change. Only exact versions are written: a Bento version (``<12 hex>[-...]``), a semantic
version or a ``@sha256:`` digest; ``latest`` and other moving tags are refused.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = ROOT / "manifests" / "overlays"
# An exact version: a Bento's (commit, then the model's version for genre), semver, or
# PostgreSQL's major.minor (15.10: its releases have two numbers), with a variant after.
EXACT_TAG = re.compile(r"[0-9a-f]{12}(-[0-9a-z]+)*|v?\d+\.\d+(\.\d+)?([-+][\w.-]+)?")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def split_image(image: str) -> tuple[str, str, str]:
    """``(name, field, value)``: field ``newTag`` or ``digest``; ValueError unless exact."""
    if "@" in image:
        name, _, digest = image.partition("@")
        if name and DIGEST.fullmatch(digest):
            return name, "digest", digest
        raise ValueError(f"'{image}' has no sha256 digest (name@sha256:<64 hex>)")
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        raise ValueError(f"'{image}' is not an image reference with a tag (name:tag)")
    if not EXACT_TAG.fullmatch(tag):
        raise ValueError(f"'{image}': '{tag}' is not an exact version (no latest)")
    return name, "newTag", tag


def set_image(kustomization: Path, service: str, image: str) -> bool:
    """Point ``ai-marketplace/<service>`` at ``image`` (``name:tag`` or ``name@digest``);
    False if the overlay has no such image."""
    name, field, value = split_image(image)
    text = kustomization.read_text()
    entry = re.compile(
        rf"(- name: ai-marketplace/{re.escape(service)}\n)(\s+)newName: .*\n"
        r"\s+(?:newTag|digest): .*\n"
    )
    new, count = entry.subn(
        lambda m: f"{m[1]}{m[2]}newName: {name}\n{m[2]}{field}: {value}\n", text
    )
    if count:
        kustomization.write_text(new)
    return bool(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("set-image", help="point the overlays at a new image")
    command.add_argument("service")
    command.add_argument("image", help="registry/name:tag or registry/name@sha256:...")
    command.add_argument("--overlay", action="append", help="cpu, gpu (default: every one)")
    command.add_argument("--overlays-dir", type=Path, default=OVERLAYS)
    args = parser.parse_args(argv)
    names = args.overlay or sorted(p.name for p in args.overlays_dir.iterdir() if p.is_dir())
    try:
        split_image(args.image)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for overlay in names:
        path = args.overlays_dir / overlay / "kustomization.yaml"
        if not set_image(path, args.service, args.image):
            print(f"{path}: no image ai-marketplace/{args.service}", file=sys.stderr)
            return 1
        print(f"{path}: ai-marketplace/{args.service} -> {args.image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
