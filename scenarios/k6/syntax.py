"""Parsing a k6 script with tree-sitter-javascript, and evaluating the literals a translation needs.

A real JavaScript parser, not regular expressions: a URL built with a template
literal, an options object spread over lines, a comment in the middle of a call
are all ordinary syntax trees. What the translation needs from a script is
data (the options object, URLs, bodies, headers, sleep durations, branch
probabilities), so `Evaluator` evaluates the constant part of JavaScript:
literals, objects, arrays, template literals and `+` over known constants,
`JSON.stringify`, and `__ENV.X || default` (the default: the import has no
environment). Anything else raises `NotConstant` with a sentence, which the
caller turns into a note with the line number.

`interval` evaluates a think time: `Math.random()` is [0, 1], so
`1 + Math.random() * 2` is [1, 3]; k6's `randomIntBetween(a, b)` is [a, b].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tree_sitter import Language, Node, Parser
import tree_sitter_javascript


class NotConstant(Exception):
    """An expression the translation cannot evaluate; the message says what it is."""


@dataclass(frozen=True)
class ParseError(Exception):
    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: JavaScript syntax error near {self.text!r}"


def parse(source: bytes) -> Node:
    """The script's syntax tree; `ParseError` at the first error node."""
    tree = Parser(Language(tree_sitter_javascript.language())).parse(source)
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root) or root
        raise ParseError(line_of(bad), text(bad)[:40])
    return root


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child)
            if found is not None:
                return found
    return None


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def unwrap(node: Node) -> Node:
    while node.type == "parenthesized_expression":
        node = node.named_children[0]
    return node


def callee(node: Node) -> str:
    """`http.get` for a call of http.get(...), `sleep` for sleep(...); '' when not a plain call."""
    if node.type != "call_expression":
        return ""
    function = node.child_by_field_name("function")
    return text(function) if function is not None and function.type in ("identifier", "member_expression") else ""


def arguments(node: Node) -> list[Node]:
    args = node.child_by_field_name("arguments")
    return [child for child in args.named_children if child.type != "comment"] if args is not None else []


def _string_value(node: Node) -> str:
    out = []
    for child in node.named_children:
        if child.type == "string_fragment":
            out.append(text(child))
        elif child.type == "escape_sequence":
            out.append(_escape(text(child)))
    return "".join(out)


def _escape(sequence: str) -> str:
    """A JavaScript escape sequence (\\n, \\u00e9, \\') -> its character; JSON's escapes are the common ones."""
    try:
        return json.loads(f'"{sequence}"')
    except ValueError:
        return sequence[1:]


def is_math_random(node: Node) -> bool:
    node = unwrap(node)
    return callee(node) == "Math.random" and not arguments(node)


class Evaluator:
    """Constant JavaScript values over the script's top-level `const`/`let`/`var` bindings."""

    def __init__(self) -> None:
        self.bindings: dict[str, Node] = {}

    def bind(self, declaration: Node) -> None:
        """Remember the declarators of a lexical/variable declaration (evaluated lazily, when used)."""
        for declarator in declaration.named_children:
            if declarator.type == "variable_declarator":
                name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if name is not None and value is not None and name.type == "identifier":
                    self.bindings[text(name)] = value

    def value(self, node: Node, depth: int = 0) -> Any:
        if depth > 50:
            raise NotConstant(f"{text(node)[:40]!r} refers to itself")
        node = unwrap(node)
        kind = node.type
        if kind == "string":
            return _string_value(node)
        if kind == "number":
            number = float(text(node).replace("_", ""))
            return int(number) if number.is_integer() else number
        if kind in ("true", "false"):
            return kind == "true"
        if kind in ("null", "undefined"):
            return None
        if kind == "template_string":
            parts = []
            for child in node.named_children:
                if child.type == "template_substitution":
                    parts.append(_js_string(self.value(child.named_children[0], depth + 1)))
                elif child.type == "string_fragment":
                    parts.append(text(child))
                elif child.type == "escape_sequence":
                    parts.append(_escape(text(child)))
            return "".join(parts)
        if kind == "identifier":
            name = text(node)
            if name in self.bindings:
                return self.value(self.bindings[name], depth + 1)
            raise NotConstant(f"{name} is not a constant of the script")
        if kind == "array":
            return [self.value(child, depth + 1) for child in node.named_children if child.type != "comment"]
        if kind == "object":
            out: dict[str, Any] = {}
            for pair in node.named_children:
                if pair.type == "pair":
                    out[self.key(pair.child_by_field_name("key"))] = self.value(pair.child_by_field_name("value"),
                                                                                depth + 1)
                elif pair.type == "shorthand_property_identifier":
                    out[text(pair)] = self._binding(text(pair), depth)
                elif pair.type != "comment":
                    raise NotConstant(f"{text(pair)[:40]!r} in an object literal")
            return out
        if kind == "binary_expression":
            op = text(node.child_by_field_name("operator"))
            left = node.child_by_field_name("left")
            if op == "||" and _is_env(left):
                return self.value(node.child_by_field_name("right"), depth + 1)
            a, b = self.value(left, depth + 1), self.value(node.child_by_field_name("right"), depth + 1)
            if op == "+":
                return _js_string(a) + _js_string(b) if isinstance(a, str) or isinstance(b, str) else a + b
            if op in ("-", "*", "/") and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
                return a - b if op == "-" else a * b if op == "*" else a / b
            raise NotConstant(f"{text(node)[:60]!r}")
        if kind == "unary_expression" and text(node.child_by_field_name("operator")) == "-":
            operand = self.value(node.child_by_field_name("argument"), depth + 1)
            if isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand
        if kind == "call_expression" and callee(node) == "JSON.stringify" and len(arguments(node)) == 1:
            return json.dumps(self.value(arguments(node)[0], depth + 1), separators=(",", ":"))
        if kind == "member_expression" and _is_env(node):
            raise NotConstant(f"{text(node)} is read from the environment and has no default")
        raise NotConstant(f"{text(node)[:60]!r}")

    def _binding(self, name: str, depth: int) -> Any:
        if name not in self.bindings:
            raise NotConstant(f"{name} is not a constant of the script")
        return self.value(self.bindings[name], depth + 1)

    def key(self, node: Node) -> str:
        if node.type in ("property_identifier", "identifier"):
            return text(node)
        if node.type == "string":
            return _string_value(node)
        if node.type == "number":
            return text(node)
        raise NotConstant(f"computed key {text(node)[:40]!r}")

    def interval(self, node: Node, randoms: frozenset[str] = frozenset()) -> tuple[float, float]:
        """The range of a numeric expression where Math.random() (or a name bound to it) is in [0, 1]."""
        node = unwrap(node)
        if is_math_random(node) or (node.type == "identifier" and text(node) in randoms):
            return 0.0, 1.0
        if node.type == "call_expression":
            name, args = callee(node), arguments(node)
            if name == "randomIntBetween" and len(args) == 2:
                return float(self.value(args[0])), float(self.value(args[1]))
            if name in ("Math.floor", "Math.round", "Math.ceil", "Math.abs") and len(args) == 1:
                return self.interval(args[0], randoms)
        if node.type == "binary_expression":
            op = text(node.child_by_field_name("operator"))
            a = self.interval(node.child_by_field_name("left"), randoms)
            b = self.interval(node.child_by_field_name("right"), randoms)
            if op == "+":
                return a[0] + b[0], a[1] + b[1]
            if op == "-":
                return a[0] - b[1], a[1] - b[0]
            if op == "*":
                products = [x * y for x in a for y in b]
                return min(products), max(products)
            if op == "/" and b[0] > 0:
                return a[0] / b[1], a[1] / b[0]
        value = self.value(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), float(value)
        raise NotConstant(f"{text(node)[:60]!r} is not a number")


def _is_env(node: Node) -> bool:
    node = unwrap(node)
    if node.type == "member_expression":
        return text(node.child_by_field_name("object")) == "__ENV"
    if node.type == "subscript_expression":
        return text(node.child_by_field_name("object")) == "__ENV"
    return False


def _js_string(value: Any) -> str:
    """What JavaScript's string conversion makes of a constant (in a template literal or a `+`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        raise NotConstant("an object or array inside a string")
    return str(value)
