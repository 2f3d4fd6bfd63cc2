"""COPY text-format rows assembled from pools of pre-encoded pieces.

Formatting rows one by one in Python (f-strings, str() on numbers, datetime
formatting) costs microseconds per field, too slow for millions of rows. Here a
column is a pool of ready-made byte strings (already escaped, already followed
by their tab or newline) plus a numpy array of indices into it; a chunk of rows
is one numpy gather per column into an object matrix and one `b"".join` over
it, so the cost per field is a pointer copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from seed_data.pools import copy_escape

NULL = "\\N"
DAY = 86_400
# The seeded year. Fixed, not "the last 365 days", so the same seed gives the
# same bytes whatever day it runs.
PERIOD_START = date(2025, 1, 1)
PERIOD_DAYS = 365
PERIOD_SECONDS = PERIOD_DAYS * DAY


class Pool(Protocol):
    """Pieces of COPY text by index: an object array, or one that renders its pieces when first asked."""

    def __getitem__(self, index: np.ndarray) -> np.ndarray: ...


Column = tuple[Pool, np.ndarray]  # (pool of bytes, index into it for every row)


def pool(values: Sequence[str | None], end: str = "\t") -> np.ndarray:
    """An object array of escaped, encoded values (None → NULL) each followed by `end`."""
    return np.array([(NULL if value is None else copy_escape(value)).encode() + end.encode() for value in values], dtype=object)


def raw_pool(values: Sequence[str], end: str = "\t") -> np.ndarray:
    """Like `pool` for values that are already COPY text (NULL markers, array literals, segments)."""
    return np.array([(value + end).encode() for value in values], dtype=object)


def numbers(count: int, end: str = "\t") -> np.ndarray:
    """Pool whose entry i is the decimal text of i, except entry 0 which is NULL.

    Row ids start at 1, so one pool serves ids, foreign keys and nullable
    references (index 0 = no reference).
    """
    values = np.char.add(np.arange(count).astype("S"), end.encode()).astype(object)
    values[0] = (NULL + end).encode()
    return values


def constant(value: bytes, rows: int) -> Column:
    """The same piece on every row."""
    return np.array([value], dtype=object), np.zeros(rows, dtype=np.int64)


@dataclass(frozen=True)
class Clock:
    """Pools that turn seconds since PERIOD_START into timestamptz / date text."""

    days: np.ndarray   # "2025-03-14 "
    times: dict[str, np.ndarray]  # end → "09:12:33+00<end>"
    dates: dict[str, np.ndarray]  # end → NULL then "2025-03-14<end>"

    @classmethod
    def build(cls) -> Clock:
        day_text = [(PERIOD_START + timedelta(days=d)).isoformat() for d in range(PERIOD_DAYS)]
        clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]
        return cls(
            days=raw_pool(day_text, " "),
            times={end: raw_pool(clock, end) for end in ("\t", "\n")},
            dates={end: raw_pool([NULL, *day_text], end) for end in ("\t", "\n")},
        )

    def timestamp(self, seconds: np.ndarray, end: str = "\t") -> list[Column]:
        """Two pieces (date, time) per row for a timestamptz column."""
        return [(self.days, seconds // DAY), (self.times[end], seconds % DAY)]

    def date(self, days: np.ndarray, end: str = "\t") -> Column:
        """A nullable date column: `days` is the day number, or -1 for NULL."""
        return self.dates[end], days + 1


@dataclass(frozen=True)
class Table:
    """One table's rows, ready to be streamed into `COPY table (columns) FROM STDIN`."""

    name: str
    columns: tuple[str, ...]
    rows: int
    pieces: list[Column]

    def chunks(self, chunk_rows: int) -> Iterator[tuple[int, bytes]]:
        """(row count, COPY text) for successive chunks of rows."""
        for start in range(0, self.rows, chunk_rows):
            stop = min(self.rows, start + chunk_rows)
            matrix = np.empty((stop - start, len(self.pieces)), dtype=object)
            for k, (values, index) in enumerate(self.pieces):
                matrix[:, k] = values[index[start:stop]]
            yield stop - start, b"".join(matrix.ravel().tolist())
