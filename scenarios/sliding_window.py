"""The live check's figures: thresholds judged over the last `window_s` seconds of raw requests, as the report would.

The live abort check used to judge Locust's cumulative statistics since the
start (two-significant-digit response times, TASK rows in the aggregate), so
late in a soak a five-minute outage barely moved it, and the report, which
reads the raw log, could say something else. This window keeps the raw rows
themselves (ts, rt_ms and ok, rounded as the raw log writes them) of the last
`window_s` seconds and computes each metric the way the analysis does:

- p50/p90/p95/p99: exact nearest-rank percentiles (foundation.nearest_rank),
  failures included, as the analysis; max, avg;
- failure_ratio: failed / all rows; rps: rows / the window's span;
- scopes: `aggregate` and `persona:<P>` count real requests only (not the raw
  log's NON_REQUEST_TYPES: TASK completion times, ITER and SCHED pseudo-rows;
  analysis.runstats explains why TASK is left out); `endpoint:<TYPE> <name>`
  is that endpoint's rows, TASK endpoints included.

The window judged at `now` is the rows whose start `ts` falls in
[max(now - lag_s - window_s, origin), now - lag_s]: the same rows, by the same
key, that the raw log holds for that span, so the report can recompute the
figure exactly. What the window cannot know is not judged live (`judges` is
False, the threshold is left to the report): server-side metrics (db_mean_ms,
cache_hit_rate), run-wide counters (dedup_rate) and every other metric not in
LIVE_METRICS (the schedule's figures: ITER and SCHED rows are not fed), and
thresholds restricted to a stage or a time window or relative to a baseline.

Standard library only, no Locust: the plugin feeds it (locustfiles._live_window)
and tests drive it with made-up rows and times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from foundation.nearest_rank import nearest_rank
from foundation.rundir import NON_REQUEST_TYPES
from scenarios.thresholds import Threshold

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
LIVE_METRICS = (*QUANTILES, "max", "avg", "failure_ratio", "rps")

Row = tuple[float, float, bool]  # ts (epoch s), rt_ms, ok


@dataclass(frozen=True)
class Observation:
    """One threshold's live figure and the span of raw rows it was computed from (epoch seconds)."""

    value: float | None
    window_start: float
    window_end: float


def _in_scope(scope: str, request_type: str, name: str, persona: str) -> bool:
    kind, _, value = scope.partition(":")
    if kind == "endpoint":
        return f"{request_type} {name}" == value.strip()
    if request_type in NON_REQUEST_TYPES:
        return False
    return kind == "aggregate" or (kind == "persona" and persona == value.strip())


class SlidingWindow:
    """The raw rows of the last `window_s` seconds, per scope of the thresholds it judges."""

    def __init__(self, thresholds: Iterable[Threshold], window_s: float, origin: float, lag_s: float = 0.0) -> None:
        if window_s <= 0:
            raise ValueError(f"live window: expected a positive number of seconds, got {window_s!r}")
        self.window_s = window_s
        self.origin = origin  # the load's start (epoch s): the first windows are shorter
        self.lag_s = lag_s    # the window ends this long before `now` (rows still on their way)
        self.scopes: dict[str, deque[Row]] = {t.scope: deque() for t in thresholds if self.judges(t)}
        self._routes: dict[tuple[str, str, str], tuple[deque[Row], ...]] = {}

    @staticmethod
    def judges(threshold: Threshold) -> bool:
        """True when the window can compute this threshold's figure (see the module docstring)."""
        if threshold.metric not in LIVE_METRICS or threshold.scope_kind not in ("aggregate", "endpoint", "persona"):
            return False
        return not threshold.time_scoped  # a stage, a window or a baseline: the report's

    def wants(self, request_type: str, name: str, persona: str) -> tuple[deque[Row], ...]:
        """The scopes a row of this endpoint and persona belongs to (empty: the window has no use for it)."""
        key = (request_type, name, persona)
        routes = self._routes.get(key)
        if routes is None:
            routes = self._routes[key] = tuple(
                rows for scope, rows in self.scopes.items() if _in_scope(scope, request_type, name, persona))
        return routes

    def add(self, ts: float, request_type: str, name: str, rt_ms: float, ok: bool, persona: str) -> None:
        routes = self._routes.get((request_type, name, persona))  # `wants`, without its call on the hot path
        if routes is None:
            routes = self.wants(request_type, name, persona)
        if routes:
            row = (round(ts, 3), round(rt_ms, 3), ok)  # the raw log's precision: the report sees the same values
            for rows in routes:
                rows.append(row)

    def span(self, now: float) -> tuple[float, float]:
        """The window judged at `now`: (start, end), epoch seconds to the millisecond, as the rows' ts."""
        end = round(now - self.lag_s, 3)
        return max(round(end - self.window_s, 3), round(self.origin, 3)), end

    def observe(self, threshold: Threshold, now: float) -> Observation:
        """The threshold's figure over the window at `now` (value None: no rows in it, or not judged live)."""
        start, end = self.span(now)
        rows = self.scopes.get(threshold.scope)
        if rows is None or not self.judges(threshold):
            return Observation(None, start, end)
        while rows and rows[0][0] < start:  # rows come in by end time: a straggler behind the head is filtered below
            rows.popleft()
        inside = [row for row in rows if start <= row[0] <= end]
        return Observation(_figure(threshold.metric, inside, end - start), start, end)


def _figure(metric: str, rows: list[Row], span_s: float) -> float | None:
    """None for an empty window whatever the metric: no rows is no data (as before), not an rps of 0 to abort on."""
    if not rows or span_s <= 0:
        return None
    if metric == "rps":
        return len(rows) / span_s
    if metric == "failure_ratio":
        return sum(1 for row in rows if not row[2]) / len(rows)
    times = [row[1] for row in rows]
    if metric == "max":
        return max(times)
    if metric == "avg":
        return sum(times) / len(times)
    times.sort()
    return nearest_rank(times, QUANTILES[metric])
