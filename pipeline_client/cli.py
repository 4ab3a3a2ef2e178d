"""``covers run <audio-file-or-youtube-url> --out DIR``: a song to album covers.

A shortcut for ``marketplace run covers``: the engine runs ``pipelines/covers.yaml``
against the services (URLs from ``MARKETPLACE_<SERVICE>_URL`` or the flags, this
machine's default ports otherwise),
shows each stage's progress, and writes into DIR one PNG per model, the fetched audio
for a YouTube address, and ``report.json``: every intermediate result, the prompt, the
models and each stage's timing. A failed run still writes ``report.json`` with what it
got, names the failed stage and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from marketplace.contracts.schemas import CoverSettings
from marketplace.contracts.services import SERVICE_NAMES as SERVICES
from marketplace.contracts.urls import ServiceUrls
from pipeline_client.covers import CoverOptions, CoverReport, StageEvent, run_covers
from pipeline_client.outputs import safe_name, write_outputs

console = Console()
ORDER = SERVICES
MARKS = {
    "waiting": "[dim]·[/]",
    "started": "[yellow]…[/]",
    "retrying": "[yellow]↻[/]",
    "finished": "[green]✓[/]",
    "skipped": "[dim]–[/]",
    "failed": "[red]✗[/]",
    "cancelled": "[red]○[/]",
}


def summarize(event: StageEvent) -> str:
    """One line about a stage's result, for the progress table."""
    result = event.result
    if event.kind in ("skipped", "failed", "retrying", "cancelled"):
        return event.detail or ""
    if event.kind != "finished" or result is None:
        return ""
    match event.stage:
        case "youtube":
            return f"{result.title} ({result.duration:.0f} s)"
        case "transcribe":
            words = len(result.text.split())
            return f"{result.language}, {words} words" if words else "no lyrics heard"
        case "genre":
            return f"{result.genre} ({result.probabilities[result.genre]:.0%})"
        case "lyrics":
            keywords = ", ".join(k.word for k in result.keywords[:5])
            return f"{result.emotion}; {keywords}"
        case "summarize":
            return result.summary[:60]
        case "art":
            return ", ".join(image.model for image in result.images)
    return ""


class Progress:
    """A live table: one row per stage, its state, time and result."""

    def __init__(self, stages: tuple[str, ...]) -> None:
        self.rows = {stage: ["waiting", "", ""] for stage in stages}
        self.started: dict[str, float] = {}
        self.live = Live(self.table(), console=console, refresh_per_second=8, transient=False)

    def table(self) -> Table:
        table = Table(show_header=True, header_style="bold", expand=False)
        for column in ("", "stage", "seconds", "result"):
            table.add_column(column)
        for stage, (state, seconds, text) in self.rows.items():
            table.add_row(MARKS[state], stage, seconds, text[:80])
        return table

    def __call__(self, event: StageEvent) -> None:
        if event.stage not in self.rows:
            return  # youtube, skipped for a file
        row = self.rows[event.stage]
        row[0] = event.kind
        row[2] = summarize(event)
        if event.kind == "started":
            self.started[event.stage] = event.at
        if event.kind in ("finished", "failed") and event.stage in self.started:
            row[1] = f"{event.at - self.started[event.stage]:.1f}"
        self.live.update(self.table())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="covers", description="Album covers for a song.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="turn a song into covers", description=__doc__)
    run.add_argument("source", help="an audio file, or a YouTube video address")
    run.add_argument("--out", type=Path, help="output folder (default: covers/<song name>)")
    run.add_argument("--models", help="comma-separated model names (default: all)")
    run.add_argument("--seed", type=int, help="same seed, same covers")
    run.add_argument("--steps", type=int, help="denoising steps (default 25)")
    run.add_argument("--guidance", type=float, help="guidance scale (default 5)")
    run.add_argument("--size", type=int, help="width and height in pixels (default 512)")
    run.add_argument("--language", help="ISO 639-1 code of the lyrics (default: detected)")
    run.add_argument("--summary", choices=("auto", "always", "never"), default="auto")
    run.add_argument("--retries", type=int, default=3, help="retries on 503 / connection errors")
    for service in SERVICES:
        run.add_argument(
            f"--{service}-url", help=f"{service} service (env MARKETPLACE_{service.upper()}_URL)"
        )
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> CoverOptions:
    cover = {
        "models": args.models.split(",") if args.models else None,
        "seed": args.seed,
        "steps": args.steps,
        "guidance": args.guidance,
        "width": args.size,
        "height": args.size,
    }
    return CoverOptions(
        language=args.language,
        summary=args.summary,
        retries=args.retries,
        cover=CoverSettings(**{k: v for k, v in cover.items() if v is not None}),
    )


def default_out(source: str) -> Path:
    stem = Path(source).stem if not source.startswith(("http://", "https://")) else source
    return Path("covers") / (safe_name(stem.rsplit("=", 1)[-1].rsplit("/", 1)[-1]) or "song")


async def run_pipeline(args: argparse.Namespace, options: CoverOptions) -> CoverReport:
    given = {f"{s}_url": getattr(args, f"{s}_url") for s in SERVICES}
    urls = ServiceUrls(**{k: v for k, v in given.items() if v}).or_local()
    is_url = args.source.startswith(("http://", "https://"))
    source = args.source if is_url else Path(args.source)
    stages = ORDER if is_url else ORDER[1:]
    progress = Progress(stages)
    with progress.live:
        return await run_covers(source, options, urls=urls, on_event=progress)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        options = options_from(args)
    except ValueError as exc:
        console.print(f"[red]invalid option:[/] {exc}")
        return 2
    if not args.source.startswith(("http://", "https://")) and not Path(args.source).is_file():
        console.print(f"[red]no such audio file:[/] {args.source}")
        return 2
    out = args.out or default_out(args.source)
    report = asyncio.run(run_pipeline(args, options))
    if report.failure is not None:
        files = write_outputs(report, out)
        failure = report.failure
        console.print(f"[red]failed at stage '{failure.stage}':[/] {failure.error}")
        console.print(f"what was obtained is in {files[-1]}", soft_wrap=True)
        return 1
    files = write_outputs(report, out)
    assert report.covers is not None
    console.print(f"\n[bold]prompt:[/] {report.covers.prompt}")
    console.print(f"seed {report.covers.seed}, {report.total_seconds:.1f} s in all")
    for path in files:
        console.print(f"  {path}", soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
