"""Checking a pipeline definition against the catalogue before anything runs.

Every problem is reported at once, each naming where it is (``steps.analyze.with.text``)
and what is wrong; warnings (an unused input) do not make a definition invalid.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from marketplace.conditions import ConditionError, parse_condition
from marketplace.contracts.catalogue import (
    Catalogue,
    Port,
    load_catalogue,
    media_fits,
    port_type,
)
from marketplace.contracts.pipeline import (
    INPUTS,
    STEP_ID,
    PipelineDefinition,
    Reference,
    is_fallback,
    literal,
    parse_reference,
)


class Problem(BaseModel):
    level: Literal["error", "warning"]
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


class Validation(BaseModel):
    """The outcome: the definition (None if it did not even parse) and every problem."""

    model_config = {"arbitrary_types_allowed": True}

    definition: PipelineDefinition | None = None
    problems: list[Problem] = []

    @property
    def valid(self) -> bool:
        return self.definition is not None and not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


@dataclass(frozen=True)
class Typed:
    """What a reference gives: a JSON Schema, its port type, media type, and whether it
    may be absent (an optional input, a step that may be skipped or fail)."""

    schema: dict[str, Any]
    type: str
    media: str | None = None
    maybe_absent: bool = False


@dataclass
class _Checker:
    definition: PipelineDefinition
    catalogue: Catalogue
    problems: list[Problem] = field(default_factory=list)
    used_inputs: set[str] = field(default_factory=set)

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem(level="error", where=where, message=message))

    def warning(self, where: str, message: str) -> None:
        self.problems.append(Problem(level="warning", where=where, message=message))

    # -- references ---------------------------------------------------------------------

    def resolve(self, ref: Reference, where: str, before: str | None) -> Typed | None:
        """The type ``ref`` gives, or None after reporting why it is wrong. ``before``:
        the step that uses it (a step may not read itself)."""
        d = self.definition
        if ref.root == INPUTS:
            name = ref.path[0]
            declared = d.inputs.get(name)
            if declared is None:
                known = ", ".join(d.inputs) or "none"
                self.error(where, f"{ref}: no input '{name}' (inputs: {known})")
                return None
            self.used_inputs.add(name)
            if len(ref.path) > 1:
                self.error(where, f"{ref}: an input has no fields")
                return None
            kind = declared.port_type
            schema = (
                {"type": "string"} if kind == "file" else ({} if kind == "any" else {"type": kind})
            )
            absent = not declared.required and declared.default is None
            return Typed(schema, kind, declared.media, absent)
        step = d.steps.get(ref.root)
        if step is None:
            known = ", ".join(d.steps)
            self.error(where, f"{ref}: no step '{ref.root}' (steps: {known})")
            return None
        if ref.root == before:
            self.error(where, f"{ref}: a step cannot use its own result")
            return None
        endpoint = self.catalogue.endpoint(step.call)
        if endpoint is None:
            return None  # reported at the step
        schema: dict[str, Any] = endpoint.output_schema
        walked = [ref.root]
        for name in ref.path:
            properties = schema.get("properties")
            if properties is None:
                core, _, _ = _core(schema)
                properties = core.get("properties")
            if not properties or name not in properties:
                known = ", ".join(properties or {}) or "none"
                self.error(
                    where,
                    f"{ref}: '{'.'.join(walked)}' ({step.call}) has no field '{name}' "
                    f"(fields: {known})",
                )
                return None
            schema = properties[name]
            walked.append(name)
        kind, media, nullable = port_type(schema)
        may_skip = step.when is not None or step.optional
        return Typed(schema, kind, media, nullable or may_skip)

    def value_type(
        self, value: Any, where: str, before: str | None
    ) -> Typed | Literal[False] | None:
        """The type of a ``with``/``outputs`` value: a Typed for references and
        fallbacks, False for a literal, None when it is wrong (reported)."""
        if is_fallback(value):
            first = self.reference(value["from"], f"{where}.from", before)
            if first is None:
                if not isinstance(parse_reference_quiet(value["from"]), Reference):
                    self.error(f"{where}.from", "a fallback's 'from' must be a reference")
                return None
            default = value["default"]
            other = self.reference(default, f"{where}.default", before)
            if other is None and isinstance(parse_reference_quiet(default), Reference):
                return None
            if other is not None:
                if not _fits(other, first.type, first.media, first.schema):
                    self.error(
                        f"{where}.default",
                        f"{default} is {_describe(other)}, 'from' is {_describe(first)}",
                    )
                return Typed(first.schema, first.type, first.media, other.maybe_absent)
            return Typed(first.schema, first.type, first.media, default is None)
        try:
            ref = parse_reference(value)
        except ValueError as exc:
            self.error(where, str(exc))
            return None
        if ref is None:
            return False
        return self.resolve(ref, where, before)

    def reference(self, value: Any, where: str, before: str | None) -> Typed | None:
        try:
            ref = parse_reference(value)
        except ValueError as exc:
            self.error(where, str(exc))
            return None
        return None if ref is None else self.resolve(ref, where, before)

    # -- the checks ---------------------------------------------------------------------

    def check(self) -> None:
        d = self.definition
        import re

        for step_id in d.steps:
            if step_id == INPUTS or not re.match(STEP_ID, step_id):
                self.error(
                    f"steps.{step_id}", f"a step id must match {STEP_ID} and not be '{INPUTS}'"
                )
        for name, declared in d.inputs.items():
            if declared.media and declared.type not in (None, "file"):
                self.error(
                    f"inputs.{name}",
                    f"media '{declared.media}' is for a file, not a {declared.type}",
                )
        for step_id, _step in d.steps.items():
            self.check_step(step_id)
        for name, value in d.outputs.items():
            self.value_type(value, f"outputs.{name}", None)
        self.check_cycles()
        for name in d.inputs:
            if name not in self.used_inputs:
                self.warning(f"inputs.{name}", "declared but used by no step or output")

    def check_step(self, step_id: str) -> None:
        step = self.definition.steps[step_id]
        where = f"steps.{step_id}"
        service_name, _, endpoint_name = step.call.partition("/")
        service = self.catalogue.service(service_name)
        if service is None:
            known = ", ".join(s.name for s in self.catalogue.services)
            self.error(f"{where}.call", f"unknown service '{service_name}' (services: {known})")
        endpoint = self.catalogue.endpoint(step.call)
        if service is not None and endpoint is None:
            known = ", ".join(e.name for e in service.endpoints)
            self.error(
                f"{where}.call",
                f"service '{service_name}' has no endpoint '{endpoint_name}' (endpoints: {known})",
            )
        for need in step.needs:
            if need not in self.definition.steps:
                self.error(f"{where}.needs", f"no step '{need}'")
            elif need == step_id:
                self.error(f"{where}.needs", "a step cannot wait for itself")
        if step.when is not None:
            self.check_condition(step_id, step.when)
        if endpoint is None:
            for name, value in step.with_.items():
                self.value_type(value, f"{where}.with.{name}", step_id)
            return
        for name, value in step.with_.items():
            at = f"{where}.with.{name}"
            port = endpoint.input(name)
            if port is None:
                known = ", ".join(p.name for p in endpoint.inputs)
                self.error(at, f"{step.call} has no input '{name}' (inputs: {known})")
                continue
            given = self.value_type(value, at, step_id)
            if given is False:
                self.check_literal(literal(value), port.json_schema, port.type, at, step.call)
            elif given is not None:
                if not _fits(given, port.type, port.media, port.json_schema):
                    self.error(
                        at,
                        f"{_value_text(value)} is {_describe(given)}, which cannot feed "
                        f"{step.call} input '{name}' ({_describe(port)})",
                    )
                elif given.maybe_absent and port.required and not self.guarded(step_id, value):
                    self.warning(
                        at,
                        f"{_value_text(value)} may be absent (an optional input, "
                        f"or a step that may be skipped or fail), and {step.call} "
                        f"requires '{name}': the step fails when it is",
                    )
        for port in endpoint.inputs:
            if port.required and port.name not in step.with_:
                self.error(f"{where}.with", f"{step.call} needs its input '{port.name}'")

    def guarded(self, step_id: str, value: Any) -> bool:
        """The step's condition tests ``has(value)``, so it runs only with the value."""
        step = self.definition.steps[step_id]
        if step.when is None or is_fallback(value):
            return False
        try:
            return parse_reference_quiet(value) in parse_condition(step.when).guarded
        except ConditionError:
            return False

    def check_literal(
        self, value: Any, schema: dict[str, Any], kind: str, at: str, call: str
    ) -> None:
        if kind == "file":
            self.error(at, f"{call} takes a file here: give a reference to a file input or output")
            return
        import jsonschema

        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as exc:
            self.error(at, f"{value!r} does not fit {call}: {exc.message}")

    def check_condition(self, step_id: str, source: str) -> None:
        where = f"steps.{step_id}.when"
        try:
            condition = parse_condition(source)
        except ConditionError as exc:
            self.error(where, str(exc))
            return
        for ref in condition.references:
            self.resolve(ref, where, step_id)

    def check_cycles(self) -> None:
        graph = {s: sorted(dependencies(self.definition, s)) for s in self.definition.steps}
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for nxt in graph.get(node, []):
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    self.error(f"steps.{nxt}", "a cycle: " + " -> ".join(cycle))
                elif nxt not in state:
                    visit(nxt, [*path, nxt])
            state[node] = 2

        for node in graph:
            if node not in state:
                visit(node, [node])


def parse_reference_quiet(value: Any) -> Reference | None:
    try:
        return parse_reference(value)
    except ValueError:
        return None


def references_in(value: Any) -> list[Reference]:
    """The references a ``with``/``outputs`` value holds (fallbacks included)."""
    if is_fallback(value):
        return references_in(value["from"]) + references_in(value["default"])
    ref = parse_reference_quiet(value)
    return [ref] if ref else []


def dependencies(definition: PipelineDefinition, step_id: str) -> set[str]:
    """The steps ``step_id`` waits for: those it references (inputs, condition), and
    its ``needs``."""
    step = definition.steps[step_id]
    refs = [r for v in step.with_.values() for r in references_in(v)]
    if step.when is not None:
        with contextlib.suppress(ConditionError):
            refs += parse_condition(step.when).references
    found = {r.root for r in refs if r.root != INPUTS and r.root != step_id}
    return found | set(step.needs)


def _core(schema: dict[str, Any]) -> tuple[dict[str, Any], str, bool]:
    options = schema.get("anyOf") or []
    rest = [o for o in options if o.get("type") != "null"]
    if len(rest) == 1:
        return rest[0], rest[0].get("type", "any"), True
    return schema, schema.get("type", "any"), False


def _fits(given: Typed, kind: str, media: str | None, schema: dict[str, Any]) -> bool:
    if "any" in (given.type, kind):
        return True
    if kind == "file" or given.type == "file":
        return kind == given.type and media_fits(given.media, media)
    if kind == "number" and given.type == "integer":
        return True
    if kind == "array" and given.type == "array":
        wanted = _core(schema)[0].get("items", {})
        got = _core(given.schema)[0].get("items", {})
        if wanted and got:
            w_kind, w_media, _ = port_type(wanted)
            return _fits(Typed(got, port_type(got)[0], port_type(got)[1]), w_kind, w_media, wanted)
    return kind == given.type


def _describe(typed: Typed | Port) -> str:
    if typed.type == "file":
        return f"a file ({typed.media})"
    return f"{'an' if typed.type[0] in 'aeiou' else 'a'} {typed.type}"


def _value_text(value: Any) -> str:
    return f"{value['from']} (with a default)" if is_fallback(value) else str(value)


def input_problems(
    definition: PipelineDefinition, values: dict[str, Any], catalogue: Catalogue | None = None
) -> list[str]:
    """The given input values that do not fit a service input they feed directly
    (``$inputs.<name>``, or a fallback's default): caught before a run starts, each named
    with what it feeds and why."""
    import jsonschema

    catalogue = catalogue or load_catalogue()
    problems: list[str] = []
    for step_id, step in definition.steps.items():
        endpoint = catalogue.endpoint(step.call)
        if endpoint is None:
            continue
        for port_name, bound in step.with_.items():
            port = endpoint.input(port_name)
            candidates = [bound["from"], bound["default"]] if is_fallback(bound) else [bound]
            for candidate in candidates:
                ref = parse_reference_quiet(candidate)
                if port is None or ref is None or ref.root != INPUTS or len(ref.path) != 1:
                    continue
                name = ref.path[0]
                if name not in values or port.type == "file":
                    continue
                try:
                    jsonschema.validate(values[name], port.json_schema)
                except jsonschema.ValidationError as exc:
                    problems.append(
                        f"input '{name}' ({values[name]!r}) does not fit {step.call} "
                        f"'{port_name}' (step '{step_id}'): {exc.message}"
                    )
    return list(dict.fromkeys(problems))


def validate_definition(data: Any, catalogue: Catalogue | None = None) -> Validation:
    """Validate a parsed YAML/JSON document: the model's rules, then the catalogue's."""
    try:
        definition = PipelineDefinition.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(level="error", where=".".join(map(str, e["loc"])) or "(file)", message=e["msg"])
            for e in exc.errors(include_url=False)
        ]
        return Validation(problems=problems)
    checker = _Checker(definition, catalogue or load_catalogue())
    checker.check()
    return Validation(definition=definition, problems=checker.problems)


def validate_text(text: str, catalogue: Catalogue | None = None) -> Validation:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return Validation(
            problems=[Problem(level="error", where="(file)", message=f"not YAML: {exc}")]
        )
    if not isinstance(data, dict):
        return Validation(
            problems=[Problem(level="error", where="(file)", message="a pipeline is a mapping")]
        )
    return validate_definition(data, catalogue)


def validate_file(path: Path, catalogue: Catalogue | None = None) -> Validation:
    return validate_text(path.read_text(), catalogue)
