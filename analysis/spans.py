"""Parts of a run in time: intervals of the load window and the raw-log rows that start in them.

A stage, a window such as the last ten minutes, or a threshold's baseline is a
list of intervals (a stage list can have gaps). A row belongs to a span when
its *start* (`ts`) falls in one of its intervals, the same rule the over-time
charts use, so a request that began in the spike counts for the spike even
when it ended after it. Throughput divides by the span's own length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Interval:
    """[start, end) in epoch seconds; [start, end] when `closed` (the live check's window)."""

    start: float
    end: float
    closed: bool = False

    @property
    def duration_s(self) -> float:
        return max(self.end - self.start, 0.0)


def total_duration(intervals: list[Interval]) -> float:
    return sum(interval.duration_s for interval in intervals)


def row_mask(ts: np.ndarray, intervals: list[Interval]) -> np.ndarray:
    """True for each timestamp that falls in one of the intervals."""
    mask = np.zeros(ts.size, dtype=bool)
    for interval in intervals:
        mask |= (ts >= interval.start) & ((ts <= interval.end) if interval.closed else (ts < interval.end))
    return mask


def rows_in(log: pd.DataFrame, intervals: list[Interval]) -> pd.DataFrame:
    """The rows of a raw log (or of its schedule rows) that start in the intervals."""
    return log[row_mask(log["ts"].to_numpy(), intervals)]
