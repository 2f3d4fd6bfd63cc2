"""Server-side evidence: the server/ snapshots of a run turned into figures over the run and over time.

`careerload.snapshots` writes, at the start, every N seconds and at the end of
a run, cumulative counters as the servers report them (formats in its
docstring). What counts is what happened between the first and the last
snapshot, so every figure here is built from per-interval increments:

- an increment is `current - previous`, except when the counter went down
  (Redis restarted, `pg_stat_statements_reset()`, a statement evicted and seen
  again): the counter started again from zero, so the increment is `current`;
- a statement first seen after the first snapshot counts whole (it ran for the
  first time during the run); one that disappears (evicted) stops counting;
- the run figure is the sum of the increments: last minus first when nothing
  was reset.

The result is one JSON-ready dict, the `server` section of summary.json (every
writer reads it from there); its `cache_hit_rate` and `db_mean_ms` are the run
figures thresholds are judged on (see `observe`). A missing, short or cut-off
snapshot file is a note in that section, never an error: the snapshots are
evidence beside the load, and a run whose snapshotter died mid-write still
deserves its report.

Cache hit rate. The application's own counters (`app_hits`/`app_misses`, from
the backend's /cache/metrics) are used when they were recorded, even when they
stayed at zero; Redis' keyspace counters only when they were not. Keyspace
counters count every read of anyone on that Redis, the snapshotter's own read
of the metrics hash included, so with the application's cache switched off
they would show a few misses that are not cache traffic. When the chosen
counters show no traffic at all (hits + misses = 0) there is no hit rate
(`hit_rate` null, reports say "cache disabled or no cache traffic"), and a
`cache_hit_rate` threshold observes 0.0 if the run served requests: a backend
that answered thousands of requests without a single cache lookup has its
cache switched off (the reference backend's `CACHE_ENABLED=false` skips the
cache without counting misses), which is exactly what that threshold is there
to catch.

Interval series (`series`) give each interval at the snapshot that closed it
(`ts`), with its length (`interval_s`); level series (connections, process) give
each snapshot as it was taken.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foundation import rundir
from foundation.rundir import (
    CONNECTION_COLUMNS, CONNECTIONS_CSV, PROCESS_COLUMNS, PROCESS_CSV, REDIS_COLUMNS, REDIS_CSV, STATEMENT_COLUMNS,
    STATEMENTS_CSV,
)
from analysis.spans import Interval, row_mask
from scenarios.thresholds import TOP_STATEMENTS, Threshold

# rss_growth_mb_per_h: MB are 10^6 bytes; a slope needs this many snapshots in the span.
RSS_GROWTH_MIN_SNAPSHOTS = 3

# Transaction control and session commands: not queries one can index or EXPLAIN, left out of the top list.
UTILITY = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|RESET|DISCARD|DEALLOCATE|PREPARE)\b",
                     re.IGNORECASE)
STATEMENT_COUNTERS = ("calls", "total_ms", "rows", "shared_blks_hit", "shared_blks_read")
CONNECTION_STATES = CONNECTION_COLUMNS[1:]
NO_CACHE_TRAFFIC = "cache disabled or no cache traffic: no hit rate"
SOURCE_APP = "application (/cache/metrics)"
SOURCE_KEYSPACE = "redis keyspace"


def read_snapshots(path: Path, columns: tuple[str, ...], notes: list[str]) -> pd.DataFrame | None:
    """One snapshot file as a frame sorted by ts, or None with a note saying why it is unusable.

    A file whose last line is cut off (the snapshotter was killed mid-write)
    loses that line; pg_statements.csv, where one snapshot is many rows, loses
    its whole last snapshot, since a partial one would look like statements evicted.
    """
    name = f"{rundir.SERVER_DIR}/{path.name}"
    if not path.is_file():
        return None
    raw = path.read_bytes()
    if not raw:
        notes.append(f"{name} is truncated: the file is empty.")
        return None
    truncated = not raw.endswith(b"\n")
    if truncated:
        raw = raw[:raw.rfind(b"\n") + 1]
    header = next(csv.reader(io.StringIO(raw[:raw.find(b"\n") + 1].decode("utf-8", errors="replace"))), [])
    missing = [column for column in columns if column not in header]
    if missing:
        notes.append(f"{name} is truncated or not a snapshot file: missing column(s) {', '.join(missing)}.")
        return None
    # queryids are 64-bit: exact as text, not as floats; an hour of statements repeats each text 720 times
    text = {"queryid": str, "query": "category", "pids": str}
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype={c: t for c, t in text.items() if c in columns})
    except (pd.errors.ParserError, ValueError):
        # cut inside a quoted query: the csv module reads what is whole, the cut record has too few fields
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"), newline="")))[1:]
        frame = pd.DataFrame([row for row in rows if len(row) == len(header)], columns=header)
    for column in columns:
        if column not in text:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.dropna(subset=["ts"]).sort_values("ts", kind="stable").reset_index(drop=True)
    if truncated:
        if path.name == STATEMENTS_CSV and len(frame):
            frame = frame[frame["ts"] < frame["ts"].max()].reset_index(drop=True)
        what = "the last, incomplete snapshot" if path.name == STATEMENTS_CSV else "that line"
        notes.append(f"{name} is truncated: its last line is cut off (no final newline); {what} was dropped.")
    snapshots = frame["ts"].nunique()
    if snapshots < 2:
        notes.append(f"{name} has {snapshots} snapshot{'s' if snapshots != 1 else ''}: "
                     "figures over the run need at least two.")
        return None
    return frame


def increments(values: np.ndarray) -> np.ndarray:
    """Per-interval increments of a cumulative counter (len - 1 of them); a drop means it restarted at 0."""
    step = np.diff(values)
    return np.where(step < 0, values[1:], step)


def _num(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _series(values: pd.Series | np.ndarray) -> list[float | None]:
    return [_num(v) for v in np.asarray(values, dtype=float)]


def _peak_mean(values: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float | None]:
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    if not keep.any():
        return {"peak": None, "mean": None}
    mean = (np.average(values[keep], weights=weights[keep]) if weights is not None and weights[keep].sum() > 0
            else values[keep].mean())
    return {"peak": float(values[keep].max()), "mean": float(mean)}


def _counter_pair(frame: pd.DataFrame, hits: str, misses: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(snapshot ts, hit increments, miss increments) over the snapshots where both were recorded.

    The increments are one fewer than the stamps: increment i is the interval ts[i] → ts[i + 1].
    """
    recorded = frame.dropna(subset=[hits, misses])
    if len(recorded) < 2:
        return None
    return (recorded["ts"].to_numpy(float), increments(recorded[hits].to_numpy(float)),
            increments(recorded[misses].to_numpy(float)))


def _rate(hits: float, misses: float) -> float | None:
    return hits / (hits + misses) if hits + misses > 0 else None


def cache_figures(frame: pd.DataFrame) -> dict[str, Any] | None:
    """Hit rate over the run and per interval, both counter sources, evictions, memory, ops/s."""
    app = _counter_pair(frame, "app_hits", "app_misses")
    keyspace = _counter_pair(frame, "keyspace_hits", "keyspace_misses")
    chosen = app or keyspace
    if chosen is None:
        return None
    ts, hit_steps, miss_steps = chosen
    hits, misses = float(hit_steps.sum()), float(miss_steps.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        interval_rate = np.where(hit_steps + miss_steps > 0, hit_steps / (hit_steps + miss_steps), np.nan)

    def totals(pair: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> dict[str, Any] | None:
        if pair is None:
            return None
        got, missed = float(pair[1].sum()), float(pair[2].sum())
        return {"hits": int(got), "misses": int(missed), "hit_rate": _rate(got, missed)}

    application = totals(app)
    if application is not None:
        errors = frame["app_errors"].dropna().to_numpy(float)
        application["errors"] = int(increments(errors).sum()) if errors.size >= 2 else None
    evicted = frame["evicted_keys"].dropna().to_numpy(float)
    return {
        "source": SOURCE_APP if app else SOURCE_KEYSPACE,
        "hits": int(hits),
        "misses": int(misses),
        "traffic": int(hits + misses),
        "hit_rate": _rate(hits, misses),
        "application": application,
        "keyspace": totals(keyspace),
        "evicted_keys": int(increments(evicted).sum()) if evicted.size >= 2 else None,
        "used_memory_bytes": _peak_mean(frame["used_memory"].to_numpy(float)),
        "ops_per_sec": _peak_mean(frame["ops_per_sec"].to_numpy(float)),
        "series": {"ts": _series(ts[1:]), "interval_s": _series(np.diff(ts)), "hits": _series(hit_steps),
                   "misses": _series(miss_steps), "hit_rate": _series(interval_rate)},
    }


def statement_increments(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Per-statement totals over the run, and each counter's increments per interval (ts × queryid).

    pg_stat_statements keeps one entry per (user, database, queryid, top level),
    so one queryid can have several rows in a snapshot: they are added up.
    """
    steps: dict[str, pd.DataFrame] = {}
    for counter in STATEMENT_COUNTERS:
        wide = frame.pivot_table(index="ts", columns="queryid", values=counter, aggfunc="sum")
        previous = wide.shift(1)
        step = wide - previous
        # new since the last snapshot, or restarted from zero: the whole current value happened in the interval
        step = step.mask(previous.isna() | (step < 0), wide).iloc[1:]
        steps[counter] = step
    totals = pd.DataFrame({counter: step.sum(axis=0) for counter, step in steps.items()})
    totals["query"] = frame.groupby("queryid")["query"].last().reindex(totals.index)
    totals.index.name = "queryid"
    totals = totals[totals["calls"] > 0].copy()
    totals["mean_ms"] = totals["total_ms"] / totals["calls"]
    blocks = totals["shared_blks_hit"] + totals["shared_blks_read"]
    totals["hit_ratio"] = (totals["shared_blks_hit"] / blocks).where(blocks > 0)
    return totals.reset_index(), steps


def top_statements(totals: pd.DataFrame, limit: int = TOP_STATEMENTS) -> pd.DataFrame:
    """The statements with the most execution time over the run, transaction control left out."""
    queries = totals[~totals["query"].astype(str).str.match(UTILITY)]
    return queries.sort_values("total_ms", ascending=False, kind="stable").head(limit).reset_index(drop=True)


def database_figures(frame: pd.DataFrame) -> dict[str, Any]:
    """Database time over the run and per interval; the top statements with calls, mean, rows, buffer hits."""
    totals, steps = statement_increments(frame)
    calls, total_ms = float(totals["calls"].sum()), float(totals["total_ms"].sum())
    interval_ts = steps["total_ms"].index.to_numpy(float)
    previous_ts = np.sort(frame["ts"].unique())[:-1]
    top = top_statements(totals)
    return {
        "statements": int(len(totals)),
        "calls": int(calls),
        "total_ms": total_ms,
        "mean_ms": total_ms / calls if calls > 0 else None,
        "top": [
            {"queryid": str(row.queryid), "query": str(row.query), "calls": int(row.calls),
             "total_ms": float(row.total_ms), "mean_ms": float(row.mean_ms), "rows": int(row.rows),
             "hit_ratio": _num(row.hit_ratio)}
            for row in top.itertuples(index=False)
        ],
        "series": {"ts": _series(interval_ts), "interval_s": _series(interval_ts - previous_ts),
                   "db_ms": _series(steps["total_ms"].sum(axis=1)), "calls": _series(steps["calls"].sum(axis=1))},
    }


def connection_figures(frame: pd.DataFrame) -> dict[str, Any]:
    """PostgreSQL connections of the database by state: peak and mean over the snapshots, and over time."""
    return {
        **{state: _peak_mean(frame[state].to_numpy(float)) for state in CONNECTION_STATES},
        "series": {"ts": _series(frame["ts"]), **{state: _series(frame[state]) for state in CONNECTION_STATES}},
    }


def process_figures(frame: pd.DataFrame) -> dict[str, Any]:
    """The backend's CPU (all its processes, 100 % = one core) and resident memory: peak, mean, over time.

    psutil's cpu_percent is the CPU used since the previous snapshot, and 0.0 on
    its first call: the first snapshot has no CPU figure, and the mean is
    weighted by each interval's length (a short final interval counts less).
    """
    ts = frame["ts"].to_numpy(float)
    cpu = frame["cpu_percent"].to_numpy(float, copy=True)
    cpu[0] = np.nan
    weights = np.concatenate([[0.0], np.diff(ts)])
    pids = {pid for value in frame["pids"].fillna("") for pid in str(value).split() if pid.isdigit()}
    return {
        "processes": len(pids),
        "cpu_percent": _peak_mean(cpu, weights),
        "rss_bytes": _peak_mean(frame["rss_bytes"].to_numpy(float)),
        "rss_growth_mb_per_h": growth_mb_per_h(ts, frame["rss_bytes"].to_numpy(float)),
        "series": {"ts": _series(ts), "cpu_percent": _series(cpu), "rss_bytes": _series(frame["rss_bytes"])},
    }


def growth_mb_per_h(ts: np.ndarray, rss: np.ndarray) -> float | None:
    """The least-squares slope of resident memory over time, MB per hour (None under RSS_GROWTH_MIN_SNAPSHOTS).

    A slope over every snapshot rather than last minus first: one garbage
    collection or allocation burst at either end does not decide the figure."""
    keep = np.isfinite(ts) & np.isfinite(rss)
    ts, rss = ts[keep], rss[keep]
    if ts.size < RSS_GROWTH_MIN_SNAPSHOTS or float(ts.max() - ts.min()) <= 0:
        return None
    slope = np.polyfit(ts - ts[0], rss, 1)[0]  # bytes per second
    return round(float(slope) * 3600 / 1e6, 3)


def rss_growth(process: dict[str, Any] | None, intervals: list[Interval] | None) -> tuple[float | None, str]:
    """rss_growth_mb_per_h over the run (intervals None) or a span of it, and why there is none."""
    if not process:
        return None, "no backend process snapshots (server/process.csv: only when the backend runs on the load machine)"
    ts = np.array([np.nan if t is None else t for t in process["series"]["ts"]], dtype=float)
    rss = np.array([np.nan if v is None else v for v in process["series"]["rss_bytes"]], dtype=float)
    if intervals is not None:
        mask = row_mask(ts, intervals)
        ts, rss = ts[mask], rss[mask]
    value = growth_mb_per_h(ts, rss)
    if value is None:
        return None, f"fewer than {RSS_GROWTH_MIN_SNAPSHOTS} memory snapshots in the span"
    return value, f"least-squares slope over {int(np.isfinite(rss).sum())} snapshots"


def read_server(run_dir: Path) -> dict[str, Any]:
    """The `server` section of summary.json from RUN_DIR/server/; {} when the run took no snapshots."""
    server = Path(run_dir) / rundir.SERVER_DIR
    if not server.is_dir():
        return {}
    notes: list[str] = []
    redis = read_snapshots(server / REDIS_CSV, REDIS_COLUMNS, notes)
    statements = read_snapshots(server / STATEMENTS_CSV, STATEMENT_COLUMNS, notes)
    connections = read_snapshots(server / CONNECTIONS_CSV, CONNECTION_COLUMNS, notes)
    process = read_snapshots(server / PROCESS_CSV, PROCESS_COLUMNS, notes)
    cache = cache_figures(redis) if redis is not None else None
    if redis is not None and cache is None:
        notes.append(f"{rundir.SERVER_DIR}/{REDIS_CSV} recorded no hit/miss counters in two snapshots: no cache figures.")
    database = database_figures(statements) if statements is not None else None
    for path, what in ((REDIS_CSV, "cache (Redis INFO, /cache/metrics)"),
                       (STATEMENTS_CSV, "pg_stat_statements"),
                       (CONNECTIONS_CSV, "database connection"),
                       (PROCESS_CSV, "backend process (only when the backend runs on the load machine)")):
        if not (server / path).is_file():
            notes.append(f"No {what} snapshots ({rundir.SERVER_DIR}/{path} is missing).")
    stamps = [frame["ts"] for frame in (redis, statements, connections, process) if frame is not None]
    window = None
    if stamps:
        every = pd.concat(stamps)
        window = {"first_ts": float(every.min()), "last_ts": float(every.max()),
                  "duration_s": float(every.max() - every.min())}
    return {
        "cache_hit_rate": cache["hit_rate"] if cache else None,
        "db_mean_ms": database["mean_ms"] if database else None,
        "snapshots": window,
        "cache": cache,
        "database": database,
        "connections": connection_figures(connections) if connections is not None else None,
        "process": process_figures(process) if process is not None else None,
        "notes": notes,
    }


def observe(threshold: Threshold, server: dict[str, Any], requests: int) -> tuple[float | None, str]:
    """The observed value of a server-side threshold, and a clause saying where it comes from or why none.

    cache_hit_rate: the run's hit rate; 0.0 when there was no cache traffic
    while requests were served (the cache is off, see the module docstring).
    db_mean_ms: `aggregate` is all statements' time over all their calls;
    `statement:top` the highest mean among the top statements by total time.
    """
    if threshold.scope_kind not in ("aggregate", "statement"):
        return None, f"{threshold.metric} is server-wide: scope {threshold.scope} does not apply"
    if threshold.metric == "cache_hit_rate":
        cache = server.get("cache")
        if not cache:
            return None, "no cache snapshots (server/redis.csv missing or with under two snapshots)"
        if cache["hit_rate"] is not None:
            return cache["hit_rate"], ""
        if requests > 0:
            return 0.0, (f"{NO_CACHE_TRAFFIC} from the {cache['source']} counters while {requests:,} requests "
                         "were served: counted as 0 %")
        return None, f"{NO_CACHE_TRAFFIC}, and no requests"
    database = server.get("database")
    if not database:
        return None, "no pg_stat_statements snapshots (server/pg_statements.csv missing or with under two snapshots)"
    if threshold.scope_kind == "aggregate":
        return database["mean_ms"], "" if database["mean_ms"] is not None else "no statements ran during the run"
    if not database["top"]:
        return None, "no statements ran during the run"
    slowest = max(database["top"], key=lambda row: row["mean_ms"])
    query = " ".join(slowest["query"].split())
    return slowest["mean_ms"], f"slowest of the top {len(database['top'])} by total time: {query[:80]}"
