"""What a k6 script does that careerload's scenario and declarative persona cannot say, with line numbers.

Nothing is dropped silently: every construct listed here (and every statement
the request walker cannot translate, scenarios.k6.requests) becomes a `Note`,
printed on stderr by `careerload import k6` and written as a comment into the
generated files. The scan here finds the constructs that live anywhere in a
script: lifecycle functions, file access, custom metrics, uploads, modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from scenarios.k6.syntax import arguments, callee, line_of, text

# Modules whose imports the translation understands (what it reads from them is translated or noted).
KNOWN_MODULES = ("k6", "k6/http", "k6/metrics", "https://jslib.k6.io/k6-utils/")
LIFECYCLE = {
    "setup": "setup() runs once before the load; careerload has no per-run setup step, so its requests "
             "and the data it returns are not played",
    "teardown": "teardown() runs once after the load; not played",
    "handleSummary": "handleSummary() writes k6's end-of-test files; careerload report writes its own",
}
METRIC_CLASSES = ("Rate", "Trend", "Counter", "Gauge")


@dataclass(frozen=True, order=True)
class Note:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def scan(root: Node) -> list[Note]:
    """The notes for lifecycle functions, open(), custom metrics, uploads, batches and unknown modules."""
    notes: list[Note] = []
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children))
        if node.type == "function_declaration":
            name = node.child_by_field_name("name")
            if name is not None and text(name) in LIFECYCLE:
                notes.append(Note(line_of(node), LIFECYCLE[text(name)]))
        elif node.type == "import_statement":
            source = node.child_by_field_name("source")
            module = text(source).strip("'\"") if source is not None else ""
            if not any(module == known or (known.endswith("/") and module.startswith(known))
                       for known in KNOWN_MODULES):
                notes.append(Note(line_of(node), f"import of {module!r}: its functions are not translated"))
        elif node.type == "new_expression":
            constructor = node.child_by_field_name("constructor")
            if constructor is not None and text(constructor) in METRIC_CLASSES:
                notes.append(Note(line_of(node), f"custom metric new {text(constructor)}(...): not kept "
                                                 "(careerload records requests only), nor its thresholds"))
        elif node.type == "call_expression":
            name = callee(node)
            if name == "open":
                what = text(arguments(node)[0])[:60] if arguments(node) else "a file"
                notes.append(Note(line_of(node), f"open({what}) reads a file at init; its data is not carried over"))
            elif name == "http.file":
                notes.append(Note(line_of(node), "http.file(...): file uploads (multipart bodies) are not translated"))
            elif name == "http.batch":
                notes.append(Note(line_of(node), "http.batch(...): parallel requests are not translated"))
    return notes
