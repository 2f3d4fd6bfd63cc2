"""One step of a capacity search as a scenario of its own: the base scenario's personas at one fixed load.

`careerload capacity` plays each step as an ordinary scenario file (written into
the step's run directory), so the step is a normal run: Locust plays it with
the one shape class, `careerload report STEP_DIR` re-judges it, and nothing in
the run machinery knows about capacity searches. A step is

    warm-up   ramp from 0 to the load over `warmup_s` (caches fill, pools open,
              every user logs in before its iterations matter), then
    hold      the load for `hold_s`: the span the step is judged on;

by arrival rate (`by = "rate"`, the default: an open model, iterations/s, a pool
of `ceil(rate x pool_seconds)` users, so saturation shows as drops and lateness
instead of a closed loop slowing down) or by users (`by = "users"`: that many
closed-model users with the personas' own think times).

The thresholds are the base scenario's **critical** levels only (target levels
left out): capacity is the highest load that still meets what we can live
with, and a step's verdict is FAIL or PASS, never WARN. Each is judged on the
hold only (`stage = 2`, scenarios.thresholds' time scopes), and an arrival step
adds `dropped_ratio` <= DROP_LIMIT over the hold: the open model's own
saturation signal. A base threshold tied to the base scenario's own stages or
windows (a spike's recovery, a soak's last ten minutes) has no meaning in a
two-stage step and is left out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from scenarios.loader import Scenario, load_scenario
from scenarios.thresholds import Threshold

BY_RATE, BY_USERS = "rate", "users"
HOLD_STAGE = 2           # the stage a step is judged on
DROP_LIMIT = 0.05        # an arrival step fails when more of the hold's iterations could not start
UNITS = {BY_RATE: "iterations/s", BY_USERS: "users"}
MIN_POOL = 2  # users of an arrival step, whatever the rate


def pool_size(rate: float, pool_seconds: float) -> int:
    """Users an arrival step starts: enough for `rate` iterations/s each lasting up to `pool_seconds`."""
    return max(MIN_POOL, math.ceil(rate * pool_seconds))


def critical_thresholds(thresholds: list[Threshold]) -> list[Threshold]:
    """The whole-run thresholds with a critical level, their target dropped (see the module docstring)."""
    return [Threshold(t.metric, t.scope, None, t.critical) for t in thresholds
            if t.critical is not None and not t.time_scoped]


def step_thresholds(base: Scenario, by: str) -> list[dict[str, Any]]:
    """The step's thresholds as scenario-file tables: the critical levels over the hold, plus the drops."""
    tables = [{"metric": t.metric, "scope": t.scope, "critical": t.critical, "stage": HOLD_STAGE}
              for t in critical_thresholds(base.thresholds)]
    if by == BY_RATE:
        tables.append({"metric": "dropped_ratio", "critical": DROP_LIMIT, "stage": HOLD_STAGE})
    return tables


def step_document(base: Scenario, by: str, load: float, warmup_s: float, hold_s: float,
                  pool_seconds: float = 1.0) -> dict[str, Any]:
    """The scenario file of one step, as the dict `scenarios.loader.parse_scenario` reads."""
    unit = UNITS[by]
    if by == BY_RATE:
        shape: dict[str, Any] = {"kind": "arrival", "vus": pool_size(load, pool_seconds), "start_rate": 0,
                                 "stages": [{"duration": warmup_s, "target": load, "label": "warm-up"},
                                            {"duration": hold_s, "target": load, "label": "hold"}]}
    else:
        users = int(load)
        shape = {"kind": "stages", "stages": [{"duration": warmup_s, "target": users, "label": "warm-up"},
                                              {"duration": hold_s, "target": users, "label": "hold"}]}
    return {
        "name": f"{base.name}-{load:g}",
        "question": f"Does {base.name} meet its critical thresholds at {load:g} {unit}?",
        "description": f"A capacity step of {base.name}: warm-up {warmup_s:g} s, then {hold_s:g} s at {load:g} {unit}.",
        "think_time_scale": base.think_time_scale,
        "personas": dict(base.personas),
        "shape": shape,
        "thresholds": step_thresholds(base, by),
    }


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML spelling for {value!r}")


def to_toml(document: dict[str, Any]) -> str:
    """The TOML text of a step document (plain keys, [personas], [shape], [[shape.stages]], [[thresholds]])."""
    lines = [f"{key} = {_value(value)}" for key, value in document.items() if not isinstance(value, (dict, list))]
    lines += ["", "[personas]", *(f"{name} = {weight}" for name, weight in document["personas"].items())]
    shape = document["shape"]
    lines += ["", "[shape]", *(f"{k} = {_value(v)}" for k, v in shape.items() if k != "stages")]
    for stage in shape["stages"]:
        lines += ["", "[[shape.stages]]", *(f"{k} = {_value(v)}" for k, v in stage.items())]
    for threshold in document["thresholds"]:
        lines += ["", "[[thresholds]]", *(f"{k} = {_value(v)}" for k, v in threshold.items())]
    return "\n".join(lines) + "\n"


def write_step_scenario(base: Scenario, by: str, load: float, warmup_s: float, hold_s: float,
                        pool_seconds: float, path: Path) -> Scenario:
    """Write the step's scenario file to `path` and return it as read back (so what runs is what is on disk)."""
    document = step_document(base, by, load, warmup_s, hold_s, pool_seconds)
    path.write_text(to_toml(document), encoding="utf-8")
    return load_scenario(path)
