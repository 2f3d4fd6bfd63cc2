"""Scenario files: read, validate, scale, and turn into a schedule.

A scenario is data (`scenarios/<name>.toml`): the question it answers, which
personas run with which weights, a load shape, and thresholds. This module reads
it with the standard library's `tomllib` and plays nothing itself: the Locust
shape (`scenarios.shape`) asks a `Scenario` how many users (or how many
iterations per second) it wants at a given second.

Why TOML: it is in the standard library (no YAML dependency at run time), it has
comments (each stage carries one saying what it is for, as the audit's k6
scripts do), arrays of tables (`[[shape.stages]]`, `[[thresholds]]`) read like
k6's `stages: [...]`, and it has no implicit typing surprises (YAML's `no` is
false, `1:30` is a number).

Format (every duration is '250ms', '30s', '2m', '1h' or a number of seconds):

    name = "api"                      # optional; defaults to the file name
    question = "Does ... ?"           # required: the question the run answers
    think_time_scale = 1.0            # optional: multiplies personas' think times

    [personas]                        # required: persona class -> weight (> 0)
    BrowsingUser = 1

    [shape]
    kind = "stages"                   # stages | steps | arrival

    [[shape.stages]]                  # kind = "stages": ramp linearly to `target`
    duration = "30s"                  #   users over `duration` (k6 stages)
    target = 10
    label = "warm-up"                 # optional, any kind: names the stage in the report

    # kind = "steps": jump to `users` (at `spawn_rate` users/s, default: at
    # once) and hold for `duration`:
    #   [[shape.steps]]  users = 100  duration = "2m"  spawn_rate = 50
    #
    # kind = "arrival": an open model (k6's ramping-arrival-rate). `vus` users
    # are started and each runs one task per token; tokens arrive at `target`
    # iterations/s, ramped linearly per stage from `start_rate`:
    #   vus = 50   start_rate = 0
    #   [[shape.stages]]  duration = "1m"  target = 20

    [[thresholds]]                    # see scenarios.thresholds for the fields
    metric = "p95"
    target = 300
    critical = 500

`--time-scale F` multiplies every duration (stages, steps, threshold grace
periods); `--users N` rescales the user targets so the peak is N (for an
arrival-rate scenario it sets the pool size `vus`).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios import k6_thresholds
from scenarios.declarative import DECLARATIVE_PERSONA, load_persona_file
from scenarios.thresholds import ScenarioError, Threshold, parse_duration

SCENARIO_DIR = Path(__file__).resolve().parent
SHAPE_KINDS = ("stages", "steps", "arrival")
# The persona classes in locustfiles/ (one module each). Kept here as names so
# that reading a scenario never imports Locust (which monkey-patches the process);
# tests/test_personas.py checks the list against the real classes.
PERSONAS = ("BrowsingUser", "WritingUser", "ScrapingUser", "AIGenerationUser", "DatabaseUser", DECLARATIVE_PERSONA)
# Spawn rate used for an instant jump (a step, a spike): users per second.
INSTANT_SPAWN_RATE = 1000.0


@dataclass(frozen=True)
class Stage:
    """One segment of the shape: reach `target` by the end of `duration` seconds.

    For stages and arrival shapes the value ramps linearly from the previous
    stage's target; for steps it jumps at the start (at `spawn_rate` users/s).
    """

    duration_s: float
    target: float
    spawn_rate: float | None = None
    label: str = ""  # what the stage is for ("baseline", "spike", "recovery"): the report's stage table shows it


@dataclass(frozen=True)
class Scenario:
    name: str
    question: str
    path: Path
    personas: dict[str, int]
    kind: str
    stages: tuple[Stage, ...]
    thresholds: list[Threshold]
    vus: int = 0
    start_rate: float = 0.0
    think_time_scale: float = 1.0
    time_scale: float = 1.0
    description: str = ""
    users_override: int | None = field(default=None)
    persona_file: Path | None = None  # the declarative persona's data (scenarios.declarative), for DeclarativeUser

    @property
    def duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)

    @property
    def peak_users(self) -> int:
        """Most users alive at once: the peak target, or the arrival pool size."""
        if self.kind == "arrival":
            return self.vus
        return int(max((stage.target for stage in self.stages), default=0))

    def scaled(self, time_scale: float = 1.0, users: int | None = None) -> "Scenario":
        """A copy with every duration multiplied by `time_scale` and the peak set to `users`."""
        if not (time_scale > 0 and math.isfinite(time_scale)):
            raise ScenarioError(f"--time-scale: expected a positive number, got {time_scale!r}")
        if users is not None and users < 1:
            raise ScenarioError(f"--users: expected a positive number of users, got {users!r}")
        stages = tuple(dataclasses.replace(s, duration_s=s.duration_s * time_scale) for s in self.stages)
        vus = self.vus
        if users is not None:
            if self.kind == "arrival":
                vus = users
            else:
                factor = users / max(self.peak_users, 1)
                stages = tuple(
                    dataclasses.replace(s, target=0 if s.target == 0 else max(1, round(s.target * factor)))
                    for s in stages
                )
        thresholds = [t.scaled(time_scale) for t in self.thresholds]
        return dataclasses.replace(
            self, stages=stages, thresholds=thresholds, vus=vus,
            time_scale=self.time_scale * time_scale, users_override=users,
        )

    def stage_at(self, t: float) -> tuple[int, float, float] | None:
        """(stage index, value at t, slope per second) or None once the shape is over.

        The value is users for stages/steps and iterations/s for arrival.
        """
        start = 0.0
        previous = self.start_rate if self.kind == "arrival" else 0.0
        for index, stage in enumerate(self.stages):
            end = start + stage.duration_s
            if t < end:
                if self.kind == "steps":
                    return index, stage.target, 0.0
                slope = (stage.target - previous) / stage.duration_s
                return index, previous + slope * (t - start), slope
            start, previous = end, stage.target
        return None

    def tick(self, t: float) -> tuple[int, float] | None:
        """What Locust's shape should return at run time t: (users, spawn rate) or None to stop."""
        at = self.stage_at(t)
        if at is None:
            return None
        index, value, slope = at
        if self.kind == "arrival":
            # Open model: the pool is started at once and stays; the pacer
            # (locustfiles.pacing) decides when each user runs an iteration.
            return self.vus, INSTANT_SPAWN_RATE
        users = round(value)
        if self.kind == "steps":
            rate = self.stages[index].spawn_rate or INSTANT_SPAWN_RATE
        else:
            # Fast enough to follow the ramp within Locust's one-second tick; constant
            # within a stage, so Locust is not asked to re-plan every second.
            rate = max(1.0, abs(slope))
        return users, rate

    def rate_at(self, t: float) -> float:
        """Arrival-rate scenarios: iterations per second wanted at run time t (0 when over)."""
        at = self.stage_at(t)
        return max(0.0, at[1]) if at is not None else 0.0

    def to_dict(self) -> dict[str, Any]:
        """What run.json records about the scenario as played."""
        return {
            "name": self.name, "question": self.question, "path": str(self.path),
            "personas": self.personas, "kind": self.kind, "vus": self.vus,
            "start_rate": self.start_rate, "time_scale": self.time_scale,
            "users_override": self.users_override, "duration_s": self.duration_s,
            "stages": [dataclasses.asdict(s) for s in self.stages],
            "persona_file": str(self.persona_file) if self.persona_file else None,
        }


def builtin_names() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))


def builtin_name(path: Path) -> str | None:
    """The built-in name of a scenario file, None when it is not one of ours."""
    path = Path(path).resolve()
    return path.stem if path.parent == SCENARIO_DIR.resolve() and path.suffix == ".toml" else None


def resolve(name_or_path: str | Path) -> Path:
    """A built-in scenario name or a path to a .toml file -> the file's path."""
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith(".toml") or candidate.is_file():
        if not candidate.is_file():
            raise ScenarioError(f"{text}: no such scenario file")
        return candidate
    path = SCENARIO_DIR / f"{text}.toml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {text!r}; expected one of {', '.join(builtin_names())} or a .toml file")
    return path


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario; every error names the file, the field and what was expected."""
    path = resolve(name_or_path)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML: {exc}") from None
    return parse_scenario(raw, path)


def _number(raw: dict[str, Any], key: str, where: str, *, default: float | None = None, minimum: float = 0.0) -> float:
    value = raw.get(key, default)
    if value is None:
        raise ScenarioError(f"{where}.{key}: required, expected a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ScenarioError(f"{where}.{key}: expected a number >= {minimum:g}, got {value!r}")
    return float(value)


def _check_keys(raw: dict[str, Any], known: set[str], where: str) -> None:
    unknown = set(raw) - known
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(known))}")


def parse_scenario(raw: dict[str, Any], path: Path) -> Scenario:
    where = str(path)
    _check_keys(raw, {"name", "question", "description", "personas", "shape", "thresholds", "think_time_scale",
                      "k6", "persona_file"}, where)
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ScenarioError(f"{where}: question: required, expected the question this scenario answers as a string")

    personas = raw.get("personas")
    if not isinstance(personas, dict) or not personas:
        raise ScenarioError(f"{where}: [personas]: required, expected a table of persona = weight, e.g. BrowsingUser = 1")
    weights: dict[str, int] = {}
    for persona in personas:
        if persona not in PERSONAS:
            raise ScenarioError(f"{where}: personas.{persona}: unknown persona; expected one of {', '.join(PERSONAS)}")
        weight = _number(personas, persona, f"{where}: personas", minimum=0.0)
        if weight != int(weight):
            raise ScenarioError(f"{where}: personas.{persona}: expected a whole-number weight, got {personas[persona]!r}")
        weights[persona] = int(weight)
    if not any(weights.values()):
        raise ScenarioError(f"{where}: [personas]: expected at least one weight > 0")

    shape = raw.get("shape")
    if not isinstance(shape, dict):
        raise ScenarioError(f"{where}: [shape]: required, expected a table with kind and stages or steps")
    _check_keys(shape, {"kind", "stages", "steps", "vus", "start_rate"}, f"{where}: shape")
    kind = shape.get("kind", "stages")
    if kind not in SHAPE_KINDS:
        raise ScenarioError(f"{where}: shape.kind: expected one of {', '.join(SHAPE_KINDS)}, got {kind!r}")
    list_key = "steps" if kind == "steps" else "stages"
    entries = shape.get(list_key)
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{where}: shape.{list_key}: required for kind = {kind!r}, expected a non-empty array of tables")
    stages = []
    for i, entry in enumerate(entries):
        here = f"{where}: shape.{list_key}[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{here}: expected a table, got {entry!r}")
        if kind == "steps":
            _check_keys(entry, {"users", "duration", "spawn_rate", "label"}, here)
            target = _number(entry, "users", here)
            spawn_rate = _number(entry, "spawn_rate", here, minimum=0.001) if "spawn_rate" in entry else None
        else:
            _check_keys(entry, {"target", "duration", "label"}, here)
            target, spawn_rate = _number(entry, "target", here), None
        if kind != "arrival" and target != int(target):
            raise ScenarioError(f"{here}: expected a whole number of users, got {target!r}")
        if "duration" not in entry:
            raise ScenarioError(f"{here}.duration: required, expected a duration like '30s' or '2m'")
        duration = parse_duration(entry["duration"], f"{here}.duration")
        if duration <= 0:
            raise ScenarioError(f"{here}.duration: expected a duration > 0, got {entry['duration']!r}")
        label = entry.get("label", "")
        if not isinstance(label, str):
            raise ScenarioError(f"{here}.label: expected a string, got {label!r}")
        stages.append(Stage(duration, target, spawn_rate, label.strip()))

    vus, start_rate = 0, 0.0
    if kind == "arrival":
        vus_value = _number(shape, "vus", f"{where}: shape", minimum=1)
        if vus_value != int(vus_value):
            raise ScenarioError(f"{where}: shape.vus: expected a whole number of users, got {vus_value!r}")
        vus = int(vus_value)
        start_rate = _number(shape, "start_rate", f"{where}: shape", default=0.0)
    elif "vus" in shape or "start_rate" in shape:
        raise ScenarioError(f"{where}: shape.vus/start_rate: only valid with kind = 'arrival'")

    thresholds_raw = raw.get("thresholds", [])
    if not isinstance(thresholds_raw, list):
        raise ScenarioError(f"{where}: thresholds: expected an array of tables ([[thresholds]])")
    thresholds = [Threshold.from_dict(t, f"{where}: thresholds[{i}]") for i, t in enumerate(thresholds_raw)]
    thresholds += k6_thresholds.from_table(raw.get("k6"), where)
    for i, threshold in enumerate(thresholds):
        if threshold.scope_kind == "persona" and threshold.scope_value not in weights:
            raise ScenarioError(
                f"{where}: thresholds[{i}].scope: persona {threshold.scope_value!r} does not run in this scenario; "
                f"expected one of {', '.join(weights)}"
            )
        for span in (threshold.span, threshold.relative_to):
            beyond = [n for n in (span.stages if span else ()) if n > len(stages)]
            if beyond:
                raise ScenarioError(f"{where}: thresholds[{i}].stage: stage {beyond[0]} does not exist; the shape has "
                                    f"{len(stages)} stage(s), numbered from 1")
        if threshold.scope_kind == "endpoint" and " " not in (threshold.scope_value or ""):
            raise ScenarioError(
                f"{where}: thresholds[{i}].scope: expected 'endpoint:<TYPE> <name>' such as "
                f"'endpoint:GET /api/v1/jobs/{{id}}', got {threshold.scope!r}"
            )

    think = _number(raw, "think_time_scale", where, default=1.0)
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}: name: expected a non-empty string, got {name!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{where}: description: expected a string, got {description!r}")
    persona_file = load_persona_file(raw.get("persona_file"), path, DECLARATIVE_PERSONA in weights)
    return Scenario(
        name=name, question=question.strip(), path=path, personas=weights, kind=kind, stages=tuple(stages),
        thresholds=thresholds, vus=vus, start_rate=start_rate, think_time_scale=think, description=description,
        persona_file=persona_file,
    )
