"""What the statistics of one run are, whichever source they came from: the types the reports read.

The aggregate ("all requests"), the per-persona totals and the over-time
series leave out pseudo-requests (PSEUDO_REQUEST_TYPES): the scraping persona's
`TASK scrape completion` is an end-to-end time of seconds spanning a POST and
its polls, fired for the record, not a request the backend served. Counted in,
it would add requests that never happened to requests/s and failures, and its
seconds would dominate the aggregate p95. It keeps its own endpoint row (its
percentiles are what a completion-time threshold judges). Rate-limited `(429)`
rows are real HTTP responses and stay in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import RunData
from analysis.percentiles import PERCENTILES
from analysis.window import Window
from foundation import rundir


SOURCE_RAW = "raw request log"
SOURCE_CSV = "locust csv"
TIMELINE_QUANTILES = ("p50", "p95", "p99")
# The latency distribution chart shows this many endpoints, the slowest by p95.
DISTRIBUTION_ENDPOINTS = 5
DISTRIBUTION_BINS = 300
# Request types that are not requests the backend served (see the module docstring).
PSEUDO_REQUEST_TYPES = (rundir.TASK_TYPE,)

@dataclass
class Timeline:
    """Over-time statistics, one row per bucket of `bucket_s` seconds since the window start."""

    frame: pd.DataFrame     # t_s, requests_per_s, failures_per_s, p50_ms, p95_ms, p99_ms, users
    bucket_s: float
    source: str             # SOURCE_RAW or SOURCE_CSV
    # p95 per bucket of each persona (raw log only): all requests together mix 2 s cover letters with 5 ms lists
    persona_p95_ms: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Distribution:
    """A latency CDF for one endpoint: response times (ms) and the fraction at or below each."""

    label: str
    x_ms: np.ndarray
    cdf: np.ndarray


@dataclass
class RunStats:
    """Everything computed from the data, before thresholds are applied."""

    percentile_source: str
    aggregate: dict[str, Any]
    endpoints: list[dict[str, Any]]
    personas: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    window: Window
    timeline: Timeline | None
    distributions: list[Distribution] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scrape: dict[str, Any] | None = None  # scrape_counts(run.json): dedup figures, None when no scrape finished


def endpoint_row(name: str, method: str | None, requests: int, failures: int, duration_s: float | None,
         quantiles: np.ndarray, max_ms: float, avg_ms: float, locust_rps: float | None = None) -> dict[str, Any]:
    def num(value: float) -> float | None:
        return None if value is None or not np.isfinite(value) else round(float(value), 3)

    rps = requests / duration_s if duration_s else locust_rps
    return {
        "name": name,
        "method": method,
        "requests": int(requests),
        "failures": int(failures),
        "failure_ratio": failures / requests if requests else None,
        "rps": num(rps) if rps is not None else None,
        **{f"{key}_ms": num(value) for key, value in zip(PERCENTILES, quantiles)},
        "max_ms": num(max_ms),
        "avg_ms": num(avg_ms),
    }


def pseudo_note(rows: int) -> str:
    return (f"{rows:,} {'/'.join(PSEUDO_REQUEST_TYPES)} rows (scrape completion times, not requests) have "
            "their own endpoint row and are left out of the aggregate, the persona totals and the over-time charts.")


def locust_exceptions(data: RunData) -> list[dict[str, Any]]:
    if data.exceptions is None:
        return []
    return [
        {"count": int(row["Count"]), "message": row["Message"], "traceback": row["Traceback"], "nodes": row["Nodes"]}
        for _, row in data.exceptions.iterrows()
    ]
