"""Generating the catalogue from the services' own code.

    python -m bentos.catalogue            # rewrite marketplace/contracts/catalogue.json
    python -m bentos.catalogue --check    # exit 1 if the file differs from the code

For each service of :data:`~marketplace.contracts.services.SERVICES`, its bentofile gives
the service class, the API version (label ``version``), the tags (label ``tags``) and the summary
(its README's title); the class gives, for each ``@bentoml.api``, the route,
the summary and the pydantic input and output models, whose fields become typed ports.
Importing a service loads no model (models load in the worker), so this runs offline.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from marketplace.contracts.catalogue import (
    CATALOGUE_FILE,
    Catalogue,
    CatalogueEntry,
    Endpoint,
    Port,
    port_type,
)
from marketplace.contracts.services import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[1]


def inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``$ref`` to ``$defs`` replaced by its definition."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [inline(v, defs) for v in schema]
    return schema


def port(name: str, schema: dict[str, Any], required: bool) -> Port:
    kind, media, nullable = port_type(schema)
    return Port(
        name=name, type=kind, media=media, required=required, nullable=nullable,
        description=schema.get("description") or next(
            (o["description"] for o in schema.get("anyOf", []) if o.get("description")), None
        ),
        schema=schema,
    )  # fmt: skip


def flat(schema: dict[str, Any]) -> dict[str, Any]:
    """A standalone schema: its ``$defs`` written out where they are used."""
    return inline(schema, schema.get("$defs", {}))


def ports(schema: dict[str, Any]) -> list[Port]:
    """The fields of an object schema (already flat) as ports."""
    required = set(schema.get("required", []))
    return [port(n, s, n in required) for n, s in schema.get("properties", {}).items()]


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ").strip()


def readme_title(meta: dict[str, Any], root: Path = ROOT) -> str:
    """The summary a bentofile's description (``file: README.md``) gives in its title."""
    description = str(meta.get("description", ""))
    if description.startswith("file:"):
        text = (root / description.removeprefix("file:").strip()).read_text()
        title = text.lstrip("# ").split("\n", 1)[0]
        return title.split(": ", 1)[-1]
    return first_line(description)


def bentofile(service: ServiceSpec, root: Path = ROOT) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((root / service.bento_dir / "bentofile.yaml").read_text())


def entry(service: ServiceSpec) -> CatalogueEntry:
    meta = bentofile(service)
    module, _, name = meta["service"].partition(":")
    svc = getattr(importlib.import_module(module), name)
    labels = meta.get("labels", {})
    endpoints = []
    for api_name, api in svc.apis.items():
        request = flat(api.input_spec.model_json_schema())
        answer = flat(api.output_spec.model_json_schema())
        endpoints.append(Endpoint(
            name=api_name, route=api.route, summary=first_line(api.func.__doc__),
            inputs=ports(request), outputs=ports(answer),
            input_schema=request, output_schema=answer,
        ))  # fmt: skip
    return CatalogueEntry(
        name=service.name,
        version=str(labels["version"]),
        summary=readme_title(meta),
        tags=str(labels["tags"]).split(),
        gpu=service.gpu,
        endpoints=endpoints,
    )


def build() -> Catalogue:
    return Catalogue(services=[entry(s) for s in SERVICES])


def render(catalogue: Catalogue) -> str:
    text = json.dumps(catalogue.model_dump(mode="json", by_alias=True), indent=1)
    return re.sub(r"\n\s+(?=[\]}])", "", text) + "\n"  # compact closing brackets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bentos.catalogue", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = CATALOGUE_FILE.exists() and CATALOGUE_FILE.read_text() == text
        print("catalogue up to date" if same else f"{CATALOGUE_FILE} is stale: regenerate it")
        return 0 if same else 1
    CATALOGUE_FILE.write_text(text)
    print(f"wrote {CATALOGUE_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
