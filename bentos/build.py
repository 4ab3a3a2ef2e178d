"""Building the Bentos: one per model service, the studio's and the core-engine bridge's,
versioned from git.

    python -m bentos.build                    # every Bento (make bentos)
    python -m bentos.build genre art          # some of them
    python -m bentos.build --changed          # names changed since their last publication

A Bento's version is the commit (12 hex digits, ``-dirty-<time>`` for uncommitted
changes); the genre, segment and tags Bentos also carry their model's version, since
they bundle the model: ``genre:<commit>-<model version>``. A Bento that already exists is
not rebuilt.

``--changed`` lists, as JSON, the services whose files (their bentofile and what it
includes) changed since the git tag ``published/<service>``, over the whole range of
commits; a service never published counts as changed. The bentos workflow builds those
and moves the tag after publishing.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from marketplace.contracts.services import CORE_ENGINE, SERVICE_NAMES, STUDIO

ROOT = Path(__file__).resolve().parents[1]
SERVICES = (*SERVICE_NAMES, STUDIO, CORE_ENGINE)
PUBLISHED_TAG = "published/{service}"


@dataclass(frozen=True)
class BentoSpec:
    service: str
    bentofile: Path  # relative to the root

    @classmethod
    def of(cls, service: str) -> BentoSpec:
        if service == "studio":  # the root Bento: the studio and what it depends on
            return cls(service, Path("bentofile.yaml"))
        return cls(service, Path("bentos") / service / "bentofile.yaml")

    def files(self, root: Path = ROOT) -> list[str]:
        """The bentofile and its include patterns: what goes into the Bento."""
        text = (root / self.bentofile).read_text()
        block = re.search(r"^include:\n((?:\s+- .*\n)+)", text, re.MULTILINE)
        patterns = re.findall(r'-\s+"?([^"\n]+)"?', block.group(1)) if block else []
        return [str(self.bentofile), *patterns]


def git(*args: str, root: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit_version(root: Path = ROOT) -> str:
    sha = git("rev-parse", "--short=12", "HEAD", root=root)
    dirty = git("status", "--porcelain", "--untracked-files=no", root=root)
    return f"{sha}-dirty-{time.strftime('%Y%m%d%H%M%S')}" if dirty else sha


def matches(path: str, pattern: str) -> bool:
    """A bentofile include pattern (``**`` spans folders) against a repository path."""
    regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
    regex = regex.replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None or fnmatch.fnmatch(path, pattern)


def changed_services(root: Path = ROOT) -> list[str]:
    """Services changed since their last publication (all commits since its tag)."""
    changed = []
    for service in SERVICES:
        tag = PUBLISHED_TAG.format(service=service)
        try:
            since = git("rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}", root=root)
        except subprocess.CalledProcessError:
            changed.append(service)  # never published
            continue
        paths = git("diff", "--name-only", since, "HEAD", root=root).splitlines()
        patterns = BentoSpec.of(service).files(root)
        if any(matches(p, pattern) for p in paths for pattern in patterns):
            changed.append(service)
    return changed


MODEL_SERVICES = (
    "genre",
    "segment",
    "tags",
    "actions",
)  # their Bentos bundle a model of the model store


def model_version(service: str) -> str:
    """The version of the model a genre, segment or tags Bento bundles (``<NAME>_MODEL_TAG``)."""
    import bentoml

    tag = os.environ.get(f"{service.upper()}_MODEL_TAG", f"{service}:latest")
    return str(bentoml.models.get(tag).tag.version)


def build(service: str, version: str, root: Path = ROOT) -> str:
    """Build one Bento (unless it exists); return its tag."""
    spec = BentoSpec.of(service)
    if service in MODEL_SERVICES:
        version = f"{version}-{model_version(service)}"
    tag = f"{service}:{version}"
    bentoml_cli = str(Path(sys.executable).with_name("bentoml"))
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True", "MARKETPLACE_PROFILE": "full"}
    exists = subprocess.run([bentoml_cli, "get", tag], env=env, capture_output=True)
    if exists.returncode == 0:
        return tag
    done = subprocess.run(
        [bentoml_cli, "build", "-f", str(spec.bentofile), ".", "--version", version],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"bentoml build of {service} failed:\n{done.stderr[-3000:]}")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help=f"some of {', '.join(SERVICES)}")
    parser.add_argument("--changed", action="store_true", help="print changed services (JSON)")
    args = parser.parse_args(argv)
    if args.changed:
        print(json.dumps(changed_services()))
        return 0
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    version = commit_version()
    failed = False
    for service in args.services or SERVICES:
        try:
            print(build(service, version), flush=True)
        except Exception as exc:  # report every service, then fail
            print(f"{service}: {exc}", file=sys.stderr, flush=True)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
