"""Per-endpoint, per-persona, aggregate and over-time statistics of a run: which source, and how.

From the raw request log the percentiles are exact, computed out of core
(analysis.streamed_stats, the default) or in memory (analysis.raw_stats,
`--engine memory`, when the log was read into `RunData.requests`); from
Locust's CSVs they are Locust's own, rounded (analysis.csv_stats). Both give a
RunStats (analysis.runstats) with the nearest-rank percentile definition of
analysis.percentiles, over the load window of analysis.window: requests divided
by that window, the same for every row so the rows add up.
"""

from __future__ import annotations

from analysis.csv_stats import compute_csv
from analysis.load import RunData
from analysis.raw_stats import compute_raw
from analysis.streamed_stats import compute_streamed
from analysis.runstats import RunStats
from analysis.window import load_window


def compute(data: RunData) -> RunStats:
    """Statistics from the raw log when there is one (exact), from Locust's CSVs otherwise."""
    window = load_window(data)
    if data.requests is not None or data.raw_log is not None:
        stats = compute_raw(data, window) if data.requests is not None else compute_streamed(data, window)
        if not stats.endpoints:
            stats.notes.append("The raw request log has no requests.")
        return stats
    return compute_csv(data, window)
