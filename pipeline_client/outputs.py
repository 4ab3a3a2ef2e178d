"""Writing a run's results to a folder: the covers as PNGs, the fetched audio, report.json.

The ``covers`` command writes this layout. ``report.json`` holds every intermediate
result, with the images and the audio named by file instead of inlined.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from pipeline_client.covers import CoverReport

REPORT = "report.json"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "cover"


def image_name(model: str) -> str:
    return f"{safe_name(model)}.png"


def report_json(report: CoverReport) -> dict:
    """The report as JSON, with file names in place of the base64 images and audio."""
    data = report.model_dump(mode="json")
    if report.fetched is not None:
        data["fetched"]["audio"] = f"audio.{report.fetched.format}"
    if report.covers is not None:
        for image in data["covers"]["images"]:
            image["png"] = image_name(image["model"])
    return data


def write_outputs(report: CoverReport, out: Path) -> list[Path]:
    """Write images, fetched audio and report.json into ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if report.fetched is not None:
        audio = out / f"audio.{report.fetched.format}"
        audio.write_bytes(base64.b64decode(report.fetched.audio))
        written.append(audio)
    if report.covers is not None:
        for image in report.covers.images:
            path = out / image_name(image.model)
            path.write_bytes(base64.b64decode(image.png))
            written.append(path)
    written.append(write_json(out / REPORT, report_json(report)))
    return written


def write_json(path: Path, data: object) -> Path:
    """Write atomically: a reader never sees half a file, a crash never leaves one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(tmp, path)
    return path
