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

from analysis.server import observe as server_observe
from analysis.runstats import RunStats
from scenarios.thresholds import (
    COUNTER_METRICS,
    COUNTS_AS,
    FAIL,
    LATENCY_METRICS,
    NO_DATA,
    PASS,
    WARN,
    ScenarioError,
    Threshold,
    worst,
)

SERVER_METRICS = ("cache_hit_rate", "db_mean_ms")


def read_thresholds_file(path: str | Path) -> list[Threshold]:
    """Thresholds from a TOML file of `[[thresholds]]` tables (the scenario files' format)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such thresholds file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    tables = raw.get("thresholds")
    if not isinstance(tables, list) or not tables:
        raise ScenarioError(f"{path}: expected one or more [[thresholds]] tables")
    return [Threshold.from_dict(table, f"{path}: thresholds[{i}]") for i, table in enumerate(tables)]


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


def _row_for(threshold: Threshold, stats: RunStats) -> tuple[dict[str, Any] | None, str]:
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


def observe(threshold: Threshold, stats: RunStats, server: dict[str, Any]) -> tuple[float | None, str]:
    """The observed value of a threshold's metric in its scope, and a clause: why there is none, or
    where a server-side value comes from (a 0 % hit rate for a cache nobody used, the slowest statement)."""
    if threshold.metric in SERVER_METRICS:
        return server_observe(threshold, server, stats.aggregate["requests"])
    if threshold.metric in COUNTER_METRICS:  # dedup_rate, the only one: from run.json's scrape counters
        if stats.scrape is None:
            return None, "run.json counts no finished scrape task"
        if stats.scrape["dedup_rate"] is None:
            return None, "the finished scrape tasks scraped no jobs"
        return stats.scrape["dedup_rate"], ""
    row, why = _row_for(threshold, stats)
    if row is None:
        return None, why
    key = f"{threshold.metric}_ms" if threshold.metric in LATENCY_METRICS else threshold.metric
    value = row.get(key)
    return value, "" if value is not None else f"{threshold.metric} not available for {threshold.scope}"


def evaluate(thresholds: list[Threshold], stats: RunStats, server: dict[str, Any]) -> list[dict[str, Any]]:
    """One result per threshold: the issue's fields plus `reason`, a sentence saying why.

    `server` is the summary's server section (analysis.server.read_server).
    """
    results = []
    for threshold in thresholds:
        observed, why = observe(threshold, stats, server)
        status = threshold.judge(observed)
        if status == NO_DATA:
            reason = f"{threshold.label}: no data ({why})"
        else:
            reason = threshold.reason(observed) + (f" ({why})" if why else "")
        results.append({
            "metric": threshold.metric,
            "scope": threshold.scope,
            "target": threshold.target,
            "critical": threshold.critical,
            "observed": observed,
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
