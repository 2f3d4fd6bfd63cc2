"""Statistics from Locust's CSVs, for runs without a raw request log (plain `locust --csv`).

The percentiles are Locust's own: response times rounded to about two
significant digits before counting (`locust.stats.bucket_response_time`: 1 ms
below 100 ms, 10 ms below 1 s, 100 ms below 10 s), so they can differ from the
exact value by up to half that step (5 % at most). Its final _stats.csv can lag
the true totals by its last write interval (DESIGN.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.counters import scrape_counts
from analysis.load import AGGREGATED, RunData
from analysis.percentiles import PERCENTILES
from analysis.runstats import (
    DISTRIBUTION_ENDPOINTS, PSEUDO_REQUEST_TYPES, SOURCE_CSV, TIMELINE_QUANTILES, Distribution, RunStats, Timeline,
    endpoint_row, locust_exceptions, pseudo_note,
)
from analysis.window import Window


# Locust's CSV percentile column for each metric.
CSV_PERCENTILE_COLUMNS = {"p50": "50%", "p90": "90%", "p95": "95%", "p99": "99%"}

def _csv_row(row: pd.Series, duration_s: float | None) -> dict[str, Any]:
    quantiles = np.array([float(row.get(CSV_PERCENTILE_COLUMNS[key], np.nan)) for key in PERCENTILES])
    method = row["Type"] or None
    return endpoint_row(row["Name"], method, int(row["Request Count"]), int(row["Failure Count"]), duration_s,
                quantiles, float(row["Max Response Time"]), float(row["Average Response Time"]),
                locust_rps=float(row["Requests/s"]))


def compute_csv(data: RunData, window: Window) -> RunStats:
    stats = data.stats
    assert stats is not None
    duration = window.duration_s if window.origin == "run.json" else None
    rows = [_csv_row(row, duration) for _, row in stats.iterrows()]
    aggregate = next(row for row in rows if row["name"] == AGGREGATED and row["method"] is None)
    endpoints = sorted((row for row in rows if row is not aggregate), key=lambda r: (r["name"], r["method"] or ""))
    pseudo = [row for row in endpoints if row["method"] in PSEUDO_REQUEST_TYPES]
    if pseudo:
        aggregate = _csv_aggregate_of([row for row in endpoints if row["method"] not in PSEUDO_REQUEST_TYPES], duration)
    failures = [] if data.failures is None else [
        {"error": row["Error"], "method": row["Method"], "name": row["Name"], "occurrences": int(row["Occurrences"]),
         "first_seen": row.get("First Seen") or None, "last_seen": row.get("Last Seen") or None}
        for _, row in data.failures.sort_values("Occurrences", ascending=False, kind="stable").iterrows()
    ]
    notes = [
        "No raw request log: totals and percentiles come from Locust's final _stats.csv, which can lag the true "
        "totals by its last write interval, with response times rounded to about two significant digits.",
        "Per-persona totals need the raw request log (its user column); Locust's CSVs have none.",
    ]
    if duration is None:
        notes.append("No run.json load window: requests/s are Locust's own (requests over its first-to-last request span).")
    if pseudo:
        notes += [pseudo_note(sum(row["requests"] for row in pseudo)),
                  "Locust's CSVs hold percentiles per row only, so without the raw request log the aggregate's "
                  "percentiles without those rows are unknown (a threshold on them has no data); Locust's "
                  "over-time series still include them."]
    return RunStats(
        percentile_source=SOURCE_CSV,
        aggregate=aggregate,
        endpoints=endpoints,
        personas=[],
        failures=failures,
        exceptions=locust_exceptions(data),
        window=window,
        timeline=_csv_timeline(data.history, window),
        distributions=_csv_distributions(stats, endpoints),
        notes=notes,
        scrape=scrape_counts(data.run),
    )


def _csv_aggregate_of(rows: list[dict[str, Any]], duration_s: float | None) -> dict[str, Any]:
    """An aggregate row summed from Locust's per-endpoint rows: counts, rates, mean and max exactly, percentiles unknown.

    Used when pseudo-request rows must be left out of Locust's Aggregated row,
    whose percentiles cannot be taken apart: unknown rather than wrong.
    """
    requests = sum(row["requests"] for row in rows)
    total_ms = sum((row["avg_ms"] or 0.0) * row["requests"] for row in rows)
    return endpoint_row(AGGREGATED, None, requests, sum(row["failures"] for row in rows), duration_s,
                np.full(len(PERCENTILES), np.nan), max((row["max_ms"] or 0.0 for row in rows), default=np.nan),
                total_ms / requests if requests else np.nan, locust_rps=sum(row["rps"] or 0.0 for row in rows))


def _csv_timeline(history: pd.DataFrame | None, window: Window) -> Timeline | None:
    """Locust's own time series (its Aggregated rows): current requests/s, failures/s, percentiles, users."""
    if history is None:
        return None
    total = history[history["Name"] == AGGREGATED].sort_values("Timestamp", kind="stable")
    if total.empty:
        return None
    stamps = total["Timestamp"].to_numpy(dtype=float)
    origin = window.start if window.start is not None else stamps[0]
    step = float(np.median(np.diff(stamps))) if stamps.size > 1 else 1.0
    frame = pd.DataFrame({
        "t_s": stamps - origin,
        "requests_per_s": total["Requests/s"].to_numpy(dtype=float),
        "failures_per_s": total["Failures/s"].to_numpy(dtype=float),
        **{f"{key}_ms": _history_percentile(total, key) for key in TIMELINE_QUANTILES},
        "users": total["User Count"].to_numpy(dtype=float),
    })
    return Timeline(frame, step, SOURCE_CSV)


def _history_percentile(total: pd.DataFrame, key: str) -> np.ndarray:
    """A percentile column of Locust's history; its 0 means "no recent samples" (Locust writes `... or 0`)."""
    column = CSV_PERCENTILE_COLUMNS[key]
    if column not in total:
        return np.full(len(total), np.nan)
    values = total[column].to_numpy(dtype=float)
    return np.where(values > 0, values, np.nan)


def _csv_distributions(stats: pd.DataFrame, endpoints: list[dict[str, Any]]) -> list[Distribution]:
    """The slowest endpoints' CDFs as Locust reports them: its percentile columns (50 % ... 100 %)."""
    columns = [c for c in stats.columns if c.endswith("%")]
    points = np.array([float(c.rstrip("%")) / 100 for c in columns])
    slowest = sorted((row for row in endpoints if row["p95_ms"] is not None), key=lambda r: -r["p95_ms"])
    out = []
    for row in slowest[:DISTRIBUTION_ENDPOINTS]:
        match = stats[(stats["Name"] == row["name"]) & (stats["Type"] == (row["method"] or ""))].iloc[0]
        out.append(Distribution(f"{row['method']} {row['name']}", match[columns].to_numpy(dtype=float), points))
    return out
