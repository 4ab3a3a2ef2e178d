"""``marketplace``: the catalogue and the pipelines from the command line.

marketplace services [--json]          # every service endpoint, its inputs and outputs
marketplace validate FILE...           # check pipeline definitions; exit 1 if invalid
marketplace pipelines                  # the shipped pipelines (pipelines/*.yaml)
marketplace schema                     # the JSON Schema of a pipeline file
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from marketplace.contracts.catalogue import Catalogue, Port, load_catalogue

PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"


def _port(port: Port) -> str:
    kind = f"file {port.media}" if port.type == "file" else port.type
    mark = "" if port.required else "?"
    return f"{port.name}{mark}: {kind}"


def services(catalogue: Catalogue, as_json: bool) -> int:
    if as_json:
        print(catalogue.model_dump_json(indent=2, by_alias=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", show_lines=True)
    for column in ("endpoint", "version", "tags", "summary", "inputs", "outputs"):
        table.add_column(column)
    for service in catalogue.services:
        for endpoint in service.endpoints:
            table.add_row(
                f"{service.name}/{endpoint.name}" + (" (GPU)" if service.gpu else ""),
                service.version,
                " ".join(service.tags),
                endpoint.summary,
                "\n".join(_port(p) for p in endpoint.inputs),
                "\n".join(_port(p) for p in endpoint.outputs),
            )
    Console().print(table)
    return 0


def validate(paths: Sequence[Path]) -> int:
    from marketplace.validation import validate_file

    invalid = 0
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            invalid += 1
            continue
        result = validate_file(path)
        for problem in result.problems:
            print(f"{path}: {problem}", file=sys.stderr if problem.level == "error" else sys.stdout)
        if result.valid:
            assert result.definition is not None
            steps = len(result.definition.steps)
            print(f"{path}: valid ({result.definition.identity}, {steps} steps)")
        else:
            invalid += 1
    return 1 if invalid else 0


def pipelines() -> int:
    from marketplace.validation import validate_file

    for path in sorted(PIPELINES_DIR.glob("*.yaml")):
        result = validate_file(path)
        d = result.definition
        state = "valid" if result.valid else "INVALID"
        about = f"{d.identity}: {d.description}" if d else ""
        print(f"{path.name:<22} {state:<8} {about}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="marketplace",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("services", help="the catalogue of service endpoints")
    listing.add_argument("--json", action="store_true", help="the catalogue as JSON")
    checking = commands.add_parser("validate", help="check pipeline definitions")
    checking.add_argument("files", nargs="+", type=Path)
    commands.add_parser("pipelines", help="the shipped pipelines")
    commands.add_parser("schema", help="the JSON Schema of a pipeline file")
    args = parser.parse_args(argv)
    match args.command:
        case "services":
            return services(load_catalogue(), args.json)
        case "validate":
            return validate(args.files)
        case "pipelines":
            return pipelines()
        case _:
            from marketplace.contracts.pipeline import json_schema

            print(json.dumps(json_schema(), indent=2))
            return 0


if __name__ == "__main__":
    sys.exit(main())
