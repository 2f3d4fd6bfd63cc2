"""The out-of-core engine: SQL over a run's raw log files with DuckDB, so memory does not grow with the rows.

DuckDB scans the Parquet segments or compacted files (or an old run's CSV) in
place, in parallel, spilling to disk past MEMORY_LIMIT; only grouped results
come back to Python. Every figure is computed so that it is the same number,
to the last digit, as the in-memory engine's (analysis.raw_stats) on the same
rows; tests/test_raw_query.py runs both on the same runs:

- percentiles: DuckDB's `quantile_disc` (over integer microseconds, QUANTILE_OF:
  the same order, half the memory) with a DOUBLE fraction is the nearest
  rank of foundation.nearest_rank (numpy's inverted_cdf): index ceil(n·q) − 1,
  computed as n − floor(n − n·q) − 1, which for q ≥ 0.5 is exact in floating
  point (n − n·q is exact there), like numpy's n·q − 1. Checked for every n up
  to 400 and the n·q-integral edges in the tests. (A DECIMAL literal such as
  `0.95` takes DuckDB's integer path instead, which rounds differently at those
  edges; so fractions are always bound as DOUBLE.)
- means: response times carry 3 decimals (milliseconds with microsecond
  precision), so sums are taken over integer microseconds, exact in any order;
  a float sum would differ in the last digit with the order of the additions.
- time buckets: floor((ts − start) / width), IEEE division and floor in both engines.

`figures(where, ...)` is the one entry point for "the figures of these rows":
endpoints, personas and all requests of the rows a SQL condition selects, e.g.
the rows whose start falls in a span (`span_condition`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from analysis.load import RawLog, RunDirError
from foundation import rundir

# DuckDB's own budget; it spills sorts and hash aggregates to its temp directory beyond it. The exact
# quantiles cannot spill: `quantile_disc` holds every value of a grouping set, 4 bytes each (QUANTILE_OF),
# so one query holds at most two sets of the whole log (800 MB for 100 M rows).
MEMORY_LIMIT = os.environ.get("CAREERLOAD_DUCKDB_MEMORY", "2500MB")
# Integer microseconds of a response time (3 decimals of a millisecond).
MICROS = "CAST(round(rt * 1000) AS BIGINT)"
# What the quantiles are taken over: the same order as rt, half the memory of a DOUBLE; a response time of
# up to 2**32 µs (71 minutes). `us / 1000.0` is the very double rt was (both the nearest to the decimal).
QUANTILE_OF = "CAST(round(rt * 1000) AS UINTEGER)"


def from_micros(values: Any) -> np.ndarray:
    """Quantiles over QUANTILE_OF back in milliseconds, bit for bit the logged response times."""
    return np.asarray(values, dtype=np.float64) / 1000.0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(raw: RawLog) -> str:
    files = "[" + ", ".join(_quote(str(path)) for path in raw.paths) + "]"
    if raw.format == "parquet":
        return f"read_parquet({files})"
    types = {"float64": "DOUBLE", "string": "VARCHAR", "int64": "BIGINT", "int8": "TINYINT"}
    columns = ", ".join(f"{_quote(c)}: {_quote(types[rundir.REQUEST_LOG_ARROW_TYPES[c]])}"
                        for c in rundir.REQUEST_LOG_COLUMNS)
    return f"read_csv({files}, header = true, quote = '\"', escape = '\"', columns = {{{columns}}})"


def not_of_types(types: tuple[str, ...]) -> str:
    """A condition: the row's type is none of `types` (e.g. the rows that are real requests)."""
    return f"type NOT IN ({', '.join(_quote(t) for t in types)})" if types else "TRUE"


def span_condition(start: float, end: float) -> tuple[str, list[Any]]:
    """The rows whose start lies in [start, end): a condition and its parameters for `figures`."""
    return "ts >= ? AND ts < ?", [float(start), float(end)]


@dataclass
class Groups:
    """Grouped figures as columns: the group keys, then counts, failures, µs sums, quantiles, max."""

    keys: list[tuple[str, ...]]
    requests: np.ndarray
    failures: np.ndarray
    micros: np.ndarray     # sum of response times in integer microseconds
    quantiles: np.ndarray  # (groups, len(qs))
    max_ms: np.ndarray

    def only(self, keep: Any) -> Groups:
        """The groups whose key `keep(key)` is true."""
        mine = np.array([bool(keep(key)) for key in self.keys], dtype=bool)
        return Groups([key for key, kept in zip(self.keys, mine) if kept], self.requests[mine], self.failures[mine],
                      self.micros[mine], self.quantiles[mine], self.max_ms[mine])


class RawQuery:
    """One run's raw log as the SQL view `raw` (ts, type, name, rt, ok, error, persona, real).

    `real` is true for the rows whose type is none of `pseudo` (the requests a backend served).
    """

    def __init__(self, raw: RawLog, pseudo: tuple[str, ...] = ()) -> None:
        self.raw = raw
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": False})
        self.con.execute("SET enable_progress_bar = false")
        try:
            self.con.execute(
                f"CREATE VIEW raw AS SELECT *, {not_of_types(pseudo)} AS real FROM (SELECT ts, "
                f"coalesce(type, '') AS type, coalesce(name, '') AS name, rt_ms AS rt, ok, coalesce(error, '') AS error, "
                f"coalesce(\"user\", '') AS persona FROM {_source(raw)})")
            self.con.execute("SELECT count(*) FROM raw LIMIT 0")
        except duckdb.Error as exc:
            raise RunDirError(f"the raw request log of {raw.paths[0].parent} is malformed: {exc}") from exc

    def one(self, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
        return self.con.execute(sql, params or []).fetchone()

    def arrays(self, sql: str, params: list[Any] | None = None) -> dict[str, np.ndarray]:
        return self.con.execute(sql, params or []).fetchnumpy()

    def span(self) -> tuple[int, float | None, float | None, float | None]:
        """Rows, first start, last start, last end (start + response time) of the whole log."""
        rows, first, last, end = self.one("SELECT count(*), min(ts), max(ts), max(ts + rt / 1000.0) FROM raw")
        return int(rows), first, last, end

    def figures(self, keys: tuple[str, ...], qs: tuple[float, ...], where: str = "TRUE",
                params: list[Any] | None = None) -> Groups:
        """Per group of `keys` (none: one group) of the rows `where` selects: requests, failures, µs sum,
        nearest-rank quantiles `qs` and the maximum. Groups without rows are absent."""
        return self.figures_by_sets((keys,), qs, where, params)[keys]

    def figures_by_sets(self, sets: tuple[tuple[str, ...], ...], qs: tuple[float, ...], where: str = "TRUE",
                        params: list[Any] | None = None) -> dict[tuple[str, ...], Groups]:
        """`figures` for several groupings of the same rows in one scan (SQL GROUPING SETS)."""
        columns = sorted({key for keys in sets for key in keys})
        fractions = "[" + ", ".join("?::DOUBLE" for _ in qs) + "]"
        grouping = f"GROUPING({', '.join(columns)})" if columns else "0"
        sql = (f"SELECT {''.join(c + ', ' for c in columns)}{grouping} AS grouping, count(*) AS n, "
               f"count(*) FILTER (WHERE ok = 0) AS failed, sum({MICROS}) AS micros, "
               f"quantile_disc({QUANTILE_OF}, {fractions}) AS q, max(rt) AS top FROM raw WHERE {where} "
               f"GROUP BY GROUPING SETS ({', '.join('(' + ', '.join(keys) + ')' for keys in sets)})")
        rows = self.con.execute(sql, [*qs, *(params or [])]).fetchall()
        out = {}
        width = len(columns)
        for keys in sets:
            # GROUPING(...) has a bit set, most significant first, for each column left out of the set
            mask = sum(1 << (width - 1 - i) for i, c in enumerate(columns) if c not in keys)
            mine = [row for row in rows if row[width] == mask and row[width + 1] > 0]
            out[keys] = Groups(
                keys=[tuple(row[columns.index(k)] for k in keys) for row in mine],
                requests=np.array([row[width + 1] for row in mine], dtype=np.int64),
                failures=np.array([row[width + 2] for row in mine], dtype=np.int64),
                micros=np.array([float(row[width + 3]) for row in mine], dtype=np.float64),
                quantiles=from_micros([row[width + 4] for row in mine]).reshape(len(mine), len(qs)),
                max_ms=np.array([row[width + 5] for row in mine], dtype=np.float64),
            )
        return out

    def close(self) -> None:
        self.con.close()
