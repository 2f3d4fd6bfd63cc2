"""The percentile kernel: one definition of a percentile, computed fast per group.

Percentile definition (used everywhere, raw log, compare and the live check
alike; defined once in foundation.nearest_rank): the **nearest-rank**
percentile, numpy's ``method="inverted_cdf"`` (Hyndman & Fan type 1): p95 is the smallest observed response time such that at least 95 % of
the requests took that long or less. It is always a latency that really
happened, and "p95 <= 500 ms" means exactly "at least 95 % of requests finished
within 500 ms", which is how a threshold reads.

Group statistics run with numpy on integer group codes (one stable sort by
group, then a partial sort per group for the ranks), which keeps an hour of
10 M requests to a few seconds.
"""

from __future__ import annotations

import numpy as np

from foundation.nearest_rank import nearest_rank_index


PERCENTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
PERCENTILE_METHOD = "nearest rank (numpy method='inverted_cdf')"

def code_dtype(ngroups: int) -> type:
    """The smallest integer type for group codes: numpy's stable sort is a radix sort up to 16 bits."""
    return np.int8 if ngroups < 2**7 else np.int16 if ngroups < 2**15 else np.int32


def grouped_quantiles(values: np.ndarray, codes: np.ndarray, ngroups: int, qs: tuple[float, ...]) -> np.ndarray:
    """Nearest-rank quantiles of `values` per group code: array (ngroups, len(qs)), NaN for empty groups."""
    out = np.full((ngroups, len(qs)), np.nan)
    if values.size == 0:
        return out
    if ngroups == 1:
        ordered = values  # np.partition below works on a copy
    else:
        order = np.argsort(codes, kind="stable")  # a radix sort for 8/16-bit codes
        ordered = values[order]
        del order
    start = 0
    for group, count in enumerate(np.bincount(codes, minlength=ngroups)):
        if count:
            ranks = sorted({nearest_rank_index(int(count), q) for q in qs})
            part = np.partition(ordered[start:start + count], ranks)
            out[group] = [part[nearest_rank_index(int(count), q)] for q in qs]
        start += count
    return out
