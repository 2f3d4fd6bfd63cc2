"""k6 `options` -> careerload's load shape (scenarios.loader: stages, steps, arrival).

    stages: [...]                      kind stages (a linear ramp per stage, as k6)
    vus + duration                     kind steps: all users at once, held
    iterations (+ vus)                 kind steps over maxDuration (default 10m); noted: careerload
                                       does not stop after a number of iterations
    scenarios: (the first one; others noted)
      constant-vus                     steps: vus for duration
      ramping-vus                      stages (startVUs other than 0 noted: careerload ramps from 0)
      constant-arrival-rate            arrival: rate/timeUnit for duration, pool preAllocatedVUs
      ramping-arrival-rate             arrival: startRate and stages, per timeUnit
      per-vu-iterations,
      shared-iterations                steps: vus over maxDuration, noted as for iterations

An arrival-rate pool is `maxVUs` when given (k6 may grow to it), else
`preAllocatedVUs`. k6 durations may be compound ('1m30s'); they are written as seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scenarios.k6.untranslatable import Note

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DEFAULT_MAX_DURATION_S = 600.0  # k6's maxDuration default for the iteration executors
SHAPE_EXECUTORS = ("constant-vus", "ramping-vus", "constant-arrival-rate", "ramping-arrival-rate",
                   "per-vu-iterations", "shared-iterations")
HANDLED = {"stages", "vus", "duration", "iterations", "scenarios", "thresholds"}


class OptionsError(ValueError):
    """Options that make no load shape (the message names the field)."""


@dataclass
class Shape:
    kind: str = "steps"
    stages: list[tuple[float, float]] = field(default_factory=list)  # (duration s, users or iterations/s)
    vus: int = 0
    start_rate: float = 0.0
    exec_name: str = "default"
    notes: list[Note] = field(default_factory=list)


def duration_s(value: Any, where: str) -> float:
    """A k6 duration ('30s', '1m30s', '500ms', '2h') or a number of milliseconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000.0
    if isinstance(value, str):
        text = value.replace(" ", "")
        parts = _PART.findall(text)
        if parts and "".join(f"{n}{u}" for n, u in parts) == text:
            return sum(float(n) * _SECONDS[u] for n, u in parts)
    raise OptionsError(f"{where}: expected a k6 duration like '30s' or '1m30s', got {value!r}")


def _count(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < minimum:
        raise OptionsError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


def _rate(raw: dict[str, Any], key: str, where: str, per_s: float) -> float:
    value = raw.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise OptionsError(f"{where}.{key}: expected a number >= 0, got {value!r}")
    return float(value) / per_s


def _stages(raw: Any, where: str, per_s: float = 1.0) -> list[tuple[float, float]]:
    if not isinstance(raw, list) or not raw:
        raise OptionsError(f"{where}: expected a non-empty array of {{ duration, target }}")
    out = []
    for i, stage in enumerate(raw):
        if not isinstance(stage, dict) or "duration" not in stage or "target" not in stage:
            raise OptionsError(f"{where}[{i}]: expected {{ duration, target }}, got {stage!r}")
        target = stage["target"]
        if isinstance(target, bool) or not isinstance(target, (int, float)) or target < 0:
            raise OptionsError(f"{where}[{i}].target: expected a number >= 0, got {target!r}")
        out.append((duration_s(stage["duration"], f"{where}[{i}].duration"), float(target) / per_s))
    return out


def shape(options: dict[str, Any], line: int) -> Shape:
    """The load shape of a script's options (`line`: where `options` is, for the notes)."""
    result = Shape()
    for key in sorted(set(options) - HANDLED):
        result.notes.append(Note(line, f"options.{key} is not translated"))
    if "scenarios" in options:
        scenarios = options["scenarios"]
        if not isinstance(scenarios, dict) or not scenarios:
            raise OptionsError("options.scenarios: expected an object of named scenarios")
        name, scenario = next(iter(scenarios.items()))
        for other in list(scenarios)[1:]:
            result.notes.append(Note(line, f"options.scenarios.{other}: careerload plays one shape; only "
                                           f"scenario {name!r} is translated"))
        for key in ("stages", "vus", "duration", "iterations"):
            if key in options:
                result.notes.append(Note(line, f"options.{key} is ignored beside options.scenarios (as k6 does)"))
        _scenario(scenario, f"options.scenarios.{name}", result, line)
        return result
    if "stages" in options:
        result.kind, result.stages = "stages", _stages(options["stages"], "options.stages")
        return result
    vus = _count(options.get("vus", 1), "options.vus", 1)
    if "iterations" in options:
        _iterations(options, "options", vus, result, line)
        return result
    if "duration" not in options:
        raise OptionsError("options: no stages, duration, iterations or scenarios: k6 would run one iteration")
    result.stages = [(duration_s(options["duration"], "options.duration"), float(vus))]
    return result


def _iterations(raw: dict[str, Any], where: str, vus: int, result: Shape, line: int) -> None:
    limit = duration_s(raw.get("maxDuration", "10m"), f"{where}.maxDuration")
    result.notes.append(Note(line, f"{where}.iterations = {raw.get('iterations')!r}: careerload does not stop after "
                                   f"a number of iterations; {vus} users run for {where}.maxDuration "
                                   f"({limit:g} s) instead"))
    result.kind, result.stages = "steps", [(limit, float(vus))]


def _scenario(raw: Any, where: str, result: Shape, line: int) -> None:
    if not isinstance(raw, dict):
        raise OptionsError(f"{where}: expected an object with executor")
    executor = raw.get("executor")
    if executor not in SHAPE_EXECUTORS:
        raise OptionsError(f"{where}.executor: expected one of {', '.join(SHAPE_EXECUTORS)}, got {executor!r}")
    known = {"executor", "exec", "vus", "duration", "stages", "startVUs", "rate", "timeUnit", "startRate",
             "preAllocatedVUs", "maxVUs", "iterations", "maxDuration", "gracefulStop", "gracefulRampDown"}
    for key in sorted(set(raw) - known) + [k for k in ("gracefulStop", "gracefulRampDown") if k in raw]:
        result.notes.append(Note(line, f"{where}.{key} is not translated"))
    exec_name = raw.get("exec", "default")
    if not isinstance(exec_name, str):
        raise OptionsError(f"{where}.exec: expected a function name, got {exec_name!r}")
    result.exec_name = exec_name
    if executor == "constant-vus":
        result.kind = "steps"
        result.stages = [(duration_s(raw.get("duration"), f"{where}.duration"),
                          float(_count(raw.get("vus", 1), f"{where}.vus", 1)))]
    elif executor == "ramping-vus":
        result.kind, result.stages = "stages", _stages(raw.get("stages"), f"{where}.stages")
        if raw.get("startVUs", 1) not in (0, None):
            result.notes.append(Note(line, f"{where}.startVUs = {raw.get('startVUs', 1)!r} (k6's default is 1): "
                                           "careerload's first stage ramps from 0 users"))
    elif executor in ("per-vu-iterations", "shared-iterations"):
        _iterations(raw, where, _count(raw.get("vus", 1), f"{where}.vus", 1), result, line)
    else:
        per_s = duration_s(raw.get("timeUnit", "1s"), f"{where}.timeUnit")
        if per_s <= 0:
            raise OptionsError(f"{where}.timeUnit: expected a duration > 0")
        pool = raw.get("maxVUs", raw.get("preAllocatedVUs"))
        if pool is None:
            raise OptionsError(f"{where}.preAllocatedVUs: required for {executor}")
        result.kind, result.vus = "arrival", _count(pool, f"{where}.maxVUs/preAllocatedVUs", 1)
        if executor == "constant-arrival-rate":
            rate = _rate(raw, "rate", where, per_s)
            result.start_rate = rate
            result.stages = [(duration_s(raw.get("duration"), f"{where}.duration"), rate)]
        else:
            result.start_rate = _rate(raw, "startRate", where, per_s)
            result.stages = _stages(raw.get("stages"), f"{where}.stages", per_s)
