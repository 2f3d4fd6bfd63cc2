"""Statistics from the raw request log in memory: exact percentiles per endpoint, persona, aggregate and over time.

The in-memory engine (`--engine memory`): the whole log as one DataFrame. The
out-of-core engine (analysis.streamed_stats) computes the same figures with
DuckDB and must agree to the last digit, so both take means over integer
microseconds (`micros`) and time buckets as floor((ts - start) / width).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.counters import scrape_counts
from analysis.load import AGGREGATED, RunData
from analysis.percentiles import PERCENTILES, code_dtype, grouped_quantiles
from analysis.runstats import (
    DISTRIBUTION_BINS, DISTRIBUTION_ENDPOINTS, PSEUDO_REQUEST_TYPES, SOURCE_RAW, TIMELINE_QUANTILES, Distribution,
    RunStats, Timeline, endpoint_row, locust_exceptions, pseudo_note,
)

EMPTY_AGGREGATE_QUANTILES = np.full(len(PERCENTILES), np.nan)
from analysis.window import Window, iso_utc


# Over-time buckets: the smallest of these widths (seconds) giving at most
# MAX_BUCKETS points and, on average, at least MIN_BUCKET_SAMPLES requests per
# bucket, so a busy 1-minute CI run is drawn per second, an hour per 10 s, and a
# trickle of 5 requests/s per 5 s: a p95 over fewer than 20 samples is just the max.
BUCKET_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MAX_BUCKETS = 600
MIN_BUCKET_SAMPLES = 20

def real_requests(log: pd.DataFrame) -> np.ndarray:
    """True for each row of the raw log that is a request the backend served (not a PSEUDO_REQUEST_TYPES row)."""
    types = log["type"].cat
    pseudo = [code for code, name in enumerate(types.categories) if name in PSEUDO_REQUEST_TYPES]
    return ~np.isin(types.codes.to_numpy(), pseudo)


def micros(rt: np.ndarray) -> np.ndarray:
    """Response times (ms, 3 decimals) as integer microseconds, in float64: their sums are exact in any order."""
    return np.rint(rt * 1000.0)


def bucket_codes(ts: np.ndarray, start: float, width: float, nbuckets: int) -> np.ndarray:
    """Each start time's bucket of `width` seconds since `start`, clipped into [0, nbuckets)."""
    return np.clip(np.floor((ts - start) / width), 0, nbuckets - 1).astype(code_dtype(nbuckets))


def _group_rows(rt: np.ndarray, failed: np.ndarray, codes: np.ndarray, labels: list[tuple[str, str | None]],
                duration_s: float | None) -> list[dict[str, Any]]:
    ngroups = len(labels)
    counts = np.bincount(codes, minlength=ngroups)
    fails = np.bincount(codes[failed], minlength=ngroups)
    sums = np.bincount(codes, weights=micros(rt), minlength=ngroups) / 1000.0
    # the nearest-rank 100th percentile is the maximum: one partial sort gives both
    quantiles = grouped_quantiles(rt, codes, ngroups, (*PERCENTILES.values(), 1.0))
    return [
        endpoint_row(name, method, counts[g], int(fails[g]), duration_s, quantiles[g, :-1], quantiles[g, -1], sums[g] / counts[g])
        for g, (name, method) in enumerate(labels) if counts[g]
    ]


def endpoint_groups(log: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """One integer code per request for its endpoint (type, name), and each code's (name, type)."""
    types, names = log["type"].cat, log["name"].cat
    ntypes, nnames = len(types.categories), len(names.categories)
    combined = types.codes.to_numpy().astype(np.int64) * nnames + names.codes.to_numpy()
    present = np.flatnonzero(np.bincount(combined, minlength=ntypes * nnames))
    lookup = np.full(ntypes * nnames, -1, code_dtype(present.size))
    lookup[present] = np.arange(present.size)
    labels = [(str(names.categories[p % nnames]), str(types.categories[p // nnames])) for p in present]
    return lookup[combined], labels


def raw_figures(log: pd.DataFrame, duration_s: float | None
                ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """All requests, endpoints and personas of these rows: (aggregate, endpoints, personas), rps over duration_s.

    Pseudo-requests (PSEUDO_REQUEST_TYPES) have endpoint rows and stay out of the aggregate and the personas.
    """
    rt = log["rt_ms"].to_numpy(dtype=np.float64)
    failed = log["ok"].to_numpy() == 0
    endpoint_codes, endpoint_labels = endpoint_groups(log)
    endpoints = _group_rows(rt, failed, endpoint_codes, endpoint_labels, duration_s)
    endpoints.sort(key=lambda row: (row["name"], row["method"]))
    del endpoint_codes
    users = log["user"].cat
    user_codes = users.codes.to_numpy()
    real = real_requests(log)
    if not real.all():
        rt, failed, user_codes = rt[real], failed[real], user_codes[real]
    aggregate = _group_rows(rt, failed, np.zeros(rt.size, np.int8), [(AGGREGATED, None)], duration_s)
    personas = _group_rows(rt, failed, user_codes, [(str(c), None) for c in users.categories], duration_s)
    for row in personas:
        del row["method"]
    personas.sort(key=lambda row: row["name"])
    return aggregate[0] if aggregate else empty_aggregate(duration_s), endpoints, personas


def compute_raw(data: RunData, window: Window) -> RunStats:
    log = data.requests
    assert log is not None
    aggregate, endpoints, personas = raw_figures(log, window.duration_s)
    rt = log["rt_ms"].to_numpy(dtype=np.float64)
    endpoint_codes, endpoint_labels = endpoint_groups(log)
    distributions = _raw_distributions(rt, endpoint_codes, endpoint_labels, endpoints)
    del endpoint_codes

    # the timeline: requests only (PSEUDO_REQUEST_TYPES rows have their endpoint rows above)
    failed = log["ok"].to_numpy() == 0
    users = log["user"].cat
    user_codes, ts = users.codes.to_numpy(), log["ts"].to_numpy()
    real = real_requests(log)
    pseudo = int(real.size - np.count_nonzero(real))
    if pseudo:
        rt, failed, user_codes, ts = rt[real], failed[real], user_codes[real], ts[real]

    return RunStats(
        percentile_source=SOURCE_RAW,
        aggregate=aggregate,
        endpoints=endpoints,
        personas=personas,
        failures=_raw_failures(log),
        exceptions=locust_exceptions(data),
        window=window,
        timeline=_raw_timeline(ts, rt, failed, window, data.history, user_codes, list(users.categories)),
        distributions=distributions,
        notes=[pseudo_note(pseudo)] if pseudo else [],
        scrape=scrape_counts(data.run),
    )


def empty_aggregate(duration_s: float | None) -> dict[str, Any]:
    """The aggregate row of a log without requests."""
    return endpoint_row(AGGREGATED, None, 0, 0, duration_s, EMPTY_AGGREGATE_QUANTILES, np.nan, np.nan)


def _raw_failures(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Failures grouped by error message, then endpoint: what broke, where, how often, when; most frequent first."""
    failed = log[log["ok"] == 0]
    if failed.empty:
        return []
    grouped = failed.groupby(["error", "type", "name"], observed=True)["ts"].agg(["size", "min", "max"]).reset_index()
    grouped = grouped.astype({"error": str, "type": str, "name": str})
    grouped = grouped.sort_values(["size", "error", "type", "name"], ascending=[False, True, True, True])
    return [
        {"error": str(row.error), "method": str(row.type), "name": str(row.name), "occurrences": int(row.size),
         "first_seen": iso_utc(row.min), "last_seen": iso_utc(row.max)}
        for row in grouped.itertuples(index=False)
    ]


def choose_bucket(duration_s: float, requests: int) -> float:
    """The over-time bucket width for a window and its request count (see BUCKET_WIDTHS)."""
    for width in BUCKET_WIDTHS:
        if duration_s / width <= MAX_BUCKETS and (requests * width / duration_s >= MIN_BUCKET_SAMPLES
                                                  or width >= duration_s):
            return float(width)
    return float(BUCKET_WIDTHS[-1])


def _users_at(history: pd.DataFrame | None, times: np.ndarray) -> np.ndarray:
    """Locust's user count (from its history CSV) at each epoch time, NaN where unknown."""
    if history is None:
        return np.full(times.size, np.nan)
    total = history[history["Name"] == AGGREGATED]
    if total.empty:
        return np.full(times.size, np.nan)
    stamps = total["Timestamp"].to_numpy(dtype=float)
    counts = total["User Count"].to_numpy(dtype=float)
    index = np.searchsorted(stamps, times, side="right") - 1
    users = counts[np.clip(index, 0, None)]
    users[index < 0] = np.nan
    return users


def timeline_buckets(window: Window, requests: int) -> tuple[float, int] | None:
    """The over-time bucket width and count for a window and its request count; None when there is no timeline."""
    if not requests or window.start is None or window.end is None:
        return None
    duration = max(window.end - window.start, 1.0)
    bucket = choose_bucket(duration, requests)
    return bucket, max(int(math.ceil(duration / bucket)), 1)


def build_timeline(window: Window, bucket: float, counts: np.ndarray, fails: np.ndarray, quantiles: np.ndarray,
                   history: pd.DataFrame | None, by_persona: dict[str, np.ndarray]) -> Timeline:
    """The over-time series from per-bucket counts, failures and TIMELINE_QUANTILES (both engines)."""
    assert window.start is not None and window.end is not None
    duration = max(window.end - window.start, 1.0)
    starts = np.arange(counts.size) * bucket
    # the last bucket may be shorter than `bucket`: divide by its true width
    widths = np.minimum(bucket, duration - starts)
    frame = pd.DataFrame({
        "t_s": starts,
        "requests_per_s": counts / widths,
        "failures_per_s": fails / widths,
        **{f"{key}_ms": quantiles[:, i] for i, key in enumerate(TIMELINE_QUANTILES)},
        "users": _users_at(history, window.start + starts + widths),
    })
    return Timeline(frame, bucket, SOURCE_RAW, by_persona)


def _raw_timeline(ts: np.ndarray, rt: np.ndarray, failed: np.ndarray, window: Window,
                  history: pd.DataFrame | None, persona_codes: np.ndarray, personas: list[str]) -> Timeline | None:
    buckets = timeline_buckets(window, rt.size)
    if buckets is None:
        return None
    bucket, nbuckets = buckets
    assert window.start is not None
    codes = bucket_codes(ts, window.start, bucket, nbuckets)
    counts = np.bincount(codes, minlength=nbuckets)
    fails = np.bincount(codes[failed], minlength=nbuckets)
    quantiles = grouped_quantiles(rt, codes, nbuckets, tuple(PERCENTILES[k] for k in TIMELINE_QUANTILES))
    by_persona = {}
    for index, name in enumerate(personas):
        mine = persona_codes == index
        if name and mine.any():
            by_persona[name] = grouped_quantiles(rt[mine], codes[mine], nbuckets, (PERCENTILES["p95"],))[:, 0]
    return build_timeline(window, bucket, counts, fails, quantiles, history, dict(sorted(by_persona.items())))


def slowest_endpoints(endpoints: list[dict[str, Any]]) -> list[str]:
    """The DISTRIBUTION_ENDPOINTS endpoints with the highest p95, as "METHOD name" labels."""
    slowest = sorted((row for row in endpoints if row["p95_ms"] is not None), key=lambda r: -r["p95_ms"])
    return [f"{row['method']} {row['name']}" for row in slowest[:DISTRIBUTION_ENDPOINTS]]


def binned_cdfs(chosen: list[str], values: np.ndarray, position: np.ndarray) -> list[Distribution]:
    """Log-binned CDFs of response times `values`, each of the chosen endpoint at `position`."""
    low = max(float(values.min()), 0.01)
    high = max(float(values.max()), low * 1.01)
    edges = np.geomspace(low, high, DISTRIBUTION_BINS + 1)
    bins = np.clip(np.searchsorted(edges, values, side="left"), 0, DISTRIBUTION_BINS)
    counts = np.bincount(position * (DISTRIBUTION_BINS + 1) + bins, minlength=len(chosen) * (DISTRIBUTION_BINS + 1)).reshape(len(chosen), -1)
    return [Distribution(label, edges, np.cumsum(counts[i]) / counts[i].sum()) for i, label in enumerate(chosen)]


def _raw_distributions(rt: np.ndarray, codes: np.ndarray, labels: list[tuple[str, str | None]],
                       endpoints: list[dict[str, Any]]) -> list[Distribution]:
    """Binned CDFs (log-spaced bins) of the slowest endpoints: never plot millions of points."""
    chosen = slowest_endpoints(endpoints)
    index_of = {f"{method} {name}": g for g, (name, method) in enumerate(labels)}
    wanted = np.array([index_of[label] for label in chosen], dtype=np.int64)
    if not wanted.size:
        return []
    mask = np.isin(codes, wanted)
    position = np.full(int(codes.max()) + 1, -1, np.int64)
    position[wanted] = np.arange(wanted.size)
    return binned_cdfs(chosen, rt[mask], position[codes[mask]])
