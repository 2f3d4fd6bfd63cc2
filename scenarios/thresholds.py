"""Thresholds as data: a metric, a scope, a target level and a critical level.

Written in a scenario file as (TOML):

    [[thresholds]]
    metric = "p95"                      # p50 p90 p95 p99 max avg failure_ratio rps (+ server-side, dedup_rate)
    scope = "endpoint:GET /api/v1/jobs" # "aggregate" (default), "endpoint:<TYPE> <name>", "persona:<UserClass>",
                                        # "statement:top" (db_mean_ms only, see below)
    target = 300                        # missed -> WARN
    critical = 500                      # missed -> FAIL
    abort_on_fail = false               # stop the run once `critical` is clearly broken ...
    grace = "30s"                       # ... but never during the first `grace` of the run

Latencies are milliseconds, failure_ratio a fraction (0.01 = 1 %), rps requests
per second. For latencies and failure_ratio lower is better (observed must be
<= the level); for rps, cache_hit_rate and dedup_rate higher is better (observed >= level).
The levels follow the audit's table: target is what we want, critical what we
can live with. One of the two may be omitted; at least one is required.

Server-side metrics come from the run's server/ snapshots (see analysis/server.py)
and are judged by the analysis only (the live check has no server figures):

- `cache_hit_rate`, scope `aggregate`: cache hits / (hits + misses) over the run,
  a fraction. No cache traffic at all while requests were served counts as 0.0
  (the cache is switched off: what this threshold is for), so it FAILs rather
  than reporting no data.
- `db_mean_ms`, scope `aggregate`: all statements' execution time over all their
  calls during the run (pg_stat_statements), in milliseconds. A cheap, frequent
  statement dilutes it: to catch one slow query, use
- `db_mean_ms`, scope `statement:top`: the highest mean time among the
  TOP_STATEMENTS statements with the most total execution time during the run
  (the ones the report lists and `careerload explain` explains; transaction
  control such as BEGIN/COMMIT left out). "mean > 100 ms" in the audit's slow
  query hunt is `critical = 100` here.

Run-level counters from run.json (the personas count them; see locustfiles/scraping.py):

- `dedup_rate`, scope `aggregate`: scraped jobs the backend recognised as
  duplicates / all jobs scraped, over the scrape tasks that finished (counters
  "scrape jobs_deduplicated" / "scrape jobs_scraped"), a fraction. Higher is
  better: the check is for a deduplication that stops working under load (ten
  scrapers inserting the same postings at once race past the duplicate check, so
  duplicates are stored and the rate falls towards 0), which corrupts data
  silently while every request still returns 2xx. The other failure, a scraper
  fetching only postings it already has (a rate near 1), is not a fault of the
  system under test, so it is not judged. No scrape task finished: no data.

Time scopes (judged by the analysis from the raw request log; see
analysis/time_scopes.py). Without one, a threshold judges the whole run:

    stage = 3                           # the rows whose start falls in stage 3 (from 1), or a list: [2, 3]
    window = ["-10m", "end"]            # or a window of the load: "0", "10m" (from the start),
                                        # "-10m" (before the end), "end"; bare numbers are seconds
    relative_to = { stage = 1 }         # judge the ratio to the same figure in a baseline span
                                        # ({ stage = N } or { window = [...] }): p95 in the recovery
                                        # stage <= 1.25 x the warm-up's is `critical = 1.25`

Windows scale with `--time-scale` like every duration. A time-scoped threshold
cannot be `abort_on_fail` (the live check judges a sliding window of the last
seconds, not a stage) and cannot judge the run-wide counters or the server's
cumulative totals (dedup_rate, cache_hit_rate, db_mean_ms).

The open model (arrival-rate scenarios; from the raw log's iteration rows, see
analysis/open_model.py):

- `dropped_ratio`, scope `aggregate` or `persona:...`: iterations the schedule
  called for that no user could start / (started + dropped), a fraction.
- `dropped_iterations`: the same, as a count (k6's dropped_iterations).
- `p50_from_schedule`, `p95_from_schedule`, `p99_from_schedule`: latency of
  each iteration's first request timed from its *scheduled* start instead of
  its actual one (coordinated omission: a stalled server delays the starts, and
  service time alone never shows the wait), milliseconds.

Backend memory (server snapshots, process.csv): `rss_growth_mb_per_h`, scope
`aggregate`: the least-squares slope of the backend's resident memory over the
run or the span, in MB (10^6 bytes) per hour. A leak in a soak shows as a steady
positive slope long before the process runs out of memory.

A threshold that has no data (its endpoint or persona made no requests, the
figure is not in the data) has status NO_DATA and counts as WARN in the verdict:
a threshold that matches nothing (a typo in its scope, a persona that never ran)
must not pass silently, and with `--strict` it fails the build.

One evaluation (`Threshold.judge`) serves the live abort check in `careerload run`
and the verdict in the analysis, so both say the same thing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

LATENCY_METRICS = ("p50", "p90", "p95", "p99", "max", "avg")
SCHEDULE_METRICS = ("p50_from_schedule", "p95_from_schedule", "p99_from_schedule")
OPEN_MODEL_METRICS = ("dropped_ratio", "dropped_iterations")
LOWER_IS_BETTER = (*LATENCY_METRICS, "failure_ratio", "db_mean_ms", *SCHEDULE_METRICS, *OPEN_MODEL_METRICS,
                   "rss_growth_mb_per_h")
HIGHER_IS_BETTER = ("rps", "cache_hit_rate", "dedup_rate")
METRICS = (*LOWER_IS_BETTER, *HIGHER_IS_BETTER)
MILLISECOND_METRICS = (*LATENCY_METRICS, *SCHEDULE_METRICS, "db_mean_ms")
# Figures that exist over the whole run only: run.json's counters and the server's cumulative totals.
WHOLE_RUN_METRICS = ("dedup_rate", "cache_hit_rate", "db_mean_ms")
# Metrics judged in scope aggregate only; OPEN_MODEL_METRICS also per persona.
AGGREGATE_ONLY_METRICS = ("dedup_rate", "rss_growth_mb_per_h")
SCOPE_KINDS = ("aggregate", "endpoint", "persona", "statement")
STATEMENT_SCOPES = ("top",)  # statement:top, for db_mean_ms
COUNTER_METRICS = ("dedup_rate",)  # from run.json's run-wide counters: scope aggregate only
TOP_STATEMENTS = 10  # how many statements (by total time) `statement:top` and the report's table cover

PASS, WARN, FAIL, NO_DATA = "PASS", "WARN", "FAIL", "NO_DATA"
# What each status counts as in a verdict: NO_DATA as WARN (a threshold that matched nothing did not pass).
COUNTS_AS = {PASS: PASS, NO_DATA: WARN, WARN: WARN, FAIL: FAIL}
_ORDER = {PASS: 0, WARN: 1, FAIL: 2}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class ScenarioError(ValueError):
    """A scenario or threshold definition that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Bound:
    """One end of a window: `offset_s` seconds after the load's start, or before its end (`from_end`)."""

    offset_s: float
    from_end: bool = False

    @classmethod
    def parse(cls, value: Any, where: str) -> "Bound":
        """"0", "10m" (from the start), "-10m" (before the end), "end", or a number of seconds."""
        if isinstance(value, str) and value.strip() == "end":
            return cls(0.0, True)
        if isinstance(value, str) and value.strip().startswith("-"):
            return cls(parse_duration(value.strip()[1:], where), True)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            return cls(parse_duration(-value, where), True)
        try:
            return cls(parse_duration(value, where))
        except ScenarioError:
            raise ScenarioError(f"{where}: expected \"0\", \"10m\" (from the start), \"-10m\" (before the end) "
                                f"or \"end\", got {value!r}") from None

    def scaled(self, factor: float) -> "Bound":
        return Bound(self.offset_s * factor, self.from_end)

    def text(self) -> str:
        if self.from_end:
            return "end" if self.offset_s == 0 else f"-{self.offset_s:g}s"
        return f"{self.offset_s:g}s"


@dataclass(frozen=True)
class Span:
    """A part of the run a threshold judges: stages (numbered from 1) or a window of the load."""

    stages: tuple[int, ...] = ()
    window: tuple[Bound, Bound] | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "Span | None":
        """`stage = N | [N, ...]` or `window = [from, to]` from a table (None when it has neither)."""
        has_stage, has_window = "stage" in raw, "window" in raw
        if has_stage and has_window:
            raise ScenarioError(f"{where}: expected stage or window, not both")
        if has_stage:
            value = raw["stage"]
            values = value if isinstance(value, list) else [value]
            if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
                raise ScenarioError(f"{where}.stage: expected a stage number from 1, or a list of them, got {value!r}")
            return cls(stages=tuple(sorted(set(values))))
        if has_window:
            value = raw["window"]
            if not isinstance(value, list) or len(value) != 2:
                raise ScenarioError(f"{where}.window: expected [from, to] such as [\"-10m\", \"end\"], got {value!r}")
            return cls(window=(Bound.parse(value[0], f"{where}.window[0]"), Bound.parse(value[1], f"{where}.window[1]")))
        return None

    def scaled(self, factor: float) -> "Span":
        if self.window is None:
            return self
        return Span(window=(self.window[0].scaled(factor), self.window[1].scaled(factor)))

    def text(self) -> str:
        if self.stages:
            return f"stage{'s' if len(self.stages) > 1 else ''} {', '.join(map(str, self.stages))}"
        assert self.window is not None
        return f"window [{self.window[0].text()}, {self.window[1].text()}]"

    def to_dict(self) -> dict[str, Any]:
        """The scenario file's spelling, so run.json's thresholds read back with from_dict."""
        if self.stages:
            return {"stage": list(self.stages)}
        assert self.window is not None
        return {"window": [bound.text() for bound in self.window]}


def parse_duration(value: Any, where: str) -> float:
    """'90s', '1m', '1.5h', '250ms' or a bare number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a duration like '30s' or '2m', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ScenarioError(f"{where}: expected a duration like '30s' or '2m', got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0 or not math.isfinite(seconds):
        raise ScenarioError(f"{where}: expected a non-negative duration, got {value!r}")
    return seconds


@dataclass(frozen=True)
class Threshold:
    metric: str
    scope: str = "aggregate"
    target: float | None = None
    critical: float | None = None
    abort_on_fail: bool = False
    grace_s: float = 0.0
    span: Span | None = None           # judge only this part of the run (stage or window); None: the whole run
    relative_to: Span | None = None    # judge the ratio to the same figure over this baseline span

    @property
    def time_scoped(self) -> bool:
        """Judged on a part of the run or as a ratio: only the analysis, with the raw log, can."""
        return self.span is not None or self.relative_to is not None

    @property
    def higher_is_better(self) -> bool:
        return self.metric in HIGHER_IS_BETTER

    @property
    def scope_kind(self) -> str:
        return self.scope.split(":", 1)[0]

    @property
    def scope_value(self) -> str | None:
        """The endpoint ("GET /api/v1/jobs") or persona name; None for aggregate."""
        return self.scope.split(":", 1)[1].strip() if ":" in self.scope else None

    @property
    def label(self) -> str:
        label = f"{self.metric} {self.scope}"
        if self.span is not None:
            label += f" in {self.span.text()}"
        if self.relative_to is not None:
            label += f" relative to {self.relative_to.text()}"
        return label

    def scaled(self, factor: float) -> "Threshold":
        """This threshold with its durations (grace, windows) multiplied by `factor` (--time-scale)."""
        return replace(self, grace_s=self.grace_s * factor,
                       span=self.span.scaled(factor) if self.span else None,
                       relative_to=self.relative_to.scaled(factor) if self.relative_to else None)

    def _meets(self, observed: float, level: float) -> bool:
        return observed >= level if self.higher_is_better else observed <= level

    def judge(self, observed: float | None) -> str:
        """PASS, WARN (target missed), FAIL (critical missed) or NO_DATA."""
        if observed is None or (isinstance(observed, float) and math.isnan(observed)):
            return NO_DATA
        if self.critical is not None and not self._meets(observed, self.critical):
            return FAIL
        if self.target is not None and not self._meets(observed, self.target):
            return WARN
        return PASS

    def reason(self, observed: float | None) -> str:
        """One sentence saying why this threshold has its status."""
        status = self.judge(observed)
        if status == NO_DATA:
            return f"{self.label}: no data"
        op = ">=" if self.higher_is_better else "<="
        level = self.critical if status == FAIL else self.target
        if status == PASS:
            return f"{self.label}: {observed:.4g} meets all levels"
        which = "critical" if status == FAIL else "target"
        return f"{self.label}: observed {observed:.4g}, {which} level is {op} {level:.4g}"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that from_dict reads back (run.json's thresholds); time scopes only when set."""
        out: dict[str, Any] = {"metric": self.metric, "scope": self.scope, "target": self.target,
                               "critical": self.critical, "abort_on_fail": self.abort_on_fail, "grace_s": self.grace_s}
        if self.span is not None:
            out.update(self.span.to_dict())
        if self.relative_to is not None:
            out["relative_to"] = self.relative_to.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> "Threshold":
        """Validate one threshold table; `where` names it in error messages."""
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table with metric/target/critical, got {raw!r}")
        known = {"metric", "scope", "target", "critical", "abort_on_fail", "grace", "grace_s", "stage", "window",
                 "relative_to"}
        unknown = set(raw) - known
        if unknown:
            raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(known))}")
        metric = raw.get("metric")
        if metric not in METRICS:
            raise ScenarioError(f"{where}.metric: expected one of {', '.join(METRICS)}, got {metric!r}")
        scope = str(raw.get("scope", "aggregate")).strip()
        kind = scope.split(":", 1)[0]
        if kind not in SCOPE_KINDS or (kind != "aggregate" and not scope.partition(":")[2].strip()):
            raise ScenarioError(
                f"{where}.scope: expected 'aggregate', 'endpoint:<METHOD> <name>', 'persona:<UserClass>' "
                f"or 'statement:top', got {scope!r}"
            )
        if kind == "statement" and (metric != "db_mean_ms" or scope.partition(":")[2].strip() not in STATEMENT_SCOPES):
            raise ScenarioError(
                f"{where}.scope: 'statement:top' is the only statement scope, and only for metric db_mean_ms; "
                f"got scope {scope!r} for metric {metric!r}"
            )
        if metric in AGGREGATE_ONLY_METRICS and kind != "aggregate":
            raise ScenarioError(f"{where}.scope: {metric} is judged over all requests: only scope 'aggregate', "
                                f"got {scope!r}")
        if metric in OPEN_MODEL_METRICS and kind not in ("aggregate", "persona"):
            raise ScenarioError(f"{where}.scope: {metric} counts iterations, not requests: scope 'aggregate' or "
                                f"'persona:<UserClass>', got {scope!r}")
        levels: dict[str, float | None] = {}
        for key in ("target", "critical"):
            value = raw.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ScenarioError(f"{where}.{key}: expected a number, got {value!r}")
            levels[key] = None if value is None else float(value)
        if levels["target"] is None and levels["critical"] is None:
            raise ScenarioError(f"{where}: expected at least one of target or critical")
        abort = raw.get("abort_on_fail", False)
        if not isinstance(abort, bool):
            raise ScenarioError(f"{where}.abort_on_fail: expected true or false, got {abort!r}")
        grace = parse_duration(raw.get("grace", raw.get("grace_s", 0)), f"{where}.grace")
        span = Span.parse(raw, where)
        relative_raw = raw.get("relative_to")
        relative_to = None
        if relative_raw is not None:
            if not isinstance(relative_raw, dict) or set(relative_raw) - {"stage", "window"} or not relative_raw:
                raise ScenarioError(f"{where}.relative_to: expected a table {{ stage = N }} or "
                                    f"{{ window = [from, to] }}, got {relative_raw!r}")
            relative_to = Span.parse(relative_raw, f"{where}.relative_to")
        if span is not None or relative_to is not None:
            if abort:
                raise ScenarioError(f"{where}.abort_on_fail: a threshold with stage, window or relative_to is judged "
                                    "by the report; the live abort check judges a sliding window of the last "
                                    "seconds (--live-window): drop abort_on_fail or the time scope")
            if metric in WHOLE_RUN_METRICS:
                raise ScenarioError(f"{where}: {metric} exists over the whole run only (run-wide counters or the "
                                    "server's cumulative totals): no stage, window or relative_to")
        return cls(metric, scope, levels["target"], levels["critical"], abort, grace, span, relative_to)


def worst(statuses: list[str]) -> str:
    """The verdict over several statuses: FAIL beats WARN beats PASS, and NO_DATA counts as WARN (see COUNTS_AS)."""
    return max((COUNTS_AS[status] for status in statuses), key=_ORDER.__getitem__, default=PASS)
