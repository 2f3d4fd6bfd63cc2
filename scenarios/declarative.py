"""A declarative persona: requests, checks, think time and weights as data, played by `DeclarativeUser`.

What `careerload import k6` writes for a k6 script's default function (see
scenarios/k6/), and what a scenario names with

    persona_file = "checkout.persona.toml"   # relative to the scenario file
    [personas]
    DeclarativeUser = 1

The file (TOML, like the scenarios):

    source = "checkout.js"                   # where it came from (informational)

    [[tasks]]                                # one iteration plays one task, picked by weight
    weight = 7                               # (k6's `if (Math.random() < 0.7)` branches)

    [[tasks.steps]]                          # a request
    method = "GET"
    path = "/api/v1/jobs?page=1"             # appended to --host
    name = "/api/v1/jobs"                    # the name in the statistics; default: path without query
    headers = { Accept = "application/json" }
    body = '{"title": "x"}'                  # sent as is (k6 sends strings as given)
    statuses = [200]                         # what counts as success; default 200-399, k6's
    checks = ["status is 200"]               # the k6 check names these statuses came from

    [[tasks.steps]]                          # think time: uniform between the two, seconds
    sleep = [1.0, 3.0]

The user class is in locustfiles/declarative.py; it sends each request through
the normal request path (Locust's client, catch_response, careerload's
listeners), so the raw log, the thresholds and the report see it like any persona.
Kept here, not in locustfiles/, so the scenario loader validates the file
without importing Locust.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.thresholds import ScenarioError

DECLARATIVE_PERSONA = "DeclarativeUser"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# k6's default expected statuses (http_req_failed): 200-399.
DEFAULT_STATUSES = tuple(range(200, 400))


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    name: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    statuses: tuple[int, ...] = DEFAULT_STATUSES
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sleep:
    low: float
    high: float


@dataclass(frozen=True)
class Task:
    weight: int
    steps: tuple[Request | Sleep, ...]


@dataclass(frozen=True)
class Persona:
    path: Path
    source: str
    tasks: tuple[Task, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{where}: expected an array of strings, got {value!r}")
    return tuple(value)


def _step(raw: Any, where: str) -> Request | Sleep:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a table, got {raw!r}")
    if "sleep" in raw:
        if set(raw) != {"sleep"}:
            raise ScenarioError(f"{where}: a sleep step has only the field sleep = [low, high]")
        value = raw["sleep"]
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value)
                or value[0] > value[1]):
            raise ScenarioError(f"{where}.sleep: expected [low, high] seconds with 0 <= low <= high, got {value!r}")
        return Sleep(float(value[0]), float(value[1]))
    known = {"method", "path", "name", "headers", "body", "statuses", "checks"}
    unknown = set(raw) - known
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected sleep or "
                            f"{', '.join(sorted(known))}")
    method = raw.get("method")
    if method not in METHODS:
        raise ScenarioError(f"{where}.method: expected one of {', '.join(METHODS)}, got {method!r}")
    path = raw.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ScenarioError(f"{where}.path: expected a path starting with '/', got {path!r}")
    name = raw.get("name", path.split("?", 1)[0])
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}.name: expected a non-empty string, got {name!r}")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ScenarioError(f"{where}.headers: expected a table of header = \"value\", got {headers!r}")
    body = raw.get("body")
    if body is not None and not isinstance(body, str):
        raise ScenarioError(f"{where}.body: expected a string, got {body!r}")
    statuses = raw.get("statuses", list(DEFAULT_STATUSES))
    if (not isinstance(statuses, list) or not statuses
            or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses)):
        raise ScenarioError(f"{where}.statuses: expected a non-empty array of HTTP statuses, got {statuses!r}")
    checks = _strings(raw.get("checks", []), f"{where}.checks")
    return Request(method, path, name, tuple(headers.items()), body, tuple(statuses), checks)


def parse_persona(raw: dict[str, Any], path: Path) -> Persona:
    where = str(path)
    unknown = set(raw) - {"source", "tasks"}
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected source, tasks")
    tasks_raw = raw.get("tasks")
    if not isinstance(tasks_raw, list) or not tasks_raw:
        raise ScenarioError(f"{where}: tasks: required, expected one or more [[tasks]] tables")
    tasks = []
    for i, task in enumerate(tasks_raw):
        here = f"{where}: tasks[{i}]"
        if not isinstance(task, dict) or set(task) - {"weight", "steps"}:
            raise ScenarioError(f"{here}: expected a table with weight and steps")
        weight = task.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ScenarioError(f"{here}.weight: expected a whole number >= 1, got {weight!r}")
        steps = task.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ScenarioError(f"{here}.steps: required, expected one or more [[tasks.steps]] tables")
        tasks.append(Task(weight, tuple(_step(step, f"{here}.steps[{j}]") for j, step in enumerate(steps))))
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise ScenarioError(f"{where}: source: expected a string, got {source!r}")
    return Persona(path, source, tuple(tasks))


def read_persona(path: Path) -> Persona:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such persona file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return parse_persona(raw, path)


def load_persona_file(value: Any, scenario_path: Path, needed: bool) -> Path | None:
    """A scenario's `persona_file`, resolved against the scenario's directory and validated; None when unused."""
    where = f"{scenario_path}: persona_file"
    if value is None:
        if needed:
            raise ScenarioError(f"{where}: required when {DECLARATIVE_PERSONA} runs: the declarative persona's file")
        return None
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: expected a path to a persona file, got {value!r}")
    if not needed:
        raise ScenarioError(f"{where}: only used by {DECLARATIVE_PERSONA}, which is not among the personas")
    path = Path(value)
    if not path.is_absolute():
        path = Path(scenario_path).resolve().parent / path
    read_persona(path)
    return path
