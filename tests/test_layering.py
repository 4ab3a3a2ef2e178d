"""Dependencies run one way: the contracts <- the services; the contracts <- the engine
and the clients; the studio and the core-engine bridge on top. Training reads serving
code, never the reverse; the local stack and the demo are nobody's dependency.

Every import of the project's own packages is checked, those inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

OURS = ("marketplace", "bentos", "pipeline_client", "stack", "training")
# What each part may import of the project (prefixes); anything else is a wrong-way edge.
ALLOWED: dict[str, tuple[str, ...]] = {
    "marketplace/contracts": ("marketplace.contracts",),
    "marketplace": ("marketplace",),
    "bentos/studio": ("bentos", "marketplace"),
    # the core-engine bridge runs tasks through the engine; it calls services by URL
    "bentos/core_engine": ("bentos.common", "bentos.core_engine", "marketplace"),
    "bentos": ("bentos", "marketplace.contracts"),
    "pipeline_client": ("pipeline_client", "marketplace"),
    "training": ("training", "bentos", "marketplace.contracts"),
    "stack": ("stack", "marketplace.contracts", "training"),
}


def own_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def part_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    return next(part for part in ALLOWED if relative.startswith(f"{part}/"))


@pytest.mark.parametrize("package", OURS)
def test_imports_run_one_way(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        allowed = ALLOWED[part_of(path)]
        for name in sorted(own_imports(path)):
            if not any(name == a or name.startswith(f"{a}.") for a in allowed):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)
