"""Compare a candidate run with a baseline: is it slower, and is that more than noise?

Per endpoint (and for all requests together) the p50, p95 and p99 of the two
raw logs are compared, and the relative change gets a bootstrap interval:

    change = candidate percentile / base percentile - 1

**regression** when the interval's lower bound exceeds `tolerance` (the
candidate is slower by more than the tolerance even in the most favourable
case), **improvement** when its upper bound is below -tolerance, **noise**
otherwise. An endpoint with fewer than MIN_SAMPLES requests in either run is
"too few samples" and never a regression.

The bootstrap is exact and costs O(resamples) per percentile whatever the number
of requests: the nearest-rank q-quantile of a resample of size n drawn from n
sorted values is the value at index ceil(n·U) where U ~ Beta(r, n - r + 1) and r
is the quantile's rank (the r-th order statistic of n uniforms is Beta
distributed, and ceil(n·U) of a uniform is a uniform index). So each resample is
one Beta draw and one lookup instead of n draws and a sort.

Throughput is a rate of counts, so its interval comes from the Poisson model:
log(rate ratio) ± z·sqrt(1/N_base + 1/N_candidate). A throughput *drop* beyond
the tolerance is a regression.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from analysis.load import AGGREGATED, RunData, RunDirError, load_run_dir
from analysis.stats import PERCENTILES, endpoint_groups, load_window, nearest_rank_index
from careerload import rundir

PERCENTILE_METRICS = ("p50", "p95", "p99")
METRICS = (*PERCENTILE_METRICS, "rps")
REGRESSION, IMPROVEMENT, NOISE, TOO_FEW = "regression", "improvement", "noise", "too few samples"
FLAG_COLOURS = {REGRESSION: "#d62728", IMPROVEMENT: "#2ca02c", NOISE: "#9d9d9d", TOO_FEW: "#dddddd"}
FLAG_ICONS = {REGRESSION: "❌", IMPROVEMENT: "✅", NOISE: "➖", TOO_FEW: "·"}
MIN_SAMPLES = 30
DEFAULT_TOLERANCE = 0.05
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
COMPARISON_MD = "comparison.md"
COMPARISON_JSON = "comparison.json"
COMPARISON_CHART = "comparison.png"


def bootstrap_quantile(sorted_values: np.ndarray, q: float, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """`resamples` bootstrap replicates of the nearest-rank q-quantile of `sorted_values` (see the module doc)."""
    n = sorted_values.size
    rank = nearest_rank_index(n, q) + 1
    u = rng.beta(rank, n - rank + 1, size=resamples)
    index = np.clip(np.ceil(u * n).astype(np.int64) - 1, 0, n - 1)
    return sorted_values[index]


def sorted_samples(log) -> dict[str, np.ndarray]:
    """Each endpoint's response times, sorted, keyed "METHOD name"; all requests under AGGREGATED."""
    rt = log["rt_ms"].to_numpy(dtype=np.float64)
    codes, labels = endpoint_groups(log)
    order = np.argsort(codes.astype(np.int16) if len(labels) < 2**15 else codes, kind="stable")
    grouped = rt[order]
    out: dict[str, np.ndarray] = {}
    start = 0
    for (name, method), count in zip(labels, np.bincount(codes, minlength=len(labels))):
        out[f"{method} {name}"] = np.sort(grouped[start:start + count])
        start += count
    out[AGGREGATED] = np.sort(rt)
    return out


def _flag(low: float, high: float, tolerance: float, higher_is_worse: bool) -> str:
    worse, better = (low > tolerance, high < -tolerance) if higher_is_worse else (high < -tolerance, low > tolerance)
    return REGRESSION if worse else IMPROVEMENT if better else NOISE


def _percentile_change(base: np.ndarray, cand: np.ndarray, q: float, tolerance: float, confidence: float,
                       resamples: int, rng: np.random.Generator) -> dict[str, Any]:
    b = float(base[nearest_rank_index(base.size, q)])
    c = float(cand[nearest_rank_index(cand.size, q)])
    entry: dict[str, Any] = {"base": b, "candidate": c, "change": c / b - 1 if b > 0 else None,
                             "ci_low": None, "ci_high": None, "flag": TOO_FEW}
    if base.size < MIN_SAMPLES or cand.size < MIN_SAMPLES or b <= 0:
        return entry
    boot_b = np.maximum(bootstrap_quantile(base, q, resamples, rng), np.finfo(float).tiny)
    boot_c = bootstrap_quantile(cand, q, resamples, rng)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot_c / boot_b - 1, [alpha, 1 - alpha])
    entry.update(ci_low=float(low), ci_high=float(high), flag=_flag(low, high, tolerance, higher_is_worse=True))
    return entry


def _rate_change(n_base: int, n_cand: int, dur_base: float, dur_cand: float, tolerance: float,
                 confidence: float) -> dict[str, Any]:
    b, c = n_base / dur_base, n_cand / dur_cand
    entry: dict[str, Any] = {"base": b, "candidate": c, "change": c / b - 1 if b > 0 else None,
                             "ci_low": None, "ci_high": None, "flag": TOO_FEW}
    if n_base < MIN_SAMPLES or n_cand < MIN_SAMPLES:
        return entry
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    spread = z * np.sqrt(1 / n_base + 1 / n_cand)
    low, high = np.exp(np.log(c / b) - spread) - 1, np.exp(np.log(c / b) + spread) - 1
    entry.update(ci_low=float(low), ci_high=float(high), flag=_flag(low, high, tolerance, higher_is_worse=False))
    return entry


def _raw(data: RunData) -> Any:
    if data.requests is None:
        raise RunDirError(f"{Path(data.source) / rundir.REQUEST_LOG} is missing: compare judges noise from raw samples")
    return data.requests


def compare(base: RunData, candidate: RunData, *, tolerance: float = DEFAULT_TOLERANCE,
            confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """The comparison as one JSON-able structure: rows per endpoint, regressions named."""
    base_samples, cand_samples = sorted_samples(_raw(base)), sorted_samples(_raw(candidate))
    durations = []
    for data in (base, candidate):
        duration = load_window(data).duration_s
        if not duration:
            raise RunDirError(f"{data.source}: cannot tell the load window (run.json start/end or two requests needed)")
        durations.append(duration)
    rng = np.random.default_rng(seed)
    common = [label for label in base_samples if label in cand_samples and label != AGGREGATED]
    rows = []
    for label in [*sorted(common), AGGREGATED]:
        b, c = base_samples[label], cand_samples[label]
        row: dict[str, Any] = {"label": label, "base_requests": int(b.size), "candidate_requests": int(c.size)}
        for metric in PERCENTILE_METRICS:
            row[metric] = _percentile_change(b, c, PERCENTILES[metric], tolerance, confidence, resamples, rng)
        row["rps"] = _rate_change(b.size, c.size, durations[0], durations[1], tolerance, confidence)
        rows.append(row)
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
        "percentile_method": "nearest rank (numpy method='inverted_cdf')",
        "endpoints": rows,
        "regressions": regressions,
        "only_in_base": sorted(set(base_samples) - set(cand_samples)),
        "only_in_candidate": sorted(set(cand_samples) - set(base_samples)),
    }


def run_compare(base_dir: str | Path, candidate_dir: str | Path, *, out_dir: str | Path | None = None,
                tolerance: float = DEFAULT_TOLERANCE, confidence: float = DEFAULT_CONFIDENCE,
                resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[dict[str, Any], list[Path]]:
    """Compare two run directories and write comparison.json, comparison.md and charts/comparison.png."""
    from analysis import charts, markdown

    result = compare(load_run_dir(base_dir), load_run_dir(candidate_dir), tolerance=tolerance,
                     confidence=confidence, resamples=resamples, seed=seed)
    out = Path(out_dir) if out_dir is not None else Path(candidate_dir)
    (out / rundir.CHARTS_DIR).mkdir(parents=True, exist_ok=True)
    chart = charts.comparison_chart(result["endpoints"], tolerance, out / rundir.CHARTS_DIR / COMPARISON_CHART)
    json_path = out / COMPARISON_JSON
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path = out / COMPARISON_MD
    md_path.write_text(markdown.render_comparison(result, f"{rundir.CHARTS_DIR}/{COMPARISON_CHART}"), encoding="utf-8")
    return result, [json_path, md_path, chart.path]
