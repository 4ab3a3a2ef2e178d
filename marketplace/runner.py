"""Running a pipeline by name or file, from Python or the command line, and its outputs.

    from marketplace import run
    report = run("lyrics-report", audio="song.mp3")
    print(report.outputs["story"])

Service URLs come from ``MARKETPLACE_<SERVICE>_URL``, else this machine's default ports
(``make stack``). Outputs are written by media type (images as PNG, audio, JSON), with
``report.json``: every step's result (files by name and size), timing and attempts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marketplace.calls import Caller, HttpCaller
from marketplace.contracts.catalogue import Catalogue, load_catalogue
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.engine import Engine, RunEvent, RunReport, StepCache

PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"
EXTENSIONS = {"image/png": "png", "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/*": "audio"}


class InvalidPipeline(ValueError):
    """The definition did not validate: ``problems`` says where and why."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source} is not a valid pipeline:\n" + "\n".join(problems))
        self.problems = problems


def load_pipeline(name_or_file: str | Path) -> PipelineDefinition:
    """A shipped pipeline by name (``pipelines/<name>.yaml``) or a file, validated."""
    from marketplace.validation import validate_file

    path = Path(name_or_file)
    if not path.is_file():
        shipped = PIPELINES_DIR / f"{name_or_file}.yaml"
        if not shipped.is_file():
            known = ", ".join(sorted(p.stem for p in PIPELINES_DIR.glob("*.yaml")))
            raise FileNotFoundError(f"no pipeline file or shipped pipeline '{name_or_file}' "
                                    f"(shipped: {known})")  # fmt: skip
        path = shipped
    result = validate_file(path)
    if not result.valid:
        raise InvalidPipeline(str(path), [str(p) for p in result.errors])
    assert result.definition is not None
    return result.definition


async def arun(
    pipeline: str | Path | PipelineDefinition,
    *,
    urls: dict[str, str] | None = None,
    caller: Caller | None = None,
    cache: Path | None = None,
    on_event: Callable[[RunEvent], None] | None = None,
    engine_options: dict[str, Any] | None = None,
    **inputs: Any,
) -> RunReport:
    """Run a pipeline; the services at ``urls`` (default: ``MARKETPLACE_<SERVICE>_URL``,
    else this machine's ports), or through ``caller`` (which the caller closes)."""
    definition = pipeline if isinstance(pipeline, PipelineDefinition) else load_pipeline(pipeline)
    own = caller is None
    if caller is None:
        from marketplace.contracts.urls import ServiceUrls

        caller = HttpCaller(urls or ServiceUrls().or_local())
    try:
        options = engine_options or {}
        engine = Engine(caller, cache=StepCache(cache) if cache else None, **options)
        return await engine.run(definition, inputs, on_event)
    finally:
        if own:
            assert isinstance(caller, HttpCaller)
            await caller.aclose()


def run(pipeline: str | Path | PipelineDefinition, **kwargs: Any) -> RunReport:
    """:func:`arun` for code that is not async."""
    return asyncio.run(arun(pipeline, **kwargs))


def write_outputs(report: RunReport, out: Path, catalogue: Catalogue | None = None) -> list[Path]:
    """The outputs into ``out``: files by media type, the rest in ``outputs.json``, and
    ``report.json``. Returns the files written."""
    catalogue = catalogue or load_catalogue()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plain: dict[str, Any] = {}
    for name, value in report.outputs.items():
        plain[name] = files_out(value, _schema_of(report, name, catalogue), out, name, written)
    (out / "outputs.json").write_text(json.dumps(plain, indent=2, ensure_ascii=False))
    data = report.model_dump(mode="json")
    for step_id, step in data["steps"].items():
        if step["result"] is not None:
            endpoint = catalogue.endpoint(step["call"])
            schema = endpoint.output_schema if endpoint else {}
            step["result"] = files_out(step["result"], schema, None, step_id, written)
    (out / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return [*written, out / "outputs.json", out / "report.json"]


def _schema_of(report: RunReport, output: str, catalogue: Catalogue) -> dict[str, Any]:
    """The JSON Schema of an output, when it is a plain reference to a step's field."""
    from marketplace.contracts.pipeline import is_fallback, parse_reference

    value = report.definition.get("outputs", {}).get(output)
    if is_fallback(value):
        value = value["from"]
    try:
        ref = parse_reference(value)
    except ValueError:
        return {}
    if ref is None or ref.root == "inputs":
        return {}
    endpoint = catalogue.endpoint(report.steps[ref.root].call)
    schema: dict[str, Any] = endpoint.output_schema if endpoint else {}
    for name in ref.path:
        schema = (schema.get("properties") or {}).get(name, {})
    return schema


def files_out(value: Any, schema: dict[str, Any], out: Path | None, name: str,
               written: list[Path]) -> Any:  # fmt: skip
    """``value`` with its base64 files written to ``out`` (or only described, without
    ``out``) and replaced by ``{"file", "bytes"}``."""
    media = schema.get("contentMediaType")
    if media and isinstance(value, str):
        content = base64.b64decode(value)
        file_name = f"{_safe(name)}.{EXTENSIONS.get(media, media.rpartition('/')[2])}"
        if out is not None:
            (out / file_name).write_bytes(content)
            written.append(out / file_name)
        return {"file": file_name, "bytes": len(content)}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [files_out(v, items, out, f"{name}-{_label(v, i)}", written)
                for i, v in enumerate(value)]  # fmt: skip
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: files_out(v, props.get(k, {}), out, f"{name}-{k}" if k != "png" else name,
                              written) for k, v in value.items()}  # fmt: skip
    return value


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("model"), str):
        return f"{index + 1}-{item['model']}"
    return str(index + 1)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:100]
