"""One k6 script -> a scenario file and a declarative persona file, with the notes of what was not translated.

The steps: parse (scenarios.k6.syntax), bind the top-level constants, read
`export const options` (scenarios.k6.options for the shape,
scenarios.k6.thresholds for the thresholds), walk the iteration function
(`export default function`, or a scenario's `exec`; scenarios.k6.requests),
scan for what has no equivalent (scenarios.k6.untranslatable), render both
files (scenarios.k6.write) and read them back with the loader, so what
`careerload import k6` writes is a scenario careerload accepts.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from scenarios.declarative import Request
from scenarios.k6 import requests as k6_requests, thresholds as k6_thresholds, write
from scenarios.k6.options import OptionsError, Shape, shape as options_shape
from scenarios.k6.syntax import Evaluator, NotConstant, line_of, parse, text
from scenarios.k6.untranslatable import Note, scan


class ScriptError(ValueError):
    """A script that makes no scenario (no options, no iteration function, no request); the message says which."""


@dataclass(frozen=True)
class Translation:
    name: str
    scenario: str  # the scenario file's text
    persona: str   # the persona file's text
    notes: list[Note]


def _exports(root: Node, evaluator: Evaluator) -> tuple[dict[str, Node], Node | None, Node | None]:
    """(exported functions by name, the default export, the options object node); top-level constants bound."""
    functions: dict[str, Node] = {}
    default: Node | None = None
    options: Node | None = None
    for node in root.named_children:
        target = node
        if node.type == "export_statement":
            declaration = node.child_by_field_name("declaration")
            value = node.child_by_field_name("value")
            if value is not None:  # export default <expression>
                default = value
                continue
            if declaration is None:
                continue
            if any(child.type == "default" for child in node.children):
                default = declaration
            target = declaration
        if target.type in ("lexical_declaration", "variable_declaration"):
            evaluator.bind(target)
            for declarator in target.named_children:
                name = declarator.child_by_field_name("name")
                if name is not None and text(name) == "options" and node.type == "export_statement":
                    options = declarator.child_by_field_name("value")
                value_node = declarator.child_by_field_name("value")
                if name is not None and value_node is not None and value_node.type in ("arrow_function",
                                                                                      "function_expression"):
                    functions[text(name)] = value_node
        elif target.type == "function_declaration":
            name = target.child_by_field_name("name")
            if name is not None:
                functions[text(name)] = target
    if default is not None and default.type == "identifier":
        default = functions.get(text(default))
    return functions, default, options


def translate(source: bytes, script: str, name: str) -> Translation:
    """Translate a script; raises syntax.ParseError (not JavaScript) or ScriptError (no scenario in it)."""
    root = parse(source)
    evaluator = Evaluator()
    functions, default, options_node = _exports(root, evaluator)
    notes = scan(root)
    options: dict = {}
    options_line = line_of(options_node) if options_node is not None else 1
    if options_node is None:
        notes.append(Note(1, "no `export const options`: one user for 30 s (k6 would run one iteration)"))
        shape = Shape(stages=[(30.0, 1.0)])
    else:
        try:
            options = evaluator.value(options_node)
        except NotConstant as exc:
            raise ScriptError(f"line {options_line}: options cannot be read at import: {exc}") from None
        if not isinstance(options, dict):
            raise ScriptError(f"line {options_line}: options is not an object")
        try:
            shape = options_shape(options, options_line)
        except OptionsError as exc:
            raise ScriptError(f"line {options_line}: {exc}") from None
    notes += shape.notes
    kept_stages = [(s, t) for s, t in shape.stages if s > 0]
    if len(kept_stages) < len(shape.stages):
        notes.append(Note(options_line, "a stage of duration 0 (an instant jump) is left out: careerload's "
                                        "next stage ramps from the previous target"))
    if not kept_stages:
        raise ScriptError(f"line {options_line}: the load shape has no stage with a duration > 0")
    shape.stages = kept_stages
    function = default if shape.exec_name == "default" else functions.get(shape.exec_name)
    if function is None:
        raise ScriptError(f"no iteration function: expected `export default function` "
                           f"{'' if shape.exec_name == 'default' else f'or function {shape.exec_name!r}'}".strip())
    walker = k6_requests.RequestWalker(evaluator)
    tasks, rare = k6_requests.tasks(walker.walk_function(function), line_of(function))
    notes += walker.notes + rare
    requests = [step for task in tasks for step in task.steps if isinstance(step, Request)]
    if not requests:
        raise ScriptError(f"line {line_of(function)}: no request of the iteration function could be translated"
                           + "".join(f"\n  {note}" for note in sorted(walker.notes)))
    thresholds, threshold_notes = k6_thresholds.translate(options.get("thresholds", {}), options_line, walker.names)
    notes += threshold_notes
    notes = sorted(set(notes))
    persona_file = f"{name}.persona.toml"
    scenario = write.scenario_text(name=name, script=script, persona_file=persona_file, shape=shape,
                                   thresholds=thresholds, hosts=walker.hosts, notes=notes)
    persona = write.persona_text(script=script, tasks=tasks, notes=notes)
    _check(name, scenario, persona)
    return Translation(name, scenario, persona, notes)


def _check(name: str, scenario: str, persona: str) -> None:
    """Read both files back with the scenario loader: a translation it would refuse is a bug here, said at once."""
    from scenarios.loader import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{name}.toml").write_text(scenario, encoding="utf-8")
        (Path(tmp) / f"{name}.persona.toml").write_text(persona, encoding="utf-8")
        load_scenario(Path(tmp) / f"{name}.toml")
