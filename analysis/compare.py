"""Compare a candidate run with a baseline: is it slower, and is that more than noise?

Per endpoint (and for all requests together) the p50, p95 and p99 of the two
raw logs are compared, and the relative change gets a bootstrap interval:

    change = candidate percentile / base percentile - 1

**regression** when the interval's lower bound exceeds `tolerance` (the
candidate is slower by more than the tolerance even in the most favourable
case), **improvement** when its upper bound is below -tolerance, **noise**
otherwise. An endpoint with fewer than MIN_SAMPLES requests in either run is
"too few samples" and never a regression. "All requests" leaves out the
pseudo-requests (`TASK scrape completion`), as the report's aggregate does.

**Block bootstrap over time.** Latencies in a load test are autocorrelated: a
warm-up, a GC pause, a noisy neighbour or a cache refill makes a stretch of
seconds slow together. Resampling single requests as if independent gives
intervals far too narrow, and one slow stretch in one run reads as a
regression. So each run is cut into consecutive blocks of BLOCK_S seconds of its
load window (shorter, so that there are at least MIN_BLOCKS, for short runs);
a replicate draws as many blocks with replacement and takes the percentile of
the pooled requests of the drawn blocks. Correlation within a block is kept;
what the interval then says is how much the percentile moves with which
stretches of time a run happened to contain.

Computed without pooling: every response time falls in a bin of relative width
at most BIN_WIDTH on a fixed grid, each endpoint gets a (block × bin) count
matrix, and a replicate's pooled histogram is its block multiplicities (one
multinomial draw) times that matrix, a single matrix product for all
replicates. Its nearest-rank quantile is the bin where the cumulative count
reaches the rank, valued at the mean response time observed in that bin (both
runs together, so base and candidate share the values): within half a bin,
BIN_WIDTH / 2, of the exact replicate, far below any tolerance. The point
estimates (base, candidate, change) are exact.

The grid is integer arithmetic on integer microseconds (`latency_bins`: the
value itself below 1,024 µs, else its top 10 bits and its magnitude), so the
out-of-core engine (DuckDB) and the in-memory one put every request in the
same bin, and the counts and microsecond sums per (block, bin) cell, which is
all a run is reduced to here (`Samples`), are the same integers: the two
engines give the same comparison to the last digit.

Throughput uses the same replicates: requests in the drawn blocks over their
duration. A Poisson interval over the whole run would assume independent
arrivals too; the per-block counts carry the real ramp and burst variance. A
throughput *drop* beyond the tolerance is a regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.latency_bins import latency_bin_sql, latency_bins
from analysis.load import AGGREGATED, RunData, RunDirError
from analysis.percentiles import PERCENTILE_METHOD, PERCENTILES, nearest_rank_index
from analysis.raw_query import MICROS, RawQuery
from analysis.raw_stats import endpoint_groups, micros, real_requests
from analysis.runstats import PSEUDO_REQUEST_TYPES
from analysis.streamed_stats import REAL, open_query
from analysis.window import Window, load_window
from foundation import rundir

PERCENTILE_METRICS = ("p50", "p95", "p99")
METRICS = (*PERCENTILE_METRICS, "rps")
REGRESSION, IMPROVEMENT, NOISE, TOO_FEW = "regression", "improvement", "noise", "too few samples"
MIN_SAMPLES = 30
DEFAULT_TOLERANCE = 0.05
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
BLOCK_S = 10.0         # block length: a burst, pause or refill shorter than this stays within one block
MIN_BLOCKS = 20        # short runs get shorter blocks, so that there are enough blocks to resample


@dataclass
class Samples:
    """One label's requests in one run, reduced to what the comparison reads.

    The exact nearest-rank PERCENTILE_METRICS, and the (block, latency bin)
    cells that hold requests, each with its request count and the sum of their
    response times in integer microseconds.
    """

    n: int
    quantiles: np.ndarray
    block: np.ndarray
    bin: np.ndarray
    count: np.ndarray
    micros: np.ndarray


@dataclass
class RunSamples:
    """One run, blocked: per-label samples plus the blocks' durations (the last one may be shorter)."""

    labels: dict[str, Samples]
    block_s: float
    durations: np.ndarray


def block_length(duration_s: float) -> float:
    """BLOCK_S, or shorter so that a run has at least MIN_BLOCKS blocks to resample."""
    return min(BLOCK_S, duration_s / MIN_BLOCKS)


def exact_quantiles(rt: np.ndarray) -> np.ndarray:
    """The nearest-rank PERCENTILE_METRICS of some response times (NaN for none)."""
    qs = tuple(PERCENTILES[m] for m in PERCENTILE_METRICS)
    if not rt.size:
        return np.full(len(qs), np.nan)
    ranks = [nearest_rank_index(rt.size, q) for q in qs]
    return np.partition(rt, sorted(set(ranks)))[ranks]


def samples_of(rt: np.ndarray, block: np.ndarray) -> Samples:
    """One label's Samples from its response times and their blocks (the in-memory engine)."""
    us = micros(rt).astype(np.int64)
    cells, index = np.unique(block.astype(np.int64) << 32 | latency_bins(us), return_inverse=True)
    return Samples(
        n=int(rt.size), quantiles=exact_quantiles(rt), block=cells >> 32, bin=cells & 0xFFFFFFFF,
        count=np.bincount(index, minlength=cells.size).astype(np.float64),
        micros=np.bincount(index, weights=us.astype(np.float64), minlength=cells.size),
    )


def block_codes(ts: np.ndarray, start: float, block_s: float, nblocks: int) -> np.ndarray:
    return np.clip(np.floor((ts - start) / block_s), 0, nblocks - 1).astype(np.int32)


def pooled(parts: list[Samples], quantiles: np.ndarray) -> Samples:
    """Several labels' samples as one (AGGREGATED): their cells added up, with the pooled rows' exact quantiles.

    Every request is in exactly one endpoint's cells, in the same (block, bin)
    as in the pool's, so these are the pool's own counts and microsecond sums.
    """
    if not parts:
        return Samples(0, quantiles, *(np.zeros(0, np.int64),) * 2, *(np.zeros(0),) * 2)
    keys = np.concatenate([part.block.astype(np.int64) << 32 | part.bin.astype(np.int64) for part in parts])
    cells, index = np.unique(keys, return_inverse=True)
    return Samples(sum(part.n for part in parts), quantiles, cells >> 32, cells & 0xFFFFFFFF,
                   np.bincount(index, weights=np.concatenate([part.count for part in parts]), minlength=cells.size),
                   np.bincount(index, weights=np.concatenate([part.micros for part in parts]), minlength=cells.size))


def _real(labels: dict[str, Samples]) -> list[Samples]:
    return [samples for label, samples in labels.items() if label.split(" ", 1)[0] not in PSEUDO_REQUEST_TYPES]


def _memory_samples(data: RunData, start: float, block_s: float, nblocks: int) -> dict[str, Samples]:
    """Per label (endpoint, plus AGGREGATED of the requests only) from the raw log in memory."""
    log = data.requests
    rt = log["rt_ms"].to_numpy(dtype=np.float64)
    block = block_codes(log["ts"].to_numpy(), start, block_s, nblocks)
    codes, labels = endpoint_groups(log)
    order = np.argsort(codes, kind="stable")
    out: dict[str, Samples] = {}
    first = 0
    for (name, method), count in zip(labels, np.bincount(codes, minlength=len(labels))):
        index = order[first:first + count]
        out[f"{method} {name}"] = samples_of(rt[index], block[index])
        first += count
    out[AGGREGATED] = pooled(_real(out), exact_quantiles(rt[real_requests(log)]))
    return out


def _cells(query: RawQuery, source: str, where: str, params: list[Any]) -> dict[str, np.ndarray]:
    """(code, block, bin) cells of the rows of `source` (with a `code` column) that `where` selects:
    request count `n` and integer-microsecond sum `micros`, ordered by code (in numpy: cheaper than SQL's sort)."""
    cells = query.arrays(
        f"SELECT code, least(greatest(floor((ts - ?) / ?), 0), ?)::INTEGER AS block, {latency_bin_sql('us')} AS bin, "
        f"count(*) AS n, sum(us) AS micros FROM (SELECT ts, {MICROS} AS us, code FROM {source} WHERE {where}) "
        "GROUP BY ALL", params)
    order = np.argsort(cells["code"], kind="stable")
    return {column: values[order] for column, values in cells.items()}


def _streamed_samples(data: RunData, start: float, block_s: float, nblocks: int) -> dict[str, Samples]:
    """The same Samples from DuckDB: grouped (label, block, bin) cells come back, never the rows."""
    qs = tuple(PERCENTILES[m] for m in PERCENTILE_METRICS)
    blocks = [float(start), float(block_s), nblocks - 1]
    query = open_query(data)
    try:
        sets = query.figures_by_sets((("type", "name"), (REAL,)), qs)
        by_endpoint, total = sets[("type", "name")], sets[(REAL,)].only(lambda key: key[0])
        endpoints = by_endpoint.keys
        if endpoints:
            codes = " UNION ALL ".join("SELECT ? AS type, ? AS name, ? AS code" for _ in endpoints)
            by_code = _cells(query, f"raw JOIN ({codes}) USING (type, name)", "TRUE",
                             [*blocks, *(v for i, (kind, name) in enumerate(endpoints) for v in (kind, name, i))])
    finally:
        query.close()
    out: dict[str, Samples] = {}
    if endpoints:
        bounds = np.searchsorted(by_code["code"], np.arange(len(endpoints) + 1))
        for i, (kind, name) in enumerate(endpoints):
            part = slice(bounds[i], bounds[i + 1])
            out[f"{kind} {name}"] = Samples(int(by_endpoint.requests[i]), by_endpoint.quantiles[i],
                                            by_code["block"][part], by_code["bin"][part],
                                            by_code["n"][part].astype(np.float64),
                                            by_code["micros"][part].astype(np.float64))
    out[AGGREGATED] = pooled(_real(out), total.quantiles[0] if total.keys else np.full(len(qs), np.nan))
    return out


def run_samples(data: RunData, window: Window) -> RunSamples:
    """Split a run's raw log by endpoint (plus AGGREGATED, requests only) into blocks and bins."""
    assert window.start is not None and window.duration_s
    duration_s = window.duration_s
    block_s = block_length(duration_s)
    nblocks = max(int(np.ceil(duration_s / block_s)), 1)
    samples = _memory_samples if data.requests is not None else _streamed_samples
    durations = np.minimum(block_s, duration_s - np.arange(nblocks) * block_s)
    return RunSamples(samples(data, window.start, block_s, nblocks), block_s, durations)


def block_weights(nblocks: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each block is drawn in each replicate: (resamples, nblocks), rows summing to nblocks."""
    return rng.multinomial(nblocks, np.full(nblocks, 1 / nblocks), size=resamples).astype(np.float64)


def _bin_values(base: Samples, cand: Samples, low: int, nbins: int) -> np.ndarray:
    """The mean observed response time in each bin, over both runs (NaN where none): exact integer sums."""
    counts = np.zeros(nbins)
    sums = np.zeros(nbins)
    for side in (base, cand):
        counts += np.bincount(side.bin - low, weights=side.count, minlength=nbins)
        sums += np.bincount(side.bin - low, weights=side.micros, minlength=nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / 1000.0) / counts


def block_replicates(samples: Samples, weights: np.ndarray, low: int, values: np.ndarray,
                     qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Block-bootstrap replicates of the nearest-rank quantiles `qs` (resamples, len(qs)), NaN where a
    replicate drew no request of this label; and each replicate's request count (resamples,)."""
    nblocks, nbins = weights.shape[1], values.size
    matrix = np.bincount(samples.block.astype(np.int64) * nbins + (samples.bin - low), weights=samples.count,
                         minlength=nblocks * nbins).reshape(nblocks, nbins)
    cumulative = np.cumsum(weights @ matrix, axis=1)
    n = cumulative[:, -1]
    out = np.full((weights.shape[0], len(qs)), np.nan)
    for j, q in enumerate(qs):
        rank = np.clip(np.ceil(n * q), 1, None)  # nearest rank, 1-based (nearest_rank_index + 1)
        found = np.minimum((cumulative < rank[:, None] - 0.5).sum(axis=1), nbins - 1)
        out[:, j] = np.where(n > 0, values[found], np.nan)
    return out, n


def _flag(low: float, high: float, tolerance: float, higher_is_worse: bool) -> str:
    worse, better = (low > tolerance, high < -tolerance) if higher_is_worse else (high < -tolerance, low > tolerance)
    return REGRESSION if worse else IMPROVEMENT if better else NOISE


def _entry(b: float, c: float) -> dict[str, Any]:
    return {"base": b, "candidate": c, "change": c / b - 1 if b > 0 else None, "ci_low": None, "ci_high": None,
            "flag": TOO_FEW}


def _interval(entry: dict[str, Any], ratio: np.ndarray, confidence: float, tolerance: float,
              higher_is_worse: bool) -> dict[str, Any]:
    """Fill the interval and flag from the replicates' ratios (candidate / base); NaN replicates drew nothing."""
    ratio = ratio[np.isfinite(ratio)]
    if ratio.size:
        alpha = (1 - confidence) / 2
        low, high = np.quantile(ratio - 1, [alpha, 1 - alpha])
        entry.update(ci_low=float(low), ci_high=float(high), flag=_flag(low, high, tolerance, higher_is_worse))
    return entry


def _compare_label(base: Samples, cand: Samples, weights: tuple[np.ndarray, np.ndarray],
                   durations: tuple[np.ndarray, np.ndarray], tolerance: float,
                   confidence: float) -> dict[str, Any]:
    """One row: p50/p95/p99 and rps, point estimates exact, intervals from the block bootstrap."""
    qs = tuple(PERCENTILES[m] for m in PERCENTILE_METRICS)
    row: dict[str, Any] = {}
    enough = base.n >= MIN_SAMPLES and cand.n >= MIN_SAMPLES
    if enough:
        low = int(min(base.bin.min(), cand.bin.min()))
        nbins = int(max(base.bin.max(), cand.bin.max())) - low + 1
        values = _bin_values(base, cand, low, nbins)
        (boot_b, n_b), (boot_c, n_c) = (block_replicates(side, w, low, values, qs)
                                        for side, w in zip((base, cand), weights))
    for j, metric in enumerate(PERCENTILE_METRICS):
        b, c = float(base.quantiles[j]), float(cand.quantiles[j])
        row[metric] = entry = _entry(b, c)
        if enough and b > 0:
            with np.errstate(invalid="ignore", divide="ignore"):
                _interval(entry, boot_c[:, j] / boot_b[:, j], confidence, tolerance, higher_is_worse=True)
    rates = [side.n / d.sum() for side, d in zip((base, cand), durations)]
    row["rps"] = entry = _entry(*rates)
    if enough:
        boot_rate_b = n_b / (weights[0] @ durations[0])
        boot_rate_c = n_c / (weights[1] @ durations[1])
        _interval(entry, boot_rate_c / boot_rate_b, confidence, tolerance, higher_is_worse=False)
    return row


def _raw(data: RunData) -> None:
    if data.requests is None and data.raw_log is None:
        raise RunDirError(f"{Path(data.source)} has no raw request log ({rundir.SEGMENTS_DIR}/, "
                          f"{rundir.PARQUET_REQUEST_LOG.format(worker='*')} or {rundir.REQUEST_LOG}): "
                          "compare judges noise from raw samples")


def compare(base: RunData, candidate: RunData, *, tolerance: float = DEFAULT_TOLERANCE,
            confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """The comparison as one JSON-able structure: rows per endpoint, regressions named."""
    runs = []
    for data in (base, candidate):
        _raw(data)
        window = load_window(data)
        if not window.duration_s:
            raise RunDirError(f"{data.source}: cannot tell the load window (run.json start/end or two requests needed)")
        runs.append(run_samples(data, window))
    rng = np.random.default_rng(seed)
    weights = tuple(block_weights(run.durations.size, resamples, rng) for run in runs)
    durations = (runs[0].durations, runs[1].durations)
    base_samples, cand_samples = runs[0].labels, runs[1].labels
    common = [label for label in base_samples if label in cand_samples and label != AGGREGATED]
    rows = []
    for label in [*sorted(common), AGGREGATED]:
        b, c = base_samples[label], cand_samples[label]
        rows.append({"label": label, "base_requests": b.n, "candidate_requests": c.n,
                     **_compare_label(b, c, weights, durations, tolerance, confidence)})
    regressions = [
        f"{row['label']} {metric} {row[metric]['change'] * 100:+.1f} % "
        f"(interval {row[metric]['ci_low'] * 100:+.1f} % … {row[metric]['ci_high'] * 100:+.1f} %)"
        for row in rows for metric in METRICS if row[metric]["flag"] == REGRESSION
    ]
    return {
        "base": base.source,
        "candidate": candidate.source,
        "tolerance": tolerance,
        "confidence": confidence,
        "resamples": resamples,
        "bootstrap": f"blocks of {runs[0].block_s:g} s (base) and {runs[1].block_s:g} s (candidate), "
                     "resampled with replacement",
        "block_s": [runs[0].block_s, runs[1].block_s],
        "percentile_method": PERCENTILE_METHOD,
        "endpoints": rows,
        "regressions": regressions,
        "only_in_base": sorted(set(base_samples) - set(cand_samples)),
        "only_in_candidate": sorted(set(cand_samples) - set(base_samples)),
    }
