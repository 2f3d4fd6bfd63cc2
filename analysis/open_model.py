"""The open model's own truth: iterations the schedule called for, started, dropped, late; latency from the schedule.

An arrival-rate scenario fixes the rate of iteration *starts* (scenarios.loader,
locustfiles._pacing). Its figures come from the raw log's schedule rows
(foundation.rundir: `ITER start` with the lateness, `ITER dropped` with a count,
`SCHED` for each iteration's first request timed from its scheduled start), so
they can be cut by stage or window like the requests:

- intended iterations: the integral of the scenario's rate schedule over the
  span (what a perfect generator would have started);
- started: `ITER start` rows; dropped: the counts of `ITER dropped` rows (a start
  slot no user was free for, or that came more than --max-lateness late; the
  last one, written when the load ends, has no persona);
- dropped_ratio = dropped / (started + dropped): of the iterations the run
  reached, the share it could not start. It is 0 for a generator that kept up,
  whatever the latency. The pacer accounts for every slot (started + dropped
  = the slots it reached); the integral differs from that by the pacer's
  integration step and by a run that stopped early;
- lateness: how long after its slot each started iteration began;
- latency from the schedule: the first request of each iteration, ended minus
  *scheduled* start. A server that stalls for 2 s delays the starts behind it;
  service time (each request's own rt) never shows that wait, this does
  (coordinated omission).

Runs older than the schedule rows have only run.json's `dropped_iterations`
counter: the summary says which source it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.percentiles import PERCENTILES, grouped_quantiles
from analysis.raw_stats import raw_figures
from analysis.runstats import RunStats
from analysis.span_figures import RequestFigures
from analysis.spans import Interval, rows_in, total_duration
from foundation import rundir

LATENESS_QUANTILES = ("p50", "p95", "p99")


@dataclass
class IterationFigures:
    """The open model over one span: counts per persona (None: all), lateness, and from-schedule latency."""

    started: dict[str | None, int]
    dropped: dict[str | None, int]
    lateness_ms: dict[str, float | None]
    from_schedule: RequestFigures | None

    def dropped_ratio(self, persona: str | None = None) -> float | None:
        started, dropped = self.started.get(persona, 0), self.dropped.get(persona, 0)
        return dropped / (started + dropped) if started + dropped else None


def is_arrival(run: dict[str, Any]) -> bool:
    return (run.get("shape") or {}).get("kind") == "arrival"


def rate_segments(shape: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    """The rate schedule as (t0, t1, rate at t0, rate at t1) segments, seconds from the load's start."""
    segments, t, rate = [], 0.0, float(shape.get("start_rate") or 0.0)
    for stage in shape.get("stages") or []:
        end = t + float(stage["duration_s"])
        segments.append((t, end, rate, float(stage["target"])))
        t, rate = end, float(stage["target"])
    return segments


def intended(shape: dict[str, Any], a: float, b: float) -> float:
    """Iterations the schedule calls for between a and b seconds from the start (the rate's integral)."""
    total = 0.0
    for t0, t1, r0, r1 in rate_segments(shape):
        lo, hi = max(a, t0), min(b, t1)
        if hi <= lo:
            continue
        slope = (r1 - r0) / (t1 - t0)
        total += (hi - lo) * (r0 + slope * ((lo + hi) / 2 - t0))  # a linear ramp: its midpoint rate
    return total


def _schedule_requests(sched: pd.DataFrame) -> pd.DataFrame:
    """SCHED rows as a request log: their name "GET /api/v1/jobs" split into type GET and name /api/v1/jobs."""
    names = sched["name"].cat
    parts = [str(category).partition(" ") for category in names.categories]
    types = sorted({method for method, _, _ in parts})
    routes = sorted({route for _, _, route in parts})
    type_of = np.array([types.index(method) for method, _, _ in parts], dtype=np.int32)
    route_of = np.array([routes.index(route) for _, _, route in parts], dtype=np.int32)
    codes = names.codes.to_numpy()
    return pd.DataFrame({
        "ts": sched["ts"].to_numpy(),
        "type": pd.Categorical.from_codes(type_of[codes], types),
        "name": pd.Categorical.from_codes(route_of[codes], routes),
        "rt_ms": sched["rt_ms"].to_numpy(),
        "ok": sched["ok"].to_numpy(),
        "user": sched["user"],
    })


def _row_kinds(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of the `ITER start`, `ITER dropped` and `SCHED` rows (compared on the categories, not per row)."""
    iteration = (rows["type"] == rundir.ITERATION_TYPE).to_numpy()
    return (iteration & (rows["name"] == rundir.ITERATION_START).to_numpy(),
            iteration & (rows["name"] == rundir.ITERATION_DROPPED).to_numpy(),
            (rows["type"] == rundir.SCHEDULE_TYPE).to_numpy())


def iteration_figures(schedule: pd.DataFrame | None, intervals: list[Interval] | None) -> IterationFigures | None:
    """The open model's figures of the schedule rows that start in the intervals (None: the whole run)."""
    if schedule is None:
        return None
    rows = schedule if intervals is None else rows_in(schedule, intervals)
    starts, drops, scheduled = _row_kinds(rows)
    sizes = rows["size"].to_numpy()
    users = rows["user"].astype("category").cat
    codes = users.codes.to_numpy()
    starts_of = np.bincount(codes[starts], minlength=len(users.categories))
    drops_of = np.bincount(codes[drops], weights=sizes[drops], minlength=len(users.categories))
    started: dict[str | None, int] = {None: int(starts.sum())}
    dropped: dict[str | None, int] = {None: int(sizes[drops].sum())}
    for code in np.unique(codes):  # the personas with a row in the span
        started[str(users.categories[code])] = int(starts_of[code])
        dropped[str(users.categories[code])] = int(drops_of[code])
    lateness = rows["rt_ms"].to_numpy(dtype=np.float64)[starts]
    quantiles = grouped_quantiles(lateness, np.zeros(lateness.size, np.int8), 1,
                                  tuple(PERCENTILES[key] for key in LATENESS_QUANTILES))[0]
    lateness_ms = {key: None if math.isnan(value) else round(float(value), 3)
                   for key, value in zip(LATENESS_QUANTILES, quantiles)}
    lateness_ms["max"] = round(float(lateness.max()), 3) if lateness.size else None
    sched = rows[scheduled]
    duration = None if intervals is None else total_duration(intervals)
    from_schedule = RequestFigures(*raw_figures(_schedule_requests(sched), duration)) if len(sched) else None
    return IterationFigures(started, dropped, lateness_ms, from_schedule)


def over_time(shape: dict[str, Any], schedule: pd.DataFrame, start: float, duration_s: float,
              bucket_s: float) -> dict[str, list[float]]:
    """Intended and achieved start rate and drops per bucket of the load window (iterations/s)."""
    nbuckets = max(int(math.ceil(duration_s / bucket_s)), 1)
    edges = np.arange(nbuckets + 1) * bucket_s
    widths = np.minimum(edges[1:], duration_s) - edges[:-1]
    codes = np.clip((schedule["ts"].to_numpy() - start) // bucket_s, 0, nbuckets - 1).astype(np.int64)
    starts, drops, _ = _row_kinds(schedule)
    started = np.bincount(codes[starts], minlength=nbuckets)
    dropped = np.bincount(codes[drops], weights=schedule["size"].to_numpy(np.float64)[drops], minlength=nbuckets)
    wanted = [intended(shape, edges[i], edges[i] + widths[i]) for i in range(nbuckets)]
    return {
        "t_s": [float(t) for t in edges[:-1]],
        "intended_per_s": [round(w / width, 3) if width > 0 else 0.0 for w, width in zip(wanted, widths)],
        "achieved_per_s": [round(float(n) / width, 3) if width > 0 else 0.0 for n, width in zip(started, widths)],
        "dropped_per_s": [round(float(n) / width, 3) if width > 0 else 0.0 for n, width in zip(dropped, widths)],
    }


def service_p95(endpoints: list[dict[str, Any]], method: str, name: str) -> float | None:
    for row in endpoints:
        if row["method"] == method and row["name"] == name:
            return row["p95_ms"]
    return None


def summarise(run: dict[str, Any], schedule: pd.DataFrame | None, figures: IterationFigures | None,
              stats: RunStats) -> dict[str, Any] | None:
    """summary.json's `open_model` (None for a closed-model run), from the whole run's iteration figures."""
    if not is_arrival(run):
        return None
    shape = run["shape"]
    played = stats.window.duration_s or 0.0
    summary: dict[str, Any] = {
        "vus": shape.get("vus"),
        "max_lateness_s": (run.get("options") or {}).get("max_lateness"),
        "intended_iterations": round(intended(shape, 0.0, played), 1),
        "intended_rate_per_s": round(intended(shape, 0.0, played) / played, 3) if played else None,
    }
    if figures is None or schedule is None:
        counted = (run.get("counters") or {}).get("dropped_iterations")
        summary.update({
            "source": "run.json counters (the raw log has no schedule rows: a run older than them)",
            "started_iterations": None, "dropped_iterations": None if counted is None else int(counted),
            "dropped_ratio": None, "achieved_rate_per_s": None, "lateness_ms": None, "personas": [],
            "from_schedule": None, "over_time": None,
        })
        return summary
    started, dropped = figures.started[None], figures.dropped[None]
    bucket = stats.timeline.bucket_s if stats.timeline is not None else max(played / 60, 1.0)
    summary.update({
        "source": "raw request log schedule rows (ITER, SCHED)",
        "started_iterations": started,
        "dropped_iterations": dropped,
        "dropped_ratio": figures.dropped_ratio(),
        "achieved_rate_per_s": round(started / played, 3) if played else None,
        "lateness_ms": figures.lateness_ms,
        "personas": [{"name": name, "started_iterations": figures.started[name],
                      "dropped_iterations": figures.dropped[name], "dropped_ratio": figures.dropped_ratio(name)}
                     for name in sorted(key for key in figures.started if key)],
        "from_schedule": None if figures.from_schedule is None else {
            "aggregate": figures.from_schedule.aggregate,
            "endpoints": [{**row, "service_p95_ms": service_p95(stats.endpoints, row["method"], row["name"])}
                          for row in figures.from_schedule.endpoints],
        },
        "over_time": (over_time(shape, schedule, stats.window.start, played, bucket)
                      if stats.window.start is not None and played else None),
    })
    return summary
