"""The generated files: a scenario (scenarios.loader's format) and a declarative persona (scenarios.declarative).

Plain text, written here rather than by a TOML library (the standard library
reads TOML but does not write it), so the files carry comments: where they came
from, what each stage is, and every note of what was not translated. The
loader reads both back before `careerload import k6` reports success.
"""

from __future__ import annotations

import json
import re
from typing import Any

from scenarios.declarative import DECLARATIVE_PERSONA, DEFAULT_STATUSES, Request, Task
from scenarios.k6.options import Shape
from scenarios.k6.untranslatable import Note

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def value(item: Any) -> str:
    """A TOML value: JSON's string escapes are TOML's basic-string escapes (non-ASCII kept as is)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return f"{item:g}" if isinstance(item, float) else str(item)
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, list):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"no TOML for {item!r}")


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _notes_block(notes: list[Note]) -> list[str]:
    if not notes:
        return []
    return ["", "# Not translated by `careerload import k6` (see the script at these lines):",
            *(f"#   {note}" for note in notes)]


def scenario_text(*, name: str, script: str, persona_file: str, shape: Shape, thresholds: dict[str, list[Any]],
                  hosts: set[str], notes: list[Note]) -> str:
    lines = [f"# {name}: imported from the k6 script {script} by `careerload import k6`.",
             f"# The script targeted {', '.join(sorted(hosts))}; careerload takes the host from --host."
             if hosts else "# careerload takes the host from --host.",
             f"name = {value(name)}",
             f"question = {value(f'Does the target hold the thresholds of {script} under its load?')}",
             f"description = {value(f'Imported from the k6 script {script}: its load shape, thresholds and requests.')}",
             f"persona_file = {value(persona_file)}", "",
             "[personas]", f"{DECLARATIVE_PERSONA} = 1", "", "[shape]", f"kind = {value(shape.kind)}"]
    if shape.kind == "arrival":
        lines += [f"vus = {shape.vus}", f"start_rate = {value(shape.start_rate)}"]
    table = "steps" if shape.kind == "steps" else "stages"
    level = "users" if shape.kind == "steps" else "target"
    for i, (seconds, target) in enumerate(shape.stages):
        unit = "iterations/s" if shape.kind == "arrival" else "users"
        lines += ["", f"[[shape.{table}]]   # k6 stage {i + 1}: {target:g} {unit}",
                  f"duration = {value(f'{seconds:g}s')}", f"{level} = {value(target)}"]
    if thresholds:
        lines += ["", "# k6's thresholds as the script wrote them (scenarios/k6_thresholds.py maps them; each is",
                  "# a critical level: a miss fails the run).", "[k6.thresholds]"]
        lines += [f"{key(selector)} = {value(entries)}" for selector, entries in thresholds.items()]
    return "\n".join(lines + _notes_block(notes)) + "\n"


def persona_text(*, script: str, tasks: tuple[Task, ...], notes: list[Note]) -> str:
    lines = [f"# {DECLARATIVE_PERSONA}'s data: the default function of the k6 script {script}",
             "# (one task per way through its Math.random() branches, weighted by their probability).",
             f"source = {value(script)}"]
    for i, task in enumerate(tasks):
        lines += ["", f"[[tasks]]   # way {i + 1}", f"weight = {task.weight}"]
        for step in task.steps:
            lines += ["", "[[tasks.steps]]"]
            if not isinstance(step, Request):
                lines.append(f"sleep = [{value(step.low)}, {value(step.high)}]")
                continue
            lines += [f"method = {value(step.method)}", f"path = {value(step.path)}", f"name = {value(step.name)}"]
            if step.headers:
                lines.append(f"headers = {value(dict(step.headers))}")
            if step.body is not None:
                lines.append(f"body = {value(step.body)}")
            if step.statuses != DEFAULT_STATUSES:
                lines.append(f"statuses = {value(list(step.statuses))}")
            if step.checks:
                lines.append(f"checks = {value(list(step.checks))}")
    return "\n".join(lines + _notes_block(notes)) + "\n"
