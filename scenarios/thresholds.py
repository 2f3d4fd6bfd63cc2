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
from dataclasses import asdict, dataclass
from typing import Any

LATENCY_METRICS = ("p50", "p90", "p95", "p99", "max", "avg")
LOWER_IS_BETTER = (*LATENCY_METRICS, "failure_ratio", "db_mean_ms")
HIGHER_IS_BETTER = ("rps", "cache_hit_rate", "dedup_rate")
METRICS = (*LOWER_IS_BETTER, *HIGHER_IS_BETTER)
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
        return f"{self.metric} {self.scope}"

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
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> "Threshold":
        """Validate one threshold table; `where` names it in error messages."""
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table with metric/target/critical, got {raw!r}")
        known = {"metric", "scope", "target", "critical", "abort_on_fail", "grace", "grace_s"}
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
        if metric in COUNTER_METRICS and kind != "aggregate":
            raise ScenarioError(f"{where}.scope: {metric} is a run-wide counter: only scope 'aggregate', got {scope!r}")
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
        return cls(metric, scope, levels["target"], levels["critical"], abort, grace)


def worst(statuses: list[str]) -> str:
    """The verdict over several statuses: FAIL beats WARN beats PASS, and NO_DATA counts as WARN (see COUNTS_AS)."""
    return max((COUNTS_AS[status] for status in statuses), key=_ORDER.__getitem__, default=PASS)
