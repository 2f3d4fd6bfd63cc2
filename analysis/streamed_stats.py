"""Statistics from the raw request log out of core (the default engine): the same RunStats as analysis.raw_stats.

Each section is one DuckDB query over the log's files (analysis.raw_query):
endpoints, personas and all requests (`figures`), failures, the over-time
buckets, per-persona p95 over time, and the response-time counts of the
slowest endpoints for their CDFs. Only grouped rows come back, so memory
follows the groups, not the requests. The shared builders of analysis.raw_stats
turn them into the same rows, series and CDFs as the in-memory engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.counters import scrape_counts
from analysis.load import AGGREGATED, RunData
from analysis.percentiles import PERCENTILES
from analysis.raw_query import QUANTILE_OF, Groups, RawQuery, from_micros
from analysis.raw_stats import build_timeline, empty_aggregate, slowest_endpoints, timeline_buckets
from analysis.runstats import (
    DISTRIBUTION_BINS, PSEUDO_REQUEST_TYPES, SOURCE_RAW, TIMELINE_QUANTILES, Distribution, RunStats, Timeline, endpoint_row,
    locust_exceptions, pseudo_note,
)
from analysis.window import Window, iso_utc

# The over-time quantiles hold this many values at most at once (see _timeline).
TIMELINE_SLICE_ROWS = 8_000_000
REAL = "real"  # the view's column: not a PSEUDO_REQUEST_TYPES row (see open_query)


def open_query(data: RunData) -> RawQuery:
    """The run's raw log as SQL, its `real` column telling requests from PSEUDO_REQUEST_TYPES rows."""
    assert data.raw_log is not None
    return RawQuery(data.raw_log, PSEUDO_REQUEST_TYPES)


def group_rows(groups: Groups, labels: list[tuple[str, str | None]], duration_s: float | None) -> list[dict[str, Any]]:
    """endpoint_row for each group, `labels` giving each one's (name, method)."""
    return [
        endpoint_row(name, method, groups.requests[g], int(groups.failures[g]), duration_s, groups.quantiles[g],
                     groups.max_ms[g], (groups.micros[g] / 1000.0) / groups.requests[g])
        for g, (name, method) in enumerate(labels)
    ]


def span_figures(query: RawQuery, where: str, params: list[Any], duration_s: float | None
                 ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """All requests, endpoints and personas of the rows `where` selects: (aggregate, endpoints, personas).

    Pseudo-requests have endpoint rows but stay out of the aggregate and the
    personas, as in the whole-run figures. `duration_s` divides the counts into rps.
    """
    qs = tuple(PERCENTILES.values())
    sets = query.figures_by_sets((("type", "name"), (REAL,), (REAL, "persona")), qs, where, params)
    by_endpoint = sets[("type", "name")]
    endpoints = group_rows(by_endpoint, [(name, kind) for kind, name in by_endpoint.keys], duration_s)
    endpoints.sort(key=lambda row: (row["name"], row["method"]))
    total, by_persona = (sets[(REAL,)].only(lambda key: key[0]),
                         sets[(REAL, "persona")].only(lambda key: key[0]))
    by_persona.keys = [key[1:] for key in by_persona.keys]
    aggregate = group_rows(total, [(AGGREGATED, None)] * len(total.keys), duration_s)  # none: a span without requests
    personas = group_rows(by_persona, [(persona, None) for (persona,) in by_persona.keys], duration_s)
    for row in personas:
        del row["method"]
    personas.sort(key=lambda row: row["name"])
    return aggregate[0] if aggregate else empty_aggregate(duration_s), endpoints, personas


def compute_streamed(data: RunData, window: Window) -> RunStats:
    query = open_query(data)
    try:
        duration = window.duration_s
        aggregate, endpoints, personas = span_figures(query, "TRUE", [], duration)
        (pseudo,) = query.one(f"SELECT count(*) FROM raw WHERE NOT {REAL}")
        return RunStats(
            percentile_source=SOURCE_RAW,
            aggregate=aggregate,
            endpoints=endpoints,
            personas=personas,
            failures=_failures(query),
            exceptions=locust_exceptions(data),
            window=window,
            timeline=_timeline(query, window, aggregate["requests"], data),
            distributions=_distributions(query, endpoints),
            notes=[pseudo_note(pseudo)] if pseudo else [],
            scrape=scrape_counts(data.run),
        )
    finally:
        query.close()


def _failures(query: RawQuery) -> list[dict[str, Any]]:
    rows = query.con.execute(
        "SELECT error, type, name, count(*) AS n, min(ts), max(ts) FROM raw WHERE ok = 0 GROUP BY error, type, name "
        "ORDER BY n DESC, error, type, name").fetchall()
    return [{"error": error, "method": kind, "name": name, "occurrences": int(n), "first_seen": iso_utc(first),
             "last_seen": iso_utc(last)} for error, kind, name, n, first, last in rows]


def _bucket(window: Window, bucket: float, nbuckets: int) -> tuple[str, list[Any]]:
    assert window.start is not None
    return "least(greatest(floor((ts - ?) / ?), 0), ?) :: INTEGER", [float(window.start), float(bucket), nbuckets - 1]


def _timeline(query: RawQuery, window: Window, requests: int, data: RunData) -> Timeline | None:
    """Counts and TIMELINE_QUANTILES per bucket, and each persona's p95 per bucket.

    DuckDB's `quantile_disc` holds every value it is given, so the buckets are
    taken a slice of time at a time, TIMELINE_SLICE_ROWS requests at most
    (Parquet's row-group statistics on ts skip the rest of the files).
    """
    buckets = timeline_buckets(window, requests)
    if buckets is None:
        return None
    bucket, nbuckets = buckets
    assert window.start is not None
    expr, params = _bucket(window, bucket, nbuckets)
    qs = tuple(PERCENTILES[k] for k in TIMELINE_QUANTILES)
    fractions = ", ".join("?::DOUBLE" for _ in qs)
    counts, fails = np.zeros(nbuckets, np.int64), np.zeros(nbuckets, np.int64)
    quantiles = np.full((nbuckets, len(qs)), np.nan)
    p95 = TIMELINE_QUANTILES.index("p95")
    by_persona: dict[str, np.ndarray] = {}
    per_slice = max(int(nbuckets * TIMELINE_SLICE_ROWS / max(requests, 1)), 1)
    for low in range(0, nbuckets, per_slice):
        high = min(low + per_slice, nbuckets)
        # the rows of buckets [low, high): by their bucket, with a ts range one bucket wider that prunes files
        near = [window.start + (low - 1) * bucket if low else -np.inf,
                window.start + (high + 1) * bucket if high < nbuckets else np.inf]
        got = query.arrays(
            f"SELECT persona, b, GROUPING(persona) AS everyone, count(*) AS n, count(*) FILTER (WHERE ok = 0) AS failed, "
            f"quantile_disc({QUANTILE_OF}, [{fractions}]) AS q FROM (SELECT persona, {expr} AS b, rt, ok FROM raw "
            f"WHERE {REAL} AND ts >= ? AND ts < ?) WHERE b >= ? AND b < ? GROUP BY GROUPING SETS ((b), (persona, b))",
            [*qs, *params, *near, low, high])
        everyone = got["everyone"] == 1
        index = got["b"][everyone].astype(np.int64)
        counts[index], fails[index] = got["n"][everyone], got["failed"][everyone]
        if index.size:
            quantiles[index] = from_micros([list(q) for q in got["q"][everyone]])
        for name, b, q in zip(got["persona"][~everyone], got["b"][~everyone], got["q"][~everyone]):
            if name:
                by_persona.setdefault(str(name), np.full(nbuckets, np.nan))[int(b)] = from_micros(q[p95])
    return build_timeline(window, bucket, counts, fails, quantiles, data.history, dict(sorted(by_persona.items())))


def _distributions(query: RawQuery, endpoints: list[dict[str, Any]]) -> list[Distribution]:
    """The slowest endpoints' CDFs, binned in SQL on the very edges numpy's `binned_cdfs` would use.

    A row's bin is numpy's searchsorted(edges, rt, "left"): the count of edges
    below rt. The logarithm only guesses it; one comparison with the exact edge
    on each side (a join with the edges' table) corrects the guess, so the bins
    are numpy's to the row.
    """
    chosen = slowest_endpoints(endpoints)
    if not chosen:
        return []
    pairs = [label.split(" ", 1) for label in chosen]
    values = " UNION ALL ".join("SELECT ? AS type, ? AS name, ? AS pos" for _ in pairs)
    of_chosen = f"raw JOIN ({values}) USING (type, name)"
    chosen_params = [v for i, (kind, name) in enumerate(pairs) for v in (kind, name, i)]
    lowest, highest = query.one(f"SELECT min(rt), max(rt) FROM {of_chosen}", chosen_params)
    low = max(float(lowest), 0.01)
    high = max(float(highest), low * 1.01)
    edges = np.geomspace(low, high, DISTRIBUTION_BINS + 1)
    bins = DISTRIBUTION_BINS
    # bin k holds (edges[k-1], edges[k]]: its lower and upper edge, -inf and +inf past the ends
    lower = [-np.inf, *edges.tolist()]
    upper = [*edges.tolist(), np.inf]
    guess = f"CAST(least(greatest(ceil(ln(greatest(rt, 1e-300) / ?) / ln(? / ?) * {bins}), 0), {bins + 1}) AS INTEGER)"
    got = query.arrays(
        f"WITH edge AS (SELECT unnest(?::INTEGER[]) AS k, unnest(?::DOUBLE[]) AS lo, unnest(?::DOUBLE[]) AS hi) "
        f"SELECT pos, least(CASE WHEN rt > hi THEN k + 1 WHEN rt <= lo THEN k - 1 ELSE k END, {bins}) AS bin, "
        f"count(*) AS n FROM (SELECT pos, rt, {guess} AS k FROM {of_chosen}) JOIN edge USING (k) GROUP BY ALL",
        [list(range(bins + 2)), lower, upper, low, high, low, *chosen_params])
    counts = np.zeros((len(chosen), bins + 1))
    np.add.at(counts, (got["pos"].astype(np.int64), got["bin"].astype(np.int64)), got["n"].astype(np.float64))
    return [Distribution(label, edges, np.cumsum(counts[i]) / counts[i].sum()) for i, label in enumerate(chosen)]
