"""Step conditions (``when:``) in CEL, the Common Expression Language (cel-python).

A condition reads the pipeline's inputs and earlier steps' results through the same
references as ``with:`` (``$inputs.url``, ``$transcribe.text``) and CEL's own operators
and functions (``size``, ``has``, ``contains``, ``matches`` ...), plus ``words(text)``,
the number of words of a text. Nothing else: no other names, no Python, never ``eval``.

    words($transcribe.text) >= 120
    has($inputs.url) && $inputs.url != ""
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from marketplace.contracts.pipeline import INPUTS, Reference

# CEL's standard functions and macros, and ours.
FUNCTIONS = frozenset({
    "size", "has", "int", "uint", "double", "string", "bool", "bytes", "type", "dyn",
    "contains", "startsWith", "endsWith", "matches", "all", "exists", "exists_one", "map",
    "filter", "duration", "timestamp", "words",
})  # fmt: skip
# A CEL string literal (single or double quotes, escapes), or a $ reference outside one.
_TOKEN = re.compile(r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|\$(?=[a-z])""")


class ConditionError(ValueError):
    """A condition that does not parse or reaches beyond references and CEL."""


@dataclass(frozen=True)
class Condition:
    source: str
    references: tuple[Reference, ...]
    functions: frozenset[str]
    _cel: str
    guarded: tuple[Reference, ...] = ()  # tested with has(): present when it is true

    def evaluate(self, values: dict[str, Any]) -> bool:
        """The condition's value given ``inputs`` and each finished step's result (JSON);
        a skipped or failed step is absent (``has($step.field)`` is false)."""
        import celpy

        activation = {name: celpy.json_to_cel(value) for name, value in values.items()}
        program = _environment().program(compiled(self._cel), functions={"words": _words})
        try:
            result = program.evaluate(activation)
        except celpy.CELEvalError as exc:
            raise ConditionError(f"'{self.source}' could not be evaluated: {exc}") from exc
        if isinstance(result, celpy.CELEvalError):
            raise ConditionError(f"'{self.source}' could not be evaluated: {result}")
        if not isinstance(result, celpy.celtypes.BoolType | bool):
            raise ConditionError(f"'{self.source}' is {type(result).__name__}, not true/false")
        return bool(result)


def _words(text: Any) -> Any:
    import celpy

    return celpy.celtypes.IntType(len(str(text).split()))


@cache
def _environment() -> Any:
    import celpy

    return celpy.Environment()


@cache
def compiled(cel: str) -> Any:
    return _environment().compile(cel)


def to_cel(source: str) -> str:
    """The CEL text of a condition: ``$name`` outside string literals becomes ``name``."""
    return _TOKEN.sub(lambda m: m[1] or "", source)


def parse_condition(source: str) -> Condition:
    import celpy

    cel = to_cel(source)
    try:
        tree = compiled(cel)
    except celpy.CELParseError as exc:
        raise ConditionError(f"'{source}' does not parse as CEL: {str(exc).strip()}") from exc
    references: list[Reference] = []
    functions: set[str] = set()
    _walk(tree, references, functions, source)
    guarded: list[Reference] = []
    for node in tree.find_data("ident_arg"):
        if str(node.children[0]) == "has":
            _walk(node, guarded, set(), source)
    unknown = functions - FUNCTIONS
    if unknown:
        raise ConditionError(
            f"'{source}' calls {', '.join(sorted(unknown))}: only CEL's functions and "
            "words() are available"
        )
    # only a condition that is has(...) && ... guarantees its has() references
    top_and = cel.count("||") == 0 and cel.count("!") == 0
    return Condition(
        source, tuple(references), frozenset(functions), cel, tuple(guarded) if top_and else ()
    )


def _walk(node: Any, references: list[Reference], functions: set[str], source: str) -> None:
    from lark import Token, Tree

    if not isinstance(node, Tree):
        return
    if node.data == "member_dot":
        chain = member_chain(node)
        if chain is not None:
            references.append(Reference(chain[0], tuple(chain[1:])))
            return
    if node.data == "primary" and isinstance(node.children[0], Tree):
        first = node.children[0]
        if first.data == "ident":
            name = str(first.children[0])
            raise ConditionError(
                f"'{source}' names '{name}' alone: refer to a field, like "
                f"${INPUTS}.<name> or ${name}.<field>"
            )
    if node.data in ("ident_arg", "member_dot_arg"):
        name = next(c for c in node.children if isinstance(c, Token) and c.type == "IDENT")
        functions.add(str(name))
    for child in node.children:
        _walk(child, references, functions, source)


def member_chain(node: Any) -> list[str] | None:
    """``a.b.c`` as ['a', 'b', 'c'] when the member chain starts at an identifier."""
    from lark import Tree

    names: list[str] = []
    while isinstance(node, Tree):
        if node.data == "member_dot":
            names.append(str(node.children[1]))
            node = node.children[0]
        elif (node.data == "member" and len(node.children) == 1) or (
            node.data == "primary" and len(node.children) == 1
        ):
            node = node.children[0]
        elif node.data == "ident":
            names.append(str(node.children[0]))
            return names[::-1]
        else:
            return None
    return None
