"""Our pipeline definitions in the core engine's pipeline format, where they fit.

    python -m bentos.core_engine.export covers            # a shipped pipeline, or a file
    python -m bentos.core_engine.export song-profile --engine http://engine:8080  # POST it

The engine's steps take positional inputs (``pipeline.<field>`` or
``<step>.<field>``, in the order of the service's fields), wait for their ``needs``, and
may have a condition, which the engine evaluates as Python over the step's own text and
JSON inputs. What it cannot express is refused with the reason, never approximated:

- a step's value that is not a reference to a whole field (a literal, a fallback, a field
  inside a JSON answer), or that sets an input the engine's service leaves at its default;
- an optional pipeline input (the engine's inputs are all required), a step that is
  ``optional`` or has its own timeout or retries (the engine has neither);
- a step that reads a conditional step's output (the engine would run it without it);
- an output that is not a step's output (a pipeline input, a fallback). An output read
  inside a step's JSON answer is exported as that step's whole answer, ``<step>_result``;
- a condition other than comparisons, ``&&``, ``||``, ``!``, literals, ``words()`` and
  ``size()`` over the step's own text or JSON inputs (a pipeline's file input included);
- step names the engine would confuse: ``pipeline``, two that differ by ``_`` and ``-``,
  references in one condition that contain one another.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bentos.core_engine.contract import (
    EngineTag,
    FieldDescription,
    PipelineDescription,
    PipelineStep,
)
from bentos.core_engine.fields import RESULT, Binding, Unsupported, bindings, describe, slug
from marketplace.conditions import ConditionError, compiled, member_chain, to_cel
from marketplace.contracts.catalogue import Catalogue, load_catalogue
from marketplace.contracts.pipeline import (
    INPUTS,
    PipelineDefinition,
    Reference,
    Step,
    is_fallback,
    parse_reference,
)

PIPELINE = "pipeline"  # the engine's name for a pipeline's own inputs
OUTPUTS = "outputs"
DEFAULT_RETRIES = Step.model_fields["retries"].default
COMPARISONS = {
    "relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
    "relation_eq": "==",
}  # fmt: skip


def engine_id(step_id: str) -> str:
    """Our step ids (``a_b``) as the engine's identifiers (``a-b``)."""
    return step_id.replace("_", "-")


class _Exporter:
    def __init__(self, definition: PipelineDefinition, catalogue: Catalogue, prefix: str):
        self.d = definition
        offered, self.left_out = bindings(catalogue, None, [], prefix)
        self.prefix = prefix
        self.bindings: dict[str, Binding] = {}
        for step_id, step in definition.steps.items():
            service, _, endpoint = step.call.partition("/")
            binding = offered.get(slug(service, endpoint, prefix))
            if binding is None:
                why = self.left_out.get(step.call, "it is not in the catalogue")
                raise Unsupported(f"step '{step_id}' calls {step.call}, which the engine "
                                  f"cannot take: {why}")  # fmt: skip
            self.bindings[step_id] = binding
        ids = [engine_id(s) for s in definition.steps]
        if PIPELINE in ids or len(set(ids)) < len(ids):
            raise Unsupported(f"the steps' engine identifiers ({', '.join(ids)}) repeat or "
                              f"include '{PIPELINE}', the engine's name for the pipeline's "
                              "own inputs")  # fmt: skip
        self.inputs: dict[str, set[str]] = {}  # pipeline input -> the types that read it

    def reference(self, ref: Reference, step_id: str, what: str) -> tuple[str, tuple[str, ...]]:
        """The engine's reference for ours, and the types of what it names."""
        if ref.root == INPUTS:
            name = ref.path[0]
            declared = self.d.inputs.get(name)
            if declared is None:
                raise Unsupported(f"step '{step_id}': {what} reads $inputs.{name}, which "
                                  "the pipeline does not declare")  # fmt: skip
            if not declared.required or declared.default is not None:
                raise Unsupported(f"step '{step_id}': {what} reads $inputs.{name}, an optional "
                                  "input; the engine's inputs are all required")  # fmt: skip
            return f"{PIPELINE}.{name}", ()
        if ref.root not in self.bindings:
            raise Unsupported(f"step '{step_id}': {what} reads {ref}: there is no step "
                              f"'{ref.root}'")  # fmt: skip
        producer = self.bindings[ref.root]
        field = producer.output(ref.path[0]) if len(ref.path) == 1 else None
        if field is None:
            raise Unsupported(
                f"step '{step_id}': {what} reads {ref}, which is not one of {ref.root}'s "
                f"output fields ({', '.join(f.name for f in producer.outputs)}): the engine "
                "passes whole files"
            )
        if self.conditional(ref.root) and step_id != OUTPUTS:  # an output may be absent
            raise Unsupported(f"step '{step_id}': {what} reads {ref}, the output of a step "
                              "that may be skipped; the engine would run it without")  # fmt: skip
        return f"{engine_id(ref.root)}.{field.name}", tuple(field.types)

    def conditional(self, step_id: str) -> bool:
        return self.d.steps[step_id].when is not None

    def step(self, step_id: str, step: Step) -> PipelineStep:
        binding = self.bindings[step_id]
        if step.optional:
            raise Unsupported(f"step '{step_id}' is optional: in the engine a failed step "
                              "fails the pipeline")  # fmt: skip
        if step.timeout is not None or step.retries != DEFAULT_RETRIES:
            raise Unsupported(f"step '{step_id}' sets its own timeout or retries: the engine "
                              "has neither (the bridge applies the service's)")  # fmt: skip
        for name in step.with_:
            if name in binding.defaults:
                raise Unsupported(f"step '{step_id}' sets '{name}', which the engine's "
                                  f"{binding.slug} leaves at the service's default")  # fmt: skip
        inputs: list[str] = []
        for field in binding.inputs:
            value = step.with_.get(field.name)
            ref = None if is_fallback(value) else parse_reference(value)
            if ref is None:
                raise Unsupported(f"step '{step_id}': '{field.name}' is "
                                  f"{'a fallback' if is_fallback(value) else 'a literal'}; "
                                  "the engine's inputs are references")  # fmt: skip
            text, types = self.reference(ref, step_id, f"'{field.name}'")
            if ref.root == INPUTS:
                wanted = self.inputs.setdefault(ref.path[0], set(field.types))
                wanted &= set(field.types)
                if not wanted:
                    raise Unsupported(f"$inputs.{ref.path[0]} feeds fields of different "
                                      "types")  # fmt: skip
            elif not set(types) <= set(field.types):
                raise Unsupported(f"step '{step_id}': '{field.name}' takes "
                                  f"{', '.join(field.types)}, not {', '.join(types)}")  # fmt: skip
            inputs.append(text)
        condition = None
        if step.when is not None:
            clash = [(a, b) for a in inputs for b in inputs if a != b and a in b]
            if clash:
                raise Unsupported(f"step '{step_id}': the engine would rewrite {clash[0][0]} "
                                  f"inside {clash[0][1]} in its condition")  # fmt: skip
            condition = _Condition(self, step_id, inputs).translate(step.when)
        needs = {r.root for v in step.with_.values() if (r := parse_reference(v))} | set(step.needs)
        needs.discard(INPUTS)
        return PipelineStep(
            identifier=engine_id(step_id),
            needs=sorted(engine_id(n) for n in needs),
            condition=condition,
            inputs=inputs,
            service_slug=binding.slug,
        )

    def outputs(self) -> list[FieldDescription]:
        """Each output that is a step's field; those inside a step's JSON answer become
        that step's whole answer (``<step>.result``), once per step. The engine lists a
        pipeline's outputs by position and drops those a skipped step did not make, so
        the outputs of a step that may be skipped come last, and from one step only."""
        fields: dict[str, FieldDescription] = {}
        late: dict[str, FieldDescription] = {}
        for name, value in self.d.outputs.items():
            ref = None if is_fallback(value) else parse_reference(value)
            if ref is None or ref.root == INPUTS:
                raise Unsupported(f"output '{name}' is not a step's field: the engine's "
                                  "outputs are its steps' files")  # fmt: skip
            if ref.root not in self.bindings:
                raise Unsupported(f"output '{name}' reads {ref}: there is no step '{ref.root}'")
            if self.bindings[ref.root].output(ref.path[0]) is None or len(ref.path) > 1:
                name, ref = f"{ref.root}_{RESULT}", Reference(ref.root, (RESULT,))
            text, types = self.reference(ref, OUTPUTS, f"output '{name}'")
            into = late if self.conditional(ref.root) else fields
            into.setdefault(name, FieldDescription(
                name=name, type=list(types), format_hint={"pipeline_source": text}
            ))  # fmt: skip
        skippable = {f.format_hint["pipeline_source"].partition(".")[0] for f in late.values()}
        if len(skippable) > 1:
            names = ", ".join(sorted(skippable))
            raise Unsupported(f"outputs come from several steps that may be skipped "
                              f"({names}): the engine would shift them")  # fmt: skip
        return [*fields.values(), *late.values()]

    def export(self, catalogue: Catalogue) -> PipelineDescription:
        steps = [self.step(step_id, step) for step_id, step in self.d.steps.items()]
        data_out = self.outputs()
        data_in = [FieldDescription(name=name, type=sorted(self.inputs[name]))
                   for name in self.d.inputs if name in self.inputs]  # fmt: skip
        tags: dict[str, EngineTag] = {}
        for binding in self.bindings.values():
            entry = catalogue.service(binding.service)
            for tag in describe(binding, entry, "http://unused").tags:  # type: ignore[arg-type]
                tags.setdefault(tag.acronym, tag)
        summary = self.d.description.split(". ")[0].strip() or self.d.pipeline
        return PipelineDescription(
            name=self.d.pipeline.replace("-", " ").title(),
            slug=self.prefix + self.d.pipeline,
            summary=summary,
            description=f"AI Marketplace pipeline {self.d.identity}. {self.d.description}".strip(),
            data_in_fields=data_in,
            data_out_fields=data_out,
            tags=list(tags.values()),
            steps=steps,
        )


class _Condition:
    """A CEL condition as the engine's Python, over the step's own inputs only."""

    def __init__(self, exporter: _Exporter, step_id: str, inputs: list[str]) -> None:
        self.x, self.step_id, self.inputs = exporter, step_id, inputs

    def refuse(self, why: str) -> Unsupported:
        return Unsupported(f"step '{self.step_id}': its condition {why}")

    def translate(self, source: str) -> str:
        try:
            tree = compiled(to_cel(source))
        except Exception as exc:  # celpy's parse errors
            raise ConditionError(f"'{source}' does not parse as CEL") from exc
        python = self.py(tree)
        if not _boolean(tree):  # CEL refuses a non-boolean condition; Python would not
            raise self.refuse("is not a comparison or a logical expression")
        return python

    def py(self, node: Any) -> str:  # one case per kind of node
        from lark import Token

        kids = node.children
        kind = node.data
        if kind in ("expr", "multiplication", "addition", "member") and len(kids) == 1:
            return self.py(kids[0])
        if kind in ("expr", "multiplication", "addition"):
            raise self.refuse("uses arithmetic or ?:, which are not exported")
        if kind in ("conditionalor", "conditionaland", "relation") and len(kids) == 1:
            return self.py(kids[0])
        if kind == "conditionalor":
            return f"{self.py(kids[0])} or {self.py(kids[1])}"
        if kind == "conditionaland":
            return f"{self.py(kids[0])} and {self.py(kids[1])}"
        if kind == "relation":
            op, right = kids[0], self.py(kids[1])
            left = self.py(op.children[0])
            if _boolean(op.children[0]):  # Python would chain `a < b == c`
                left = f"({left})"
            if op.data == "relation_ne":  # the engine rewrites every '!' to 'not '
                return f"(not ({left} == {right}))"
            if op.data not in COMPARISONS:
                raise self.refuse("uses 'in', which is not exported")
            return f"{left} {COMPARISONS[op.data]} {right}"
        if kind == "unary":
            if len(kids) == 1:
                return self.py(kids[0])
            if kids[0].data == "unary_not":
                return f"(not {self.py(kids[1])})"
            raise self.refuse("negates a value, which is not exported")
        if kind == "member_dot":
            return self.field(node)
        if kind == "primary":
            first = kids[0]
            if isinstance(first, Token):
                raise self.refuse(f"names '{first}'")
            if first.data == "literal":
                return self.literal(str(first.children[0]))
            if first.data == "paren_expr":
                return f"({self.py(first.children[0])})"
            if first.data == "ident_arg":
                return self.function(first)
        raise self.refuse(f"uses '{kind}', which is not exported")

    def field(self, node: Any) -> str:
        chain = member_chain(node)
        if chain is None:
            raise self.refuse("reads something other than a field")
        ref = Reference(chain[0], tuple(chain[1:]))
        text, types = self.x.reference(ref, self.step_id, "its condition")
        if text not in self.inputs:
            raise self.refuse(f"reads {ref}, which is not one of the step's inputs (the "
                              "engine loads only those)")  # fmt: skip
        if ref.root == INPUTS:
            types = tuple(self.x.inputs.get(ref.path[0], ()))
        if not set(types) <= {"text/plain", "application/json"}:
            raise self.refuse(f"reads {ref}, a file the engine does not load")
        return text

    def literal(self, text: str) -> str:
        if text in ("true", "false", "null"):
            return {"true": "True", "false": "False", "null": "None"}[text]
        rewritten = ("!", "&&", "||", "\\", *self.inputs)  # rewritten by the engine, or escapes
        if text[0] in "\"'" and any(part in text for part in rewritten):
            raise self.refuse(f"has the string {text}, which the engine would rewrite")
        if text[0] in "\"'" or text.lstrip("-").replace(".", "", 1).isdigit():
            return text
        raise self.refuse(f"has the literal {text}, which is not exported")

    def function(self, node: Any) -> str:
        name = str(node.children[0])
        args = node.children[1].children if len(node.children) > 1 else []
        if name not in ("words", "size") or len(args) != 1:
            raise self.refuse(f"calls {name}(), which the engine has no equivalent of")
        value = self.py(args[0])
        return f"len(str({value}).split())" if name == "words" else f"len({value})"


def _boolean(node: Any) -> bool:
    """Whether a CEL node is a comparison, a logical operation or a boolean literal."""
    from lark import Tree

    while len(node.children) == 1 and isinstance(node.children[0], Tree):
        node = node.children[0]  # wrappers: expr, relation, paren_expr, primary ...
    if node.data in ("conditionalor", "conditionaland", "relation"):
        return True
    if node.data == "unary":
        return node.children[0].data == "unary_not"
    return node.data == "literal" and str(node.children[0]) in ("true", "false")


def export(
    definition: PipelineDefinition, catalogue: Catalogue | None = None, prefix: str = ""
) -> PipelineDescription:
    """The engine's description of ``definition``; raises Unsupported with the reason."""
    catalogue = catalogue or load_catalogue()
    return _Exporter(definition, catalogue, prefix).export(catalogue)


def main(argv: list[str] | None = None) -> int:
    import json

    import httpx

    from marketplace.runner import InvalidPipeline, load_pipeline

    parser = argparse.ArgumentParser(prog="python -m bentos.core_engine.export",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("pipeline", help="a shipped pipeline's name or a YAML file")
    parser.add_argument("--engine", help="POST it to this core engine (/pipelines)")
    parser.add_argument("--prefix", default="", help="the bridge's CORE_ENGINE_SLUG_PREFIX")
    args = parser.parse_args(argv)
    try:
        description = export(load_pipeline(args.pipeline), prefix=args.prefix)
    except (InvalidPipeline, Unsupported, ConditionError) as exc:
        print(f"cannot export {args.pipeline}: {exc}", file=sys.stderr)
        return 1
    body = description.model_dump(mode="json", exclude_none=True)
    if not args.engine:
        print(json.dumps(body, indent=2))
        return 0
    try:
        answer = httpx.post(f"{args.engine.rstrip('/')}/pipelines", json=body, timeout=30)
    except httpx.HTTPError as exc:
        print(f"the engine at {args.engine} did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"{answer.status_code} {answer.text[:2000]}")
    return 0 if answer.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
