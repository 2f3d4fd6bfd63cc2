"""Thresholds judged against Locust's own statistics at the end of a run: run.json's `verdict`.

A first verdict, from Locust's statistics (response times rounded to two
significant digits), for a run directory that never gets a report; the
analysis judges the same thresholds again from the raw log, and that is the
verdict. The live abort check does not use this: it judges a sliding window of
raw requests (scenarios.sliding_window). Server-side metrics (cache hit rate,
database mean time) are not in Locust's statistics: they come out as NO_DATA
here and are judged by the analysis from the server snapshots.
"""

from __future__ import annotations

from typing import Any

from locust.stats import RequestStats, StatsEntry

from scenarios.thresholds import LATENCY_METRICS, Threshold, worst

PERSONA_METHOD = "persona"
_QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}


def entry_for(threshold: Threshold, stats: RequestStats, personas: RequestStats) -> StatsEntry | None:
    """The statistics row a threshold's scope points at, or None when nothing was recorded there."""
    if threshold.scope_kind == "aggregate":
        entry = stats.total
    elif threshold.scope_kind == "endpoint":
        method, _, name = (threshold.scope_value or "").partition(" ")
        entry = stats.entries.get((name.strip(), method))
    else:
        entry = personas.entries.get((threshold.scope_value, PERSONA_METHOD))
    return entry if entry is not None and entry.num_requests > 0 else None


def observe(threshold: Threshold, stats: RequestStats, personas: RequestStats) -> float | None:
    """The observed value of a threshold's metric over the whole run so far (None: no data).

    Time-scoped thresholds (stage, window, relative_to) and the open-model metrics
    need the raw log: only the analysis judges them."""
    if threshold.time_scoped:
        return None
    entry = entry_for(threshold, stats, personas)
    if entry is None:
        return None
    metric = threshold.metric
    if metric in _QUANTILES:
        return float(entry.get_response_time_percentile(_QUANTILES[metric]))
    if metric == "max":
        return float(entry.max_response_time)
    if metric == "avg":
        return float(entry.avg_response_time)
    if metric == "failure_ratio":
        return float(entry.fail_ratio)
    if metric == "rps":
        return float(entry.total_rps)
    return None


def verdict(thresholds: list[Threshold], stats: RequestStats, personas: RequestStats) -> dict[str, Any]:
    """{"status": PASS|WARN|FAIL, "thresholds": [one row per threshold with observed, status, reason]}."""
    rows = []
    for threshold in thresholds:
        observed = observe(threshold, stats, personas)
        rows.append({
            "label": threshold.label, "metric": threshold.metric, "scope": threshold.scope,
            "target": threshold.target, "critical": threshold.critical,
            "unit": "ms" if threshold.metric in LATENCY_METRICS else "",
            "observed": observed, "status": threshold.judge(observed), "reason": threshold.reason(observed),
        })
    return {"status": worst([row["status"] for row in rows]), "thresholds": rows}
