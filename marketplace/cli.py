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
from typing import Any

from marketplace.contracts.catalogue import Catalogue, Port, load_catalogue
from marketplace.runner import PIPELINES_DIR

MARKS = {
    "pending": "[dim]·[/]", "started": "[yellow]…[/]", "retrying": "[yellow]↻[/]",
    "finished": "[green]✓[/]", "skipped": "[dim]–[/]", "failed": "[red]✗[/]",
    "cancelled": "[red]○[/]",
}  # fmt: skip


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


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs: JSON values where they parse (numbers, lists), else text."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--in {pair!r}: write NAME=VALUE")
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        inputs[name] = parsed if isinstance(parsed, int | float | list | dict | bool) else value
    return inputs


def run_command(pipeline: str, pairs: Sequence[str], out: Path, cache: Path | None) -> int:
    import asyncio

    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from marketplace.engine import InvalidInputs, RunEvent
    from marketplace.runner import InvalidPipeline, arun, load_pipeline, write_outputs

    console = Console()
    try:
        definition = load_pipeline(pipeline)
        inputs = parse_inputs(pairs)
    except (FileNotFoundError, InvalidPipeline, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    rows = {s: ["pending", "", ""] for s in definition.steps}

    def table() -> Table:
        grid = Table(show_header=True, header_style="bold")
        for column in ("", "step", "call", "seconds", "detail"):
            grid.add_column(column)
        for step_id, (kind, seconds, detail) in rows.items():
            call = definition.steps[step_id].call
            grid.add_row(MARKS[kind], step_id, call, seconds, detail[:80])
        return grid

    with Live(table(), console=console, refresh_per_second=8) as live:
        started: dict[str, float] = {}

        def on_event(event: RunEvent) -> None:
            row = rows[event.step]
            row[0] = event.kind
            row[2] = event.detail or ""
            if event.kind == "started":
                started[event.step] = event.at
            elif event.kind != "retrying" and event.step in started:
                row[1] = f"{event.at - started[event.step]:.1f}"
            live.update(table())

        try:
            report = asyncio.run(arun(definition, cache=cache, on_event=on_event, **inputs))
        except InvalidInputs as exc:
            console.print(f"[red]{exc}[/]")
            return 2
    written = write_outputs(report, out)
    console.print(f"{len(written)} files in {out}: " + ", ".join(p.name for p in written))
    if report.failure is not None:
        console.print(f"[red]step '{report.failure.step}' failed: {report.failure.error}[/]")
        return 1
    console.print(f"[green]{definition.identity} done in {report.total_seconds:.1f} s[/]")
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
    running = commands.add_parser("run", help="run a pipeline against the services")
    running.add_argument("pipeline", help="a shipped pipeline's name or a file")
    running.add_argument("--in", dest="inputs", action="append", default=[],
                         metavar="NAME=VALUE", help="an input (a file by its path)")  # fmt: skip
    running.add_argument("--out", type=Path, default=Path("out"), help="the outputs' folder")
    running.add_argument("--cache", type=Path, help="reuse step results kept in this folder")
    args = parser.parse_args(argv)
    match args.command:
        case "services":
            return services(load_catalogue(), args.json)
        case "validate":
            return validate(args.files)
        case "pipelines":
            return pipelines()
        case "run":
            return run_command(args.pipeline, args.inputs, args.out, args.cache)
        case _:
            from marketplace.contracts.pipeline import json_schema

            print(json.dumps(json_schema(), indent=2))
            return 0


if __name__ == "__main__":
    sys.exit(main())
