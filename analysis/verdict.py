"""Thresholds → observed values → statuses → one verdict.

The thresholds come from run.json (what the run was judged against live), or
are replaced by `--thresholds FILE` / `--scenario NAME` (to judge a run, or plain
Locust CSVs, against other levels). Judging itself is `scenarios.thresholds.
Threshold.judge`, the same code `careerload run` uses for its live abort check,
so the report and the run never disagree about a status.

A threshold without data (NO_DATA) counts as WARN in the verdict
(`scenarios.thresholds.COUNTS_AS`): one whose scope matches nothing must not
pass silently.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from analysis.runstats import RunStats
from analysis.server import observe as server_observe, rss_growth
from analysis.span_figures import RequestFigures
from analysis.time_scopes import Figures, Scopes, whole_run
from scenarios import k6_thresholds
from scenarios.thresholds import (
    COUNTER_METRICS,
    COUNTS_AS,
    FAIL,
    LATENCY_METRICS,
    NO_DATA,
    OPEN_MODEL_METRICS,
    PASS,
    SCHEDULE_METRICS,
    WARN,
    ScenarioError,
    Threshold,
    worst,
)

SERVER_METRICS = ("cache_hit_rate", "db_mean_ms")


def read_thresholds_file(path: str | Path) -> list[Threshold]:
    """Thresholds from a TOML file of `[[thresholds]]` tables and/or `[k6.thresholds]` (the scenario files' format)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such thresholds file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    tables = raw.get("thresholds", [])
    k6 = k6_thresholds.from_table(raw.get("k6"), str(path))
    if not isinstance(tables, list) or not (tables or k6):
        raise ScenarioError(f"{path}: expected one or more [[thresholds]] tables or a [k6.thresholds] table")
    return [Threshold.from_dict(table, f"{path}: thresholds[{i}]") for i, table in enumerate(tables)] + k6


def scenario_thresholds(name: str) -> list[Threshold]:
    """The thresholds of a built-in scenario (or scenario file), through the scenario loader."""
    from scenarios.loader import load_scenario  # the loader pulls in the scenario machinery: only when asked

    return list(load_scenario(name).thresholds)


def run_thresholds(run: dict[str, Any]) -> list[Threshold]:
    """The thresholds recorded in run.json (as `Threshold.to_dict` wrote them)."""
    raw = run.get("thresholds") or []
    if not isinstance(raw, list):
        raise ScenarioError("run.json: thresholds: expected a list of threshold objects")
    return [Threshold.from_dict(table, f"run.json: thresholds[{i}]") for i, table in enumerate(raw)]


def _row_for(threshold: Threshold, stats: RequestFigures) -> tuple[dict[str, Any] | None, str]:
    """The statistics row a threshold's scope points at, or None and why it is missing."""
    kind, value = threshold.scope_kind, threshold.scope_value
    if kind == "aggregate":
        return stats.aggregate, ""
    if kind == "endpoint":
        for row in stats.endpoints:
            if f"{row['method']} {row['name']}" == value:
                return row, ""
        return None, f"no requests to {value}"
    if not stats.personas:
        return None, "per-persona figures need the raw request log"
    for row in stats.personas:
        if row["name"] == value:
            return row, ""
    return None, f"persona {value} made no requests"


def observe(threshold: Threshold, figures: Figures, server: dict[str, Any]) -> tuple[float | None, str]:
    """The observed value of a threshold's metric in its scope and span, and a clause: why there is none, or
    where a server-side value comes from (a 0 % hit rate for a cache nobody used, the slowest statement)."""
    metric = threshold.metric
    if metric in SERVER_METRICS:
        return server_observe(threshold, server, figures.requests.aggregate["requests"])
    if metric == "rss_growth_mb_per_h":
        return rss_growth(server.get("process"), figures.intervals)
    if metric in COUNTER_METRICS:  # dedup_rate, the only one: from run.json's scrape counters
        if figures.scrape is None:
            return None, "run.json counts no finished scrape task"
        if figures.scrape["dedup_rate"] is None:
            return None, "the finished scrape tasks scraped no jobs"
        return figures.scrape["dedup_rate"], ""
    if metric in (*OPEN_MODEL_METRICS, *SCHEDULE_METRICS) and figures.iterations is None:
        return None, "the raw log has no iteration rows (not an arrival-rate run, or one older than them)"
    if metric in OPEN_MODEL_METRICS:
        assert figures.iterations is not None
        persona = threshold.scope_value if threshold.scope_kind == "persona" else None
        if figures.iterations.started.get(persona, 0) + figures.iterations.dropped.get(persona, 0) == 0:
            return None, "no iteration was due" + (f" for persona {persona}" if persona else "")
        if metric == "dropped_iterations":
            return float(figures.iterations.dropped.get(persona, 0)), ""
        return figures.iterations.dropped_ratio(persona), ""
    rows = figures.requests
    if metric in SCHEDULE_METRICS:
        assert figures.iterations is not None
        if figures.iterations.from_schedule is None:
            return None, "no iteration's first request was recorded"
        rows = figures.iterations.from_schedule
    row, why = _row_for(threshold, rows)
    if row is None:
        return None, why
    base = metric.removesuffix("_from_schedule")
    key = f"{base}_ms" if base in LATENCY_METRICS else metric
    value = row.get(key)
    return value, "" if value is not None else f"{metric} not available for {threshold.scope}"


def _observe_scoped(threshold: Threshold, scopes: Scopes | None, stats: RunStats,
                    server: dict[str, Any]) -> tuple[float | None, str, float | None]:
    """(observed, clause, baseline): in the threshold's span, as a ratio to its baseline when it has one."""
    def in_span(span: Any) -> tuple[float | None, str]:
        if scopes is None:
            if span is not None:
                return None, "time scopes need the raw request log and run.json"
            return observe(threshold, whole_run(stats, None), server)
        figures, why = scopes.figures(span)
        return (None, why) if figures is None else observe(threshold, figures, server)

    observed, why = in_span(threshold.span)
    if threshold.relative_to is None or observed is None:
        return observed, why, None
    baseline, base_why = in_span(threshold.relative_to)
    if baseline is None:
        return None, f"baseline {threshold.relative_to.text()}: {base_why or 'no data'}", None
    if baseline == 0:
        return None, f"baseline {threshold.relative_to.text()} is 0: no ratio", baseline
    return observed / baseline, f"{observed:.4g} / {baseline:.4g} in {threshold.relative_to.text()}", baseline


def evaluate(thresholds: list[Threshold], stats: RunStats, server: dict[str, Any],
             scopes: Scopes | None = None) -> list[dict[str, Any]]:
    """One result per threshold: the issue's fields plus `reason`, a sentence saying why.

    `server` is the summary's server section (analysis.server.read_server);
    `scopes` the run's spans (time-scoped thresholds have no data without it).
    """
    results = []
    for threshold in thresholds:
        observed, why, baseline = _observe_scoped(threshold, scopes, stats, server)
        status = threshold.judge(observed)
        if status == NO_DATA:
            reason = f"{threshold.label}: no data ({why})"
        else:
            reason = threshold.reason(observed) + (f" ({why})" if why else "")
        results.append({
            "metric": threshold.metric,
            "scope": threshold.scope,
            "span": threshold.span.text() if threshold.span else None,
            "relative_to": threshold.relative_to.text() if threshold.relative_to else None,
            "label": threshold.label,
            "target": threshold.target,
            "critical": threshold.critical,
            "observed": observed,
            "baseline": baseline,
            "status": status,
            "reason": reason,
        })
    return results


def verdict(results: list[dict[str, Any]]) -> str:
    """FAIL beats WARN beats PASS; a threshold without data counts as WARN."""
    return worst([result["status"] for result in results])


def missed_lines(results: list[dict[str, Any]]) -> list[str]:
    """One line per threshold that pulls the verdict below PASS, headed by what it counts as:
    "FAIL <reason>", "WARN <reason>", and "WARN <label>: no data (<why>)" for NO_DATA."""
    return [f"{COUNTS_AS[result['status']]} {result['reason']}" for result in results
            if COUNTS_AS[result["status"]] != PASS]


def exit_code(verdict_: str, strict: bool) -> int:
    """0 PASS or WARN, 1 FAIL; with `strict` a WARN fails the build too."""
    return 1 if verdict_ == FAIL or (strict and verdict_ == WARN) else 0
