"""The verdict of one capacity step, from its run directory alone: critical thresholds plus saturation signals.

A step (scenarios.step_scenario) is a warm-up stage and a hold stage; it is
judged on the hold only, by the report's own pipeline (analysis.report.analyse):
its thresholds are scoped to the hold (`stage = 2`), and the hold's figures are
summary.json's stage entry (requests, rps, percentiles, and for an arrival step
the intended and achieved start rates and the drops). Everything comes from the
step's run directory, so `careerload report STEP_DIR` re-judges a step exactly
as the search judged it.

The step FAILs when any of these holds (each a line in `failed`):

- a critical threshold of the scenario is missed over the hold;
- **drops**: arrival steps only, the hold's `dropped_ratio` is above
  step_scenario.DROP_LIMIT (every user of the pool busy: the achieved start
  rate fell below the intended one), a threshold of the step like the others;
- **errors**: the hold's failure ratio is above ERROR_LIMIT, whatever the
  scenario's thresholds say (a backend answering 503 fast is not coping);
- **throughput no longer follows offered load**: achieved requests/s per unit
  of offered load (per iteration/s, or per user) is more than FOLLOW_TOLERANCE
  below that of the reference step (the lowest passing step of the search),
  i.e. offered load grew and throughput did not grow with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.load import load_run_dir
from analysis.report import analyse
from analysis.stages import stage_spans
from analysis.verdict import run_thresholds
from scenarios.step_scenario import BY_RATE, BY_USERS, HOLD_STAGE
from scenarios.thresholds import FAIL, PASS

ERROR_LIMIT = 0.01       # failed / all requests of the hold
FOLLOW_TOLERANCE = 0.10  # achieved rps per unit offered, below the reference step's by more than this
# A hold with no request started for this long, and no iteration dropped, saw its load generator stall (a
# process or a whole VM paused): the step measured the machine, not the backend (see `generator_stall_s`).
STALL_LIMIT_S = 1.0


@dataclass
class StepResult:
    """One judged step: what was offered, what was achieved, the verdict and every reason for a FAIL."""

    by: str
    offered: float
    warmup_s: float
    hold_s: float
    requests: int
    failures: int
    failure_ratio: float | None
    achieved_rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    avg_ms: float | None
    intended_iterations: float | None
    dropped_iterations: float | None
    dropped_ratio: float | None
    per_unit: float | None   # achieved rps / offered
    stall_s: float | None    # arrival steps: the longest span of the hold with no request started
    verdict: str
    failed: list[str]
    thresholds: list[dict[str, Any]]
    server: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stages(run: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    shape = run.get("shape") or {}
    stages = shape.get("stages") or []
    if len(stages) != 2:
        raise ValueError("run.json: shape: a capacity step has two stages (warm-up, hold), "
                         f"found {len(stages)}")
    return (BY_RATE if shape.get("kind") == "arrival" else BY_USERS), stages


def _hold_intervals(series: dict[str, Any], hold_start: float) -> tuple[np.ndarray, np.ndarray]:
    """(mask, lengths) of a snapshot series' intervals: those lying mostly in the hold (midpoint after its start).

    Interval series carry `interval_s`; level series (the process) are intervals
    between consecutive snapshots, the first of which has none.
    """
    ts = np.asarray(series["ts"], dtype=float)
    lengths = (np.asarray(series["interval_s"], dtype=float) if "interval_s" in series
               else np.diff(ts, prepend=np.nan))
    return np.isfinite(lengths) & (ts - lengths / 2 >= hold_start), lengths


def _hold_values(series: dict[str, Any], key: str, mask: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(series[key], dtype=float)[mask])


def server_figures(server: dict[str, Any], hold_start: float) -> dict[str, Any]:
    """The step's server-side figures over its hold: backend CPU, database time per second, cache hit rate.

    From the snapshot series' intervals that lie mostly in the hold; a hold
    shorter than the snapshot interval has none, and the whole step's figures
    (warm-up included) stand in, said by `span` ("hold" or "step").
    """
    process, database, cache = server.get("process"), server.get("database"), server.get("cache")
    out: dict[str, Any] = {"span": "hold", "backend_cpu_percent": None, "backend_processes": None,
                           "db_ms_per_s": None, "db_calls_per_s": None, "db_mean_ms": None, "cache_hit_rate": None}
    step_s = (server.get("snapshots") or {}).get("duration_s")
    if process:
        mask, lengths = _hold_intervals(process["series"], hold_start)
        out["backend_processes"] = process["processes"]
        if mask.any():
            cpu = _hold_values(process["series"], "cpu_percent", mask)
            out["backend_cpu_percent"] = float((cpu * lengths[mask]).sum() / lengths[mask].sum())
        else:
            out["backend_cpu_percent"], out["span"] = process["cpu_percent"]["mean"], "step"
    if database:
        mask, lengths = _hold_intervals(database["series"], hold_start)
        if mask.any():
            seconds = float(lengths[mask].sum())
            total_ms = float(_hold_values(database["series"], "db_ms", mask).sum())
            calls = float(_hold_values(database["series"], "calls", mask).sum())
        else:
            seconds, total_ms, calls, out["span"] = step_s, database["total_ms"], database["calls"], "step"
        if seconds:
            out["db_ms_per_s"], out["db_calls_per_s"] = total_ms / seconds, calls / seconds
        out["db_mean_ms"] = total_ms / calls if calls else None
    if cache:
        mask, _ = _hold_intervals(cache["series"], hold_start)
        if mask.any():
            got = float(_hold_values(cache["series"], "hits", mask).sum())
            missed = float(_hold_values(cache["series"], "misses", mask).sum())
        else:
            got, missed, out["span"] = cache["hits"], cache["misses"], "step"
        out["cache_hit_rate"] = got / (got + missed) if got + missed else None
    return out


def longest_gap_s(ts: np.ndarray, start: float, end: float) -> float:
    """The longest span between start, the request starts in [start, end) and end, in seconds."""
    edges = np.concatenate([[start], np.sort(ts[(ts >= start) & (ts < end)]), [end]])
    return float(np.diff(edges).max())


def generator_stalled(step: StepResult) -> bool:
    """Whether the step's load generator stalled: an arrival step whose hold had a gap in its starts longer than
    STALL_LIMIT_S without a single dropped iteration. A saturated pool of users leaves gaps too, but its late
    start slots are counted as drops; a paused generator wakes its sleeping users late and drops nothing."""
    return (step.stall_s is not None and step.stall_s > STALL_LIMIT_S and not step.dropped_iterations)


def judge_step(run_dir: str | Path, reference: StepResult | None = None) -> StepResult:
    """Judge the step in `run_dir`; `reference` is the step whose throughput per unit this one must follow."""
    data = load_run_dir(run_dir)
    by, stages = _stages(data.run)
    warmup_s, hold_s, offered = float(stages[0]["duration_s"]), float(stages[1]["duration_s"]), float(stages[1]["target"])
    summary, stats = analyse(data, run_thresholds(data.run), "run.json")
    results = summary.thresholds
    failed = [r["reason"] for r in results if r["status"] == FAIL]
    hold = summary.stages[HOLD_STAGE - 1]
    agg = hold["aggregate"] or {"requests": 0, "failures": 0, "failure_ratio": None, "rps": None}

    intended = dropped = dropped_ratio = None
    if by == BY_RATE and hold.get("intended_per_s") is not None:
        intended = hold["intended_per_s"] * hold["played_s"]
        dropped, dropped_ratio = hold.get("dropped_iterations"), hold.get("dropped_ratio")
    if agg["failure_ratio"] is not None and agg["failure_ratio"] > ERROR_LIMIT:
        failed.append(f"errors: {agg['failure_ratio']:.2%} of the hold's requests failed (limit {ERROR_LIMIT:.0%})")
    if not agg["requests"]:
        failed.append("no requests completed during the hold")
    per_unit = agg["rps"] / offered if agg["rps"] is not None and offered else None
    interval = stage_spans(data.run)[HOLD_STAGE - 1].interval(stats.window)
    stall_s = None
    if by == BY_RATE and data.requests is not None and interval is not None:
        stall_s = longest_gap_s(data.requests["ts"].to_numpy(), interval.start, interval.end)
    if reference is not None and reference.per_unit and per_unit is not None:
        ratio = per_unit / reference.per_unit
        if ratio < 1 - FOLLOW_TOLERANCE:
            failed.append(f"throughput: {agg['rps']:.1f} req/s at {offered:g} is {1 - ratio:.0%} less per unit of "
                          f"offered load than at {reference.offered:g} ({reference.achieved_rps:.1f} req/s): "
                          "throughput no longer follows offered load")

    def num(key: str) -> float | None:
        value = agg.get(key)
        return None if value is None or not np.isfinite(value) else float(value)

    return StepResult(
        by=by, offered=offered, warmup_s=warmup_s, hold_s=hold_s, requests=int(agg["requests"]),
        failures=int(agg["failures"]), failure_ratio=num("failure_ratio"), achieved_rps=num("rps"),
        p50_ms=num("p50_ms"), p95_ms=num("p95_ms"), p99_ms=num("p99_ms"), avg_ms=num("avg_ms"),
        intended_iterations=intended, dropped_iterations=dropped, dropped_ratio=dropped_ratio, per_unit=per_unit, stall_s=stall_s,
        verdict=FAIL if failed else PASS, failed=failed, thresholds=results,
        server=server_figures(data.server, interval.start if interval else stats.window.start or 0.0),
    )
