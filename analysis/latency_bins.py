"""A fixed grid of latency bins on integer microseconds, the same integers in numpy and in DuckDB's SQL.

Below 2**BIN_BITS µs a bin is the value itself (1 µs wide); above it, the
value's magnitude and its top BIN_BITS bits: contiguous, monotone, of relative
width at most BIN_WIDTH (0.2 %). Integer arithmetic only (the bit length, a
shift), so both engines put every response time in the same bin: compare's
bootstrap counts requests per bin, and the out-of-core exact percentiles
(analysis.raw_query) find the bin that holds a rank before reading its values.
"""

from __future__ import annotations

import numpy as np

BIN_BITS = 10
BIN_WIDTH = 1 / 2 ** (BIN_BITS - 1)


def latency_bins(us: np.ndarray) -> np.ndarray:
    """Each response time's bin (integer microseconds in, int64 out): below 2**BIN_BITS µs the value itself,
    above it (magnitude e, the top BIN_BITS bits): contiguous, monotone, relative width at most BIN_WIDTH."""
    us = us.astype(np.int64)
    shift = np.maximum(np.frexp(us.astype(np.float64))[1] - BIN_BITS, 0)  # frexp's exponent: the bit length
    return np.where(shift == 0, us, shift * (1 << (BIN_BITS - 1)) + (us >> shift))


def latency_bin_sql(us: str) -> str:
    """latency_bins as a DuckDB expression over the integer column `us` (exactly the same integers).

    The bit length is floor(log2(us)) + 1, corrected by one shift either way
    where the floating-point logarithm rounds across a power of two.
    """
    guess = f"(CAST(floor(log2(greatest({us}, 1))) AS BIGINT) + 1)"
    length = f"({guess} + ({us} >> {guess} > 0)::BIGINT - ({us} >> ({guess} - 1) = 0)::BIGINT)"
    shift = f"({length} - {BIN_BITS})"
    return (f"(CASE WHEN {us} < {1 << BIN_BITS} THEN {us} "
            f"ELSE {shift} * {1 << (BIN_BITS - 1)} + ({us} >> {shift}) END)")
