"""The one definition of a percentile: nearest rank (numpy's method="inverted_cdf", Hyndman & Fan type 1).

p95 is the smallest observed value such that at least 95 % of the values are
at or below it: always a latency that really happened, and "p95 <= 500 ms"
means exactly "at least 95 % of requests finished within 500 ms". The analysis
(numpy, analysis.percentiles) and the live check in the Locust processes (no
numpy there) both take their ranks from here, so they cannot disagree on what a
percentile is. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank_index(n: int, q: float) -> int:
    """0-based index of the q-quantile in n sorted values, exactly as numpy's inverted_cdf computes it."""
    virtual = n * q - 1
    below = math.floor(virtual)
    index = below + (1 if virtual - below > 0 else 0)
    return min(max(index, 0), n - 1)


def nearest_rank(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of already sorted values; None when there are none."""
    if not ordered:
        return None
    return ordered[nearest_rank_index(len(ordered), q)]
