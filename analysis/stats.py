"""Per-endpoint, per-persona, aggregate and over-time statistics.

Percentile definition (used everywhere, raw log and compare alike): the
**nearest-rank** percentile, numpy's ``method="inverted_cdf"`` (Hyndman & Fan
type 1): p95 is the smallest observed response time such that at least 95 % of
the requests took that long or less. It is always a latency that really
happened, and "p95 <= 500 ms" means exactly "at least 95 % of requests finished
within 500 ms", which is how a threshold reads.

From the raw request log the percentiles are exact. From Locust's CSVs they are
Locust's own: response times rounded to about two significant digits before
counting (`locust.stats.bucket_response_time`: 1 ms below 100 ms, 10 ms below
1 s, 100 ms below 10 s), so they can differ from the exact value by up to half
that step (5 % at most).

The aggregate ("all requests"), the per-persona totals and the over-time
series leave out pseudo-requests (PSEUDO_REQUEST_TYPES): the scraping persona's
`TASK scrape completion` is an end-to-end time of seconds spanning a POST and
its polls, fired for the record, not a request the backend served. Counted in,
it would add requests that never happened to requests/s and failures, and its
seconds would dominate the aggregate p95. It keeps its own endpoint row (its
percentiles are what a completion-time threshold judges). Rate-limited `(429)`
rows are real HTTP responses and stay in.

Throughput is requests divided by the load window (run.json start/end, else the
span of the raw log), the same window for every row so the rows add up.

All group statistics are computed with numpy on integer group codes (one stable
sort by group, then a partial sort per group for the ranks), which keeps an hour
of 10 M requests to a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import AGGREGATED, RunData

PERCENTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
PERCENTILE_METHOD = "nearest rank (numpy method='inverted_cdf')"
SOURCE_RAW = "raw request log"
SOURCE_CSV = "locust csv"
# Locust's CSV percentile column for each metric.
CSV_PERCENTILE_COLUMNS = {"p50": "50%", "p90": "90%", "p95": "95%", "p99": "99%"}
TIMELINE_QUANTILES = ("p50", "p95", "p99")
# Over-time buckets: the smallest of these widths (seconds) giving at most
# MAX_BUCKETS points and, on average, at least MIN_BUCKET_SAMPLES requests per
# bucket, so a busy 1-minute CI run is drawn per second, an hour per 10 s, and a
# trickle of 5 requests/s per 5 s: a p95 over fewer than 20 samples is just the max.
BUCKET_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MAX_BUCKETS = 600
MIN_BUCKET_SAMPLES = 20
# The latency distribution chart shows this many endpoints, the slowest by p95.
DISTRIBUTION_ENDPOINTS = 5
DISTRIBUTION_BINS = 300
# Request types that are not requests the backend served (see the module docstring).
PSEUDO_REQUEST_TYPES = ("TASK",)


def nearest_rank_index(n: int, q: float) -> int:
    """0-based index of the q-quantile in n sorted values, exactly as numpy's inverted_cdf computes it."""
    virtual = n * q - 1
    below = math.floor(virtual)
    index = below + (1 if virtual - below > 0 else 0)
    return min(max(index, 0), n - 1)


def _code_dtype(ngroups: int) -> type:
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


def _iso_to_epoch(value: Any) -> float | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Window:
    """The load window: where throughput's denominator and the time axis come from."""

    start: float | None     # epoch seconds
    end: float | None
    origin: str             # "run.json", "raw request log span", "locust history", "unknown"

    @property
    def duration_s(self) -> float | None:
        if self.start is None or self.end is None or self.end <= self.start:
            return None
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": None if self.start is None else _iso(self.start),
            "end": None if self.end is None else _iso(self.end),
            "duration_s": self.duration_s,
            "source": self.origin,
        }


def load_window(data: RunData) -> Window:
    """run.json start/end when present, else the raw log's span, else Locust's history span."""
    start, end = _iso_to_epoch(data.run.get("start")), _iso_to_epoch(data.run.get("end"))
    if start is not None and end is not None and end > start:
        return Window(start, end, "run.json")
    if data.requests is not None and len(data.requests):
        ts = data.requests["ts"].to_numpy()
        return Window(float(ts.min()), float(ts.max()), "raw request log span")
    if data.history is not None and len(data.history):
        stamps = data.history["Timestamp"].to_numpy(dtype=float)
        return Window(float(stamps.min()), float(stamps.max()), "locust history")
    return Window(None, None, "unknown")


@dataclass
class Timeline:
    """Over-time statistics, one row per bucket of `bucket_s` seconds since the window start."""

    frame: pd.DataFrame     # t_s, requests_per_s, failures_per_s, p50_ms, p95_ms, p99_ms, users
    bucket_s: float
    source: str             # SOURCE_RAW or SOURCE_CSV


@dataclass
class Distribution:
    """A latency CDF for one endpoint: response times (ms) and the fraction at or below each."""

    label: str
    x_ms: np.ndarray
    cdf: np.ndarray


@dataclass
class RunStats:
    """Everything computed from the data, before thresholds are applied."""

    percentile_source: str
    aggregate: dict[str, Any]
    endpoints: list[dict[str, Any]]
    personas: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    window: Window
    timeline: Timeline | None
    distributions: list[Distribution] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scrape: dict[str, Any] | None = None  # scrape_counts(run.json): dedup figures, None when no scrape finished


# run.json counters (locustfiles/scraping.py) behind the scraping figures.
SCRAPE_COUNTERS = {"tasks_done": "scrape tasks done", "jobs_scraped": "scrape jobs_scraped",
                   "jobs_added": "scrape jobs_added", "jobs_deduplicated": "scrape jobs_deduplicated"}


def scrape_counts(run: dict[str, Any]) -> dict[str, Any] | None:
    """The finished scrape tasks' job counts and the dedup rate (deduplicated / scraped), None without any.

    The counters are the backend's own per-task figures, summed by the scraping
    persona; only finished tasks count, so a rate covers exactly the jobs counted.
    """
    counters = run.get("counters") or {}
    if not counters.get(SCRAPE_COUNTERS["tasks_done"]):
        return None
    out: dict[str, Any] = {key: int(counters.get(name, 0)) for key, name in SCRAPE_COUNTERS.items()}
    out["dedup_rate"] = out["jobs_deduplicated"] / out["jobs_scraped"] if out["jobs_scraped"] else None
    return out


def real_requests(log: pd.DataFrame) -> np.ndarray:
    """True for each row of the raw log that is a request the backend served (not a PSEUDO_REQUEST_TYPES row)."""
    types = log["type"].cat
    pseudo = [code for code, name in enumerate(types.categories) if name in PSEUDO_REQUEST_TYPES]
    return ~np.isin(types.codes.to_numpy(), pseudo)


def _row(name: str, method: str | None, requests: int, failures: int, duration_s: float | None,
         quantiles: np.ndarray, max_ms: float, avg_ms: float, locust_rps: float | None = None) -> dict[str, Any]:
    def num(value: float) -> float | None:
        return None if value is None or not np.isfinite(value) else round(float(value), 3)

    rps = requests / duration_s if duration_s else locust_rps
    return {
        "name": name,
        "method": method,
        "requests": int(requests),
        "failures": int(failures),
        "failure_ratio": failures / requests if requests else None,
        "rps": num(rps) if rps is not None else None,
        **{f"{key}_ms": num(value) for key, value in zip(PERCENTILES, quantiles)},
        "max_ms": num(max_ms),
        "avg_ms": num(avg_ms),
    }


def _group_rows(rt: np.ndarray, failed: np.ndarray, codes: np.ndarray, labels: list[tuple[str, str | None]],
                duration_s: float | None) -> list[dict[str, Any]]:
    ngroups = len(labels)
    counts = np.bincount(codes, minlength=ngroups)
    fails = np.bincount(codes[failed], minlength=ngroups)
    sums = np.bincount(codes, weights=rt, minlength=ngroups)
    # the nearest-rank 100th percentile is the maximum: one partial sort gives both
    quantiles = grouped_quantiles(rt, codes, ngroups, (*PERCENTILES.values(), 1.0))
    return [
        _row(name, method, counts[g], int(fails[g]), duration_s, quantiles[g, :-1], quantiles[g, -1], sums[g] / counts[g])
        for g, (name, method) in enumerate(labels) if counts[g]
    ]


def endpoint_groups(log: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """One integer code per request for its endpoint (type, name), and each code's (name, type)."""
    types, names = log["type"].cat, log["name"].cat
    ntypes, nnames = len(types.categories), len(names.categories)
    combined = types.codes.to_numpy().astype(np.int64) * nnames + names.codes.to_numpy()
    present = np.flatnonzero(np.bincount(combined, minlength=ntypes * nnames))
    lookup = np.full(ntypes * nnames, -1, _code_dtype(present.size))
    lookup[present] = np.arange(present.size)
    labels = [(str(names.categories[p % nnames]), str(types.categories[p // nnames])) for p in present]
    return lookup[combined], labels


def _raw_stats(data: RunData, window: Window) -> RunStats:
    log = data.requests
    assert log is not None
    rt = log["rt_ms"].to_numpy(dtype=np.float64)
    failed = log["ok"].to_numpy() == 0
    duration = window.duration_s

    endpoint_codes, endpoint_labels = endpoint_groups(log)
    endpoints = _group_rows(rt, failed, endpoint_codes, endpoint_labels, duration)
    endpoints.sort(key=lambda row: (row["name"], row["method"]))
    distributions = _raw_distributions(rt, endpoint_codes, endpoint_labels, endpoints)
    del endpoint_codes

    # aggregate, personas and timeline: requests only (PSEUDO_REQUEST_TYPES rows have their endpoint rows above)
    users = log["user"].cat
    user_codes, ts = users.codes.to_numpy(), log["ts"].to_numpy()
    real = real_requests(log)
    pseudo = int(real.size - np.count_nonzero(real))
    if pseudo:
        rt, failed, user_codes, ts = rt[real], failed[real], user_codes[real], ts[real]
    aggregate = _group_rows(rt, failed, np.zeros(rt.size, np.int8), [(AGGREGATED, None)], duration)
    aggregate_row = aggregate[0] if aggregate else _row(AGGREGATED, None, 0, 0, duration, np.full(4, np.nan), np.nan, np.nan)

    personas = _group_rows(rt, failed, user_codes, [(str(c), None) for c in users.categories], duration)
    for row in personas:
        del row["method"]
    personas.sort(key=lambda row: row["name"])

    return RunStats(
        percentile_source=SOURCE_RAW,
        aggregate=aggregate_row,
        endpoints=endpoints,
        personas=personas,
        failures=_raw_failures(log),
        exceptions=_exceptions(data),
        window=window,
        timeline=_raw_timeline(ts, rt, failed, window, data.history),
        distributions=distributions,
        notes=[_pseudo_note(pseudo)] if pseudo else [],
        scrape=scrape_counts(data.run),
    )


def _pseudo_note(rows: int) -> str:
    return (f"{rows:,} {'/'.join(PSEUDO_REQUEST_TYPES)} rows (scrape completion times, not requests) have "
            "their own endpoint row and are left out of the aggregate, the persona totals and the over-time charts.")


def _raw_failures(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Failures grouped by error message, then endpoint: what broke, where, how often, when."""
    failed = log[log["ok"] == 0]
    if failed.empty:
        return []
    grouped = failed.groupby(["error", "type", "name"], observed=True)["ts"].agg(["size", "min", "max"]).reset_index()
    grouped = grouped.sort_values("size", ascending=False, kind="stable")
    return [
        {"error": str(row.error), "method": str(row.type), "name": str(row.name), "occurrences": int(row.size),
         "first_seen": _iso(row.min), "last_seen": _iso(row.max)}
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


def _raw_timeline(ts: np.ndarray, rt: np.ndarray, failed: np.ndarray, window: Window,
                  history: pd.DataFrame | None) -> Timeline | None:
    if not rt.size or window.start is None or window.end is None:
        return None
    duration = max(window.end - window.start, 1.0)
    bucket = choose_bucket(duration, rt.size)
    nbuckets = max(int(math.ceil(duration / bucket)), 1)
    codes = np.clip((ts - window.start) // bucket, 0, nbuckets - 1).astype(_code_dtype(nbuckets))
    counts = np.bincount(codes, minlength=nbuckets)
    fails = np.bincount(codes[failed], minlength=nbuckets)
    quantiles = grouped_quantiles(rt, codes, nbuckets, tuple(PERCENTILES[k] for k in TIMELINE_QUANTILES))
    starts = np.arange(nbuckets) * bucket
    # the last bucket may be shorter than `bucket`: divide by its true width
    widths = np.minimum(bucket, duration - starts)
    frame = pd.DataFrame({
        "t_s": starts,
        "requests_per_s": counts / widths,
        "failures_per_s": fails / widths,
        **{f"{key}_ms": quantiles[:, i] for i, key in enumerate(TIMELINE_QUANTILES)},
        "users": _users_at(history, window.start + starts + widths),
    })
    return Timeline(frame, bucket, SOURCE_RAW)


def _raw_distributions(rt: np.ndarray, codes: np.ndarray, labels: list[tuple[str, str | None]],
                       endpoints: list[dict[str, Any]]) -> list[Distribution]:
    """Binned CDFs (log-spaced bins) of the slowest endpoints: never plot millions of points."""
    slowest = sorted((row for row in endpoints if row["p95_ms"] is not None), key=lambda r: -r["p95_ms"])
    chosen = [f"{row['method']} {row['name']}" for row in slowest[:DISTRIBUTION_ENDPOINTS]]
    index_of = {f"{method} {name}": g for g, (name, method) in enumerate(labels)}
    wanted = np.array([index_of[label] for label in chosen], dtype=np.int64)
    if not wanted.size:
        return []
    mask = np.isin(codes, wanted)
    values, value_codes = rt[mask], codes[mask]
    low = max(float(values.min()), 0.01)
    high = max(float(values.max()), low * 1.01)
    edges = np.geomspace(low, high, DISTRIBUTION_BINS + 1)
    bins = np.clip(np.searchsorted(edges, values, side="left"), 0, DISTRIBUTION_BINS)
    position = np.full(int(codes.max()) + 1, -1, np.int64)
    position[wanted] = np.arange(wanted.size)
    counts = np.bincount(position[value_codes] * (DISTRIBUTION_BINS + 1) + bins,
                         minlength=wanted.size * (DISTRIBUTION_BINS + 1)).reshape(wanted.size, -1)
    out = []
    for i, label in enumerate(chosen):
        cdf = np.cumsum(counts[i]) / counts[i].sum()
        out.append(Distribution(label, edges, cdf))
    return out


def _exceptions(data: RunData) -> list[dict[str, Any]]:
    if data.exceptions is None:
        return []
    return [
        {"count": int(row["Count"]), "message": row["Message"], "traceback": row["Traceback"], "nodes": row["Nodes"]}
        for _, row in data.exceptions.iterrows()
    ]


def _csv_row(row: pd.Series, duration_s: float | None) -> dict[str, Any]:
    quantiles = np.array([float(row.get(CSV_PERCENTILE_COLUMNS[key], np.nan)) for key in PERCENTILES])
    method = row["Type"] or None
    return _row(row["Name"], method, int(row["Request Count"]), int(row["Failure Count"]), duration_s,
                quantiles, float(row["Max Response Time"]), float(row["Average Response Time"]),
                locust_rps=float(row["Requests/s"]))


def _csv_stats(data: RunData, window: Window) -> RunStats:
    stats = data.stats
    assert stats is not None
    duration = window.duration_s if window.origin == "run.json" else None
    rows = [_csv_row(row, duration) for _, row in stats.iterrows()]
    aggregate = next(row for row in rows if row["name"] == AGGREGATED and row["method"] is None)
    endpoints = sorted((row for row in rows if row is not aggregate), key=lambda r: (r["name"], r["method"] or ""))
    pseudo = [row for row in endpoints if row["method"] in PSEUDO_REQUEST_TYPES]
    if pseudo:
        aggregate = _csv_aggregate_of([row for row in endpoints if row["method"] not in PSEUDO_REQUEST_TYPES], duration)
    failures = [] if data.failures is None else [
        {"error": row["Error"], "method": row["Method"], "name": row["Name"], "occurrences": int(row["Occurrences"]),
         "first_seen": row.get("First Seen") or None, "last_seen": row.get("Last Seen") or None}
        for _, row in data.failures.sort_values("Occurrences", ascending=False, kind="stable").iterrows()
    ]
    notes = [
        "No raw request log: totals and percentiles come from Locust's final _stats.csv, which can lag the true "
        "totals by its last write interval, with response times rounded to about two significant digits.",
        "Per-persona totals need the raw request log (its user column); Locust's CSVs have none.",
    ]
    if duration is None:
        notes.append("No run.json load window: requests/s are Locust's own (requests over its first-to-last request span).")
    if pseudo:
        notes += [_pseudo_note(sum(row["requests"] for row in pseudo)),
                  "Locust's CSVs hold percentiles per row only, so without the raw request log the aggregate's "
                  "percentiles without those rows are unknown (a threshold on them has no data); Locust's "
                  "over-time series still include them."]
    return RunStats(
        percentile_source=SOURCE_CSV,
        aggregate=aggregate,
        endpoints=endpoints,
        personas=[],
        failures=failures,
        exceptions=_exceptions(data),
        window=window,
        timeline=_csv_timeline(data.history, window),
        distributions=_csv_distributions(stats, endpoints),
        notes=notes,
        scrape=scrape_counts(data.run),
    )


def _csv_aggregate_of(rows: list[dict[str, Any]], duration_s: float | None) -> dict[str, Any]:
    """An aggregate row summed from Locust's per-endpoint rows: counts, rates, mean and max exactly, percentiles unknown.

    Used when pseudo-request rows must be left out of Locust's Aggregated row,
    whose percentiles cannot be taken apart: unknown rather than wrong.
    """
    requests = sum(row["requests"] for row in rows)
    total_ms = sum((row["avg_ms"] or 0.0) * row["requests"] for row in rows)
    return _row(AGGREGATED, None, requests, sum(row["failures"] for row in rows), duration_s,
                np.full(len(PERCENTILES), np.nan), max((row["max_ms"] or 0.0 for row in rows), default=np.nan),
                total_ms / requests if requests else np.nan, locust_rps=sum(row["rps"] or 0.0 for row in rows))


def _csv_timeline(history: pd.DataFrame | None, window: Window) -> Timeline | None:
    """Locust's own time series (its Aggregated rows): current requests/s, failures/s, percentiles, users."""
    if history is None:
        return None
    total = history[history["Name"] == AGGREGATED].sort_values("Timestamp", kind="stable")
    if total.empty:
        return None
    stamps = total["Timestamp"].to_numpy(dtype=float)
    origin = window.start if window.start is not None else stamps[0]
    step = float(np.median(np.diff(stamps))) if stamps.size > 1 else 1.0
    frame = pd.DataFrame({
        "t_s": stamps - origin,
        "requests_per_s": total["Requests/s"].to_numpy(dtype=float),
        "failures_per_s": total["Failures/s"].to_numpy(dtype=float),
        **{f"{key}_ms": _history_percentile(total, key) for key in TIMELINE_QUANTILES},
        "users": total["User Count"].to_numpy(dtype=float),
    })
    return Timeline(frame, step, SOURCE_CSV)


def _history_percentile(total: pd.DataFrame, key: str) -> np.ndarray:
    """A percentile column of Locust's history; its 0 means "no recent samples" (Locust writes `... or 0`)."""
    column = CSV_PERCENTILE_COLUMNS[key]
    if column not in total:
        return np.full(len(total), np.nan)
    values = total[column].to_numpy(dtype=float)
    return np.where(values > 0, values, np.nan)


def _csv_distributions(stats: pd.DataFrame, endpoints: list[dict[str, Any]]) -> list[Distribution]:
    """The slowest endpoints' CDFs as Locust reports them: its percentile columns (50 % ... 100 %)."""
    columns = [c for c in stats.columns if c.endswith("%")]
    points = np.array([float(c.rstrip("%")) / 100 for c in columns])
    slowest = sorted((row for row in endpoints if row["p95_ms"] is not None), key=lambda r: -r["p95_ms"])
    out = []
    for row in slowest[:DISTRIBUTION_ENDPOINTS]:
        match = stats[(stats["Name"] == row["name"]) & (stats["Type"] == (row["method"] or ""))].iloc[0]
        out.append(Distribution(f"{row['method']} {row['name']}", match[columns].to_numpy(dtype=float), points))
    return out


def compute(data: RunData) -> RunStats:
    """Statistics from the raw log when there is one (exact), from Locust's CSVs otherwise."""
    window = load_window(data)
    if data.requests is not None:
        stats = _raw_stats(data, window)
        if data.requests.empty:
            stats.notes.append("The raw request log has no requests.")
        return stats
    return _csv_stats(data, window)
