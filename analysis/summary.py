"""The one summary structure every writer reads, and summary.json.

`summary.json` holds what the issue asks for (`verdict`, `aggregate`,
`endpoints`, `personas`, `thresholds`, `percentile_source`) plus what the other
writers need to say the same thing: `percentile_method`, `failures` grouped by
error, Locust's `exceptions`, the run's parameters (`run`), the load `window`
and `notes` about the data's limits. The client-side over-time series and the
latency distributions are drawn, not stored: they live in `RunStats` beside it.

`server` is the server-side evidence from the run's snapshots (cache, database,
connections, backend process; see analysis.server), null when the run took
none. `scrape` is the finished scrape tasks' job counts and dedup rate from
run.json's counters (analysis.counters.scrape_counts), null when none finished. Its over-time series are stored: one point per snapshot interval is a few
hundred points for an hour, and a reader of summary.json has no other source.

`stages` is one entry per stage (or step) of the shape: its span, users or
target rate, and the aggregate and per-endpoint figures of the raw rows that
started in it (analysis.stages; [] without a raw log). `open_model` is the
arrival-rate run's iterations: intended, started, dropped, lateness, achieved
vs intended start rate over time and latency from the schedule
(analysis.open_model; null for a closed-model run). `abort` is run.json's live
abort record beside the exact figure of the same window (analysis.live_check;
null when no threshold aborted the run).

`incomplete` is null for a run that completed; for one that died it is
{"reason": "master lost" | "interrupted" | "unknown", "detail", "torn_rows",
"left_out", "note"}: every report says so, and the figures (thresholds included)
are those of what was measured until the last request.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from analysis.load import RunData
from analysis.percentiles import PERCENTILE_METHOD
from analysis.runstats import RunStats
from scenarios.thresholds import NO_DATA

# run.json keys shown as the run's parameters, in this order.
RUN_FIELDS = ("scenario", "scenario_file", "host", "options", "versions", "git_revision",
              "workers", "lost_workers", "aborted", "profile")


@dataclass
class Summary:
    verdict: str
    percentile_source: str
    percentile_method: str
    aggregate: dict[str, Any]
    endpoints: list[dict[str, Any]]
    personas: list[dict[str, Any]]
    thresholds: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    run: dict[str, Any]
    window: dict[str, Any]
    notes: list[str]
    server: dict[str, Any] | None
    scrape: dict[str, Any] | None
    incomplete: dict[str, Any] | None
    stages: list[dict[str, Any]]
    open_model: dict[str, Any] | None
    abort: dict[str, Any] | None

    @property
    def title(self) -> str:
        return f"careerload report: {self.run.get('scenario') or self.run['source']}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TimeAware:
    """The figures over time that summary.json stores beside the run-wide ones (see the module docstring)."""

    stages: list[dict[str, Any]]
    open_model: dict[str, Any] | None
    abort: dict[str, Any] | None


def build(data: RunData, stats: RunStats, results: list[dict[str, Any]], verdict: str,
          threshold_origin: str, time_aware: TimeAware | None = None) -> Summary:
    run = {"source": data.source, **{key: data.run.get(key) for key in RUN_FIELDS if key in data.run},
           "thresholds_from": threshold_origin}
    notes = list(stats.notes)
    incomplete = None
    if data.incomplete is not None:
        incomplete = {**data.incomplete, "note": incomplete_note(data.incomplete, stats.window.to_dict()["end"])}
    if not results:
        notes.append("No thresholds were given: the verdict is PASS by default.")
    no_data = sum(1 for result in results if result["status"] == NO_DATA)
    if no_data:
        notes.append(f"{no_data} threshold(s) had no data (NO_DATA) and count as WARN in the verdict: a threshold "
                     "that matches nothing cannot pass (check its scope); with --strict it fails the build.")
    return Summary(
        verdict=verdict,
        percentile_source=stats.percentile_source,
        percentile_method=PERCENTILE_METHOD,
        aggregate=stats.aggregate,
        endpoints=stats.endpoints,
        personas=stats.personas,
        thresholds=results,
        failures=stats.failures,
        exceptions=stats.exceptions,
        run=run,
        window=stats.window.to_dict(),
        notes=notes,
        server=data.server or None,
        scrape=stats.scrape,
        incomplete=incomplete,
        stages=time_aware.stages if time_aware else [],
        open_model=time_aware.open_model if time_aware else None,
        abort=time_aware.abort if time_aware else None,
    )


def incomplete_note(incomplete: dict[str, Any], window_end: str | None) -> str:
    """The one sentence every report and both commands print for a run that did not complete."""
    torn = incomplete["torn_rows"]
    parts = [f"Incomplete run ({incomplete['reason']}): {incomplete['detail']}." if incomplete["detail"]
             else f"Incomplete run ({incomplete['reason']}).",
             f"The figures cover what was measured until the last request ({window_end or 'none'}) and the "
             "thresholds are judged on that."]
    if torn:
        parts.append(f"{torn} torn row{'s' if torn != 1 else ''} (cut off when a process died mid-write) "
                     "left out of the raw request log.")
    parts += incomplete["left_out"]
    return " ".join(parts)


def _finite(value: Any) -> Any:
    """JSON has no NaN: unknown numbers are null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def write(summary: Summary, path: Path) -> Path:
    path.write_text(json.dumps(_finite(summary.to_dict()), indent=2, default=str) + "\n")
    return path
