"""`careerload capacity`, from start to answer: steps of rising load until the critical thresholds break.

    checks        options, search plan, target and database, the profile: once, before any load
    search        careerload.capacity_search says which load comes next (pure)
    each step     scenarios.step_scenario writes the step's scenario file into
                  CAPACITY_DIR/step-NN-LOAD/, careerload.runner.measure plays it
                  (the same master, workers, snapshots and raw log as `careerload
                  run`), analysis.step_verdict judges its hold
    output        analysis.capacity_report: capacity.json, capacity.md,
                  capacity.html (charts embedded)

Every step is a complete run directory (scenario.toml, run.json, requests.csv,
server/), so `careerload report CAPACITY_DIR/step-03-80` re-judges it.

Distributed: local workers (`--workers N`) are started for every step, as
`careerload run` starts them. Remote `careerload worker` processes exit when a
run ends, so with remote workers each VM restarts its worker for the next step
(`while careerload worker --master-host H; do :; done`); the master listens on
the same port (5557 by default) for every step.

Exit codes: 0 a capacity was found (and it is at least --require), 1 below
--require or no step passed, 2 a usage or environment error (UsageError), the
unreachable host included, in seconds and before any load.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from careerload.capacity_search import Played, SearchPlan, next_step
from careerload.locust_processes import master_port_for
from careerload.preflight import check_options, preflight
from careerload.profile_check import before_run
from careerload.run_directory import make_run_dir
from careerload.run_errors import RunError
from careerload.run_options import RunOptions
from careerload.runner import measure
from foundation.errors import UsageError
from scenarios.loader import Scenario, load_scenario
from scenarios.step_scenario import UNITS, write_step_scenario
from scenarios.thresholds import PASS, ScenarioError

STEP_SCENARIO = "scenario.toml"
INTERRUPTED = "interrupted (Ctrl-C)"


@dataclass(frozen=True)
class CapacityOptions:
    """What `careerload capacity` adds to the run options: the search and the steps' shape."""

    by: str
    plan: SearchPlan
    warmup_s: float
    hold_s: float
    pool_seconds: float
    require: float | None
    out: Path | None


def step_dir_name(index: int, load: float) -> str:
    return f"step-{index:02d}-{load:g}"


def _reference(steps: list[Any]) -> Any:
    """The lowest passing step: the throughput per unit of offered load every higher step must keep up."""
    passing = [s for s in steps if s.verdict == PASS]
    return min(passing, key=lambda s: s.offered) if passing else None


def _step_line(index: int, step: Any, wall_s: float) -> str:
    unit = UNITS[step.by]
    drops = f", drops {step.dropped_ratio:.1%}" if step.dropped_ratio is not None else ""
    p95 = f"{step.p95_ms:.0f} ms" if step.p95_ms is not None else "-"
    achieved = f"{step.achieved_rps:.1f}" if step.achieved_rps is not None else "-"
    line = (f"careerload: capacity step {index}: {step.offered:g} {unit}: {step.verdict} "
            f"({achieved} req/s, p95 {p95}{drops}; {wall_s:.0f} s)")
    return line + "".join(f"\n    {reason}" for reason in step.failed)


class GeneratorMeter:
    """The load generator's CPU over one step: the Locust children's CPU time, and the whole machine's busy share.

    The children (master, local workers) are waited for when a step ends, so
    their CPU time is in RUSAGE_CHILDREN then: the difference over a step is
    theirs. The machine's share (100 % = every core busy) says whether the
    load generator, the backend and everyone else on the machine were short of CPU.
    """

    def __init__(self) -> None:
        self.usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.times = psutil.cpu_times()
        self.started = time.monotonic()

    def figures(self, processes: int) -> dict[str, Any]:
        usage, times = resource.getrusage(resource.RUSAGE_CHILDREN), psutil.cpu_times()
        wall = max(time.monotonic() - self.started, 1e-9)
        cpu_s = (usage.ru_utime - self.usage.ru_utime) + (usage.ru_stime - self.usage.ru_stime)
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        busy_before = sum(self.times) - self.times.idle - getattr(self.times, "iowait", 0.0)
        total = sum(times) - sum(self.times)
        return {"cpu_percent": 100.0 * cpu_s / wall, "processes": processes,
                "machine_cpu_percent": 100.0 * (busy - busy_before) / total if total > 0 else None,
                "cores": psutil.cpu_count()}


def play_step(options: RunOptions, capacity: CapacityOptions, base: Scenario, load: float, step_dir: Path,
              master_port: int, reference: Any, index: int, out: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """One step: its scenario file written, played into `step_dir`, judged; (result, run.json, generator CPU)."""
    from analysis.load import RunDirError
    from analysis.step_verdict import judge_step

    step_dir.mkdir(parents=True, exist_ok=True)
    meter = GeneratorMeter()
    scenario = write_step_scenario(base, capacity.by, load, capacity.warmup_s, capacity.hold_s,
                                   capacity.pool_seconds, step_dir / STEP_SCENARIO)
    step_options = dataclasses.replace(options, scenario=str(step_dir / STEP_SCENARIO), out=step_dir)
    try:
        document, master_lost = measure(step_options, scenario, step_dir, master_port)
    except RunError as exc:
        raise UsageError(f"capacity step {index} ({load:g} {UNITS[capacity.by]}): {exc}") from None
    if master_lost:
        raise UsageError(f"capacity step {index}: {master_lost}; the steps so far are in {out}")
    generator = meter.figures(max(options.workers, 1))
    try:
        return judge_step(step_dir, reference), document, generator
    except RunDirError as exc:
        raise UsageError(f"capacity step {index} ({load:g} {UNITS[capacity.by]}) cannot be judged: {exc}; "
                         f"the steps so far are in {out}") from None


def run_capacity(options: RunOptions, capacity: CapacityOptions) -> int:
    """The whole command; UsageError for exit 2."""
    from analysis.capacity_report import summarise, write
    from analysis.step_verdict import generator_stalled

    try:
        base = load_scenario(options.scenario)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None
    before_run(options.profile, options.accounts, options.scenario, options.host, options.no_profile_check)
    try:
        check_options(options)
        preflight(options.host, base, options)
    except RunError as exc:
        raise UsageError(str(exc)) from None
    out = make_run_dir(capacity.out, f"capacity-{base.name}")
    master_port = master_port_for(options) if options.distributed else 0
    print(f"careerload: capacity of {base.name} by {capacity.by} ({UNITS[capacity.by]}) against {options.host}: "
          f"steps of {capacity.warmup_s:g} s warm-up + {capacity.hold_s:g} s hold, into {out}", flush=True)

    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    steps: list[Any] = []
    walls: list[float] = []
    generators: list[dict[str, Any]] = []
    dirs: list[str] = []
    played: list[Played] = []
    stopped = ""
    while True:
        cost = max(walls, default=capacity.warmup_s + capacity.hold_s)
        load, stopped = next_step(capacity.plan, played, time.monotonic() - started, cost)
        if load is None:
            break
        index = len(steps) + 1
        step_dir = out / step_dir_name(index, load)
        t0 = time.monotonic()
        step, document, generator = play_step(options, capacity, base, load, step_dir, master_port,
                                              _reference(steps), index, out)
        if generator_stalled(step) and step.verdict != PASS and document.get("aborted") != INTERRUPTED:
            print(f"careerload: capacity step {index}: the load generator stalled {step.stall_s:.1f} s with no "
                  "iteration dropped (a paused process or machine): playing it again", flush=True)
            step_dir = out / (step_dir_name(index, load) + "-again")
            step, document, generator = play_step(options, capacity, base, load, step_dir, master_port,
                                                  _reference(steps), index, out)
        generators.append(generator)
        walls.append(time.monotonic() - t0)
        steps.append(step)
        dirs.append(step_dir.name)
        played.append(Played(load, step.verdict == PASS))
        print(_step_line(len(steps), step, walls[-1]), flush=True)
        if document.get("aborted") == INTERRUPTED:
            stopped = INTERRUPTED
            break

    document = summarise(
        steps, walls, dirs, generators,
        scenario=base.name, host=options.host, by=capacity.by, stopped=stopped, require=capacity.require,
        search={**dataclasses.asdict(capacity.plan), "warmup_s": capacity.warmup_s, "hold_s": capacity.hold_s,
                "pool_seconds": capacity.pool_seconds, "workers": options.workers},
        started_at=started_at, wall_s=time.monotonic() - started,
    )
    files = write(document, out)
    best = document["max_sustainable"]
    unit = UNITS[capacity.by]
    if best is None:
        print(f"careerload: no step passed ({stopped}): capacity below {capacity.plan.start:g} {unit}")
    else:
        print(f"careerload: max sustainable {best['offered']:g} {unit} ({best['achieved_rps']:.1f} req/s) - "
              f"{stopped}")
    if document["first_failure"]:
        first = document["first_failure"]
        print(f"careerload: first failure at {first['offered']:g} {unit}: {first['failed'][0]}")
    if document["bottleneck"] and document["bottleneck"]["where"]:
        print(f"careerload: bottleneck: {document['bottleneck']['where']}: {document['bottleneck']['why']}")
    print(f"careerload: report {files[-1]}")
    if best is None:
        return 1
    if capacity.require is not None and best["offered"] < capacity.require:
        print(f"careerload: {best['offered']:g} {unit} is below --require {capacity.require:g}")
        return 1
    return 0
