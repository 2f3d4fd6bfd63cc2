"""The out-of-core engine: SQL over a run's raw log files with DuckDB, so memory does not grow with the rows.

DuckDB scans the Parquet segments or compacted files (or an old run's CSV) in
place, in parallel, spilling to disk past MEMORY_LIMIT; only grouped results
come back to Python. Every figure is computed so that it is the same number,
to the last digit, as the in-memory engine's (analysis.raw_stats) on the same
rows; tests/test_raw_query.py runs both on the same runs:

- percentiles: the nearest rank of foundation.nearest_rank, in two scans
  (`quantiles_by_sets`): counts per latency bin locate the rank, then the rows
  of that bin alone give its value. DuckDB's `quantile_disc` (used for the
  over-time buckets only, a slice of time at a time: it holds every value it
  is given) with a DOUBLE fraction is the same rank: index ceil(n·q) − 1,
  computed as n − floor(n − n·q) − 1, which for q ≥ 0.5 is exact in floating
  point (n − n·q is exact there), like numpy's n·q − 1; checked for every n up
  to 400 and the n·q-integral edges in the tests. (A DECIMAL literal such as
  `0.95` takes DuckDB's integer path instead, which rounds differently at those
  edges; so fractions are always bound as DOUBLE.)
- means: response times carry 3 decimals (milliseconds with microsecond
  precision), so sums are taken over integer microseconds, exact in any order;
  a float sum would differ in the last digit with the order of the additions.
- time buckets: floor((ts − start) / width), IEEE division and floor in both engines.

`figures(where, ...)` is the one entry point for "the figures of these rows":
endpoints, personas and all requests of the rows a SQL condition selects, e.g.
the rows whose start falls in some intervals (`intervals_condition`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from analysis.latency_bins import latency_bin_sql
from analysis.load import RawLog, RunDirError
from foundation.nearest_rank import nearest_rank_index
from foundation import rundir

# DuckDB's own budget; it spills sorts and hash aggregates to its temp directory beyond it. (Its holistic
# `quantile_disc` cannot: it serves only groups of bounded size here, the over-time buckets, a slice of time
# at a time; see analysis.streamed_stats.)
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


def intervals_condition(intervals: list[Any]) -> tuple[str, list[Any]]:
    """The rows whose start lies in one of the intervals (analysis.spans.Interval: [start, end), or [start, end]
    when closed): a condition and its parameters for `figures`, the same rule as spans.row_mask."""
    terms, params = [], []
    for interval in intervals:
        terms.append(f"(ts >= ? AND ts {'<=' if interval.closed else '<'} ?)")
        params += [float(interval.start), float(interval.end)]
    return (" OR ".join(terms) or "FALSE"), params


def _grouping(columns: list[str]) -> str:
    return f"GROUPING({', '.join(columns)})" if columns else "0"


def _set(keys: tuple[str, ...]) -> str:
    return "(" + ", ".join(keys) + ")"


def _mask(columns: list[str], keys: tuple[str, ...]) -> int:
    """What GROUPING(columns) is for the grouping set `keys`: a bit, most significant first, per column left out."""
    return sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in keys)


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

    The view holds requests only: an arrival-rate run's schedule rows (rundir.SCHEDULE_ROW_TYPES) are not
    requests and are read apart (analysis.load.read_schedule_rows). `real` is true for the rows whose type
    is none of `pseudo` (the requests a backend served).
    """

    def __init__(self, raw: RawLog, pseudo: tuple[str, ...] = ()) -> None:
        self.raw = raw
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": False})
        self.con.execute("SET enable_progress_bar = false")
        try:
            self.con.execute(
                f"CREATE VIEW raw AS SELECT *, {not_of_types(pseudo)} AS real FROM (SELECT ts, "
                f"coalesce(type, '') AS type, coalesce(name, '') AS name, rt_ms AS rt, ok, coalesce(error, '') AS error, "
                f"coalesce(\"user\", '') AS persona FROM {_source(raw)} "
                f"WHERE {not_of_types(rundir.SCHEDULE_ROW_TYPES)})")
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
        """`figures` for several groupings of the same rows: counts, sums and maxima in one scan (SQL
        GROUPING SETS, hash aggregates that spill), the quantiles in two more (`quantiles_by_sets`)."""
        columns = sorted({key for keys in sets for key in keys})
        rows = self.con.execute(
            f"SELECT {''.join(c + ', ' for c in columns)}{_grouping(columns)} AS grouping, count(*) AS n, "
            f"count(*) FILTER (WHERE ok = 0) AS failed, sum({MICROS}) AS micros, max(rt) AS top FROM raw "
            f"WHERE {where} GROUP BY GROUPING SETS ({', '.join(_set(keys) for keys in sets)})", params or []).fetchall()
        quantiles = self.quantiles_by_sets(sets, qs, where, params)
        out = {}
        width = len(columns)
        for keys in sets:
            mask = _mask(columns, keys)
            mine = [row for row in rows if row[width] == mask and row[width + 1] > 0]
            found = [tuple(row[columns.index(k)] for k in keys) for row in mine]
            out[keys] = Groups(
                keys=found,
                requests=np.array([row[width + 1] for row in mine], dtype=np.int64),
                failures=np.array([row[width + 2] for row in mine], dtype=np.int64),
                micros=np.array([float(row[width + 3]) for row in mine], dtype=np.float64),
                quantiles=np.array([quantiles[keys][key] for key in found], dtype=np.float64).reshape(len(mine), len(qs)),
                max_ms=np.array([row[width + 4] for row in mine], dtype=np.float64),
            )
        return out

    def quantiles_by_sets(self, sets: tuple[tuple[str, ...], ...], qs: tuple[float, ...], where: str = "TRUE",
                          params: list[Any] | None = None) -> dict[tuple[str, ...], dict[tuple, np.ndarray]]:
        """Exact nearest-rank quantiles `qs` (ms) per group of each grouping, in two scans and little memory.

        DuckDB's own `quantile_disc` holds every value of every group at once
        (it ran out of memory on 100 M rows within 2.5 GB), so: first each
        group's request count per latency bin (analysis.latency_bins; a hash
        aggregate, small and spillable), which tells the bin that holds each
        rank and the rank within it; then only the rows of those bins, counted
        per distinct microsecond value, which gives the value at that rank.
        Rank and value are exact: this is foundation.nearest_rank on the rows.
        """
        columns = sorted({key for keys in sets for key in keys})
        width = len(columns)
        binned = f"(SELECT *, {latency_bin_sql('us')} AS bin FROM (SELECT *, {MICROS} AS us FROM raw WHERE {where}))"
        head = f"SELECT {''.join(c + ', ' for c in columns)}{_grouping(columns)} AS grouping, bin"
        counts = self.con.execute(
            f"{head}, count(*) AS n FROM {binned} GROUP BY GROUPING SETS "
            f"({', '.join(_set((*keys, 'bin')) for keys in sets)})", params or []).fetchall()
        # per (grouping, group): its bins in order and their counts -> for each q the bin and the rank within it
        per_group: dict[tuple[int, tuple], list[tuple[int, int]]] = {}
        for row in counts:
            per_group.setdefault((row[width], row[:width]), []).append((row[width + 1], row[width + 2]))
        wanted: dict[tuple[int, tuple, int], list[tuple[int, int]]] = {}  # (grouping, group, bin) -> (q index, rank)
        for (mask, group), cells in per_group.items():
            cells.sort()
            cumulative = np.cumsum([n for _, n in cells])
            for j, q in enumerate(qs):
                rank = nearest_rank_index(int(cumulative[-1]), q)
                i = int(np.searchsorted(cumulative, rank, side="right"))
                wanted.setdefault((mask, group, cells[i][0]), []).append((j, rank - int(cumulative[i - 1] if i else 0)))
        values: dict[tuple[int, tuple, int], list[tuple[int, int]]] = {}
        if wanted:
            bins = sorted({b for _, _, b in wanted})
            rows = self.con.execute(
                f"{head}, us, count(*) AS n FROM {binned} WHERE bin IN (SELECT unnest(?::BIGINT[])) GROUP BY "
                f"GROUPING SETS ({', '.join(_set((*keys, 'bin', 'us')) for keys in sets)})",
                [*(params or []), bins]).fetchall()
            for row in rows:
                key = (row[width], row[:width], row[width + 1])
                if key in wanted:
                    values.setdefault(key, []).append((row[width + 2], row[width + 3]))
        out: dict[tuple[str, ...], dict[tuple, np.ndarray]] = {keys: {} for keys in sets}
        for keys in sets:
            mask = _mask(columns, keys)
            for (m, group), _ in per_group.items():
                if m == mask:
                    out[keys][tuple(group[columns.index(k)] for k in keys)] = np.full(len(qs), np.nan)
        for (mask, group, _), ranks in wanted.items():
            cells = sorted(values[(mask, group, _)])
            cumulative = np.cumsum([n for _, n in cells])
            keys = next(k for k in sets if _mask(columns, k) == mask)
            for j, rank in ranks:
                us = cells[int(np.searchsorted(cumulative, rank, side="right"))][0]
                out[keys][tuple(group[columns.index(k)] for k in keys)][j] = us / 1000.0
        return out

    def close(self) -> None:
        self.con.close()
