"""The figures of a part of a run, whichever engine read its raw log: the one entry point for spans.

Stages (analysis.stages), time-scoped thresholds (analysis.time_scopes) and
the live abort's window (analysis.live_check) ask for the aggregate,
per-endpoint and per-persona rows of the requests that started in some
intervals. In memory (`--engine memory`) they are cut out of the DataFrame;
out of core (the default) DuckDB selects them from the files with the same
condition, so both engines give the same numbers to the last digit (the
in-memory and streamed builders are shared, analysis.raw_stats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.load import RunData
from analysis.raw_query import intervals_condition
from analysis.raw_stats import raw_figures
from analysis.spans import Interval, rows_in, total_duration
from analysis.streamed_stats import open_query, span_figures


@dataclass
class RequestFigures:
    """Per-endpoint, aggregate and per-persona rows of a set of raw-log rows (endpoint_row's form)."""

    aggregate: dict[str, Any]
    endpoints: list[dict[str, Any]]
    personas: list[dict[str, Any]]


def has_raw_log(data: RunData) -> bool:
    return data.requests is not None or data.raw_log is not None


def figures_in(data: RunData, intervals: list[Interval]) -> RequestFigures:
    """The figures of the requests whose start lies in the intervals, rps over their total length."""
    duration = total_duration(intervals)
    if data.requests is not None:
        return RequestFigures(*raw_figures(rows_in(data.requests, intervals), duration))
    query = open_query(data)
    try:
        return RequestFigures(*span_figures(query, *intervals_condition(intervals), duration))
    finally:
        query.close()
