"""careerload compare: same distribution → noise, a 20 % shift → regression, a slow stretch → noise, and the
block bootstrap itself."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compare import IMPROVEMENT, NOISE, REGRESSION, block_replicates, samples_of
from analysis.latency_bins import BIN_WIDTH, latency_bins
from analysis.percentiles import nearest_rank_index
from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json
from careerload import cmd_compare
from foundation.errors import UsageError

START = 1_750_000_000.0
DURATION = 60.0
ENDPOINTS = [
    Endpoint("GET", "/api/v1/jobs", 80),
    Endpoint("GET", "/api/v1/jobs/{id}", 30, weight=2),
    Endpoint("POST", "/api/v1/applications", 150, weight=0.5, persona="WritingUser"),
]


def make_run(path: Path, seed: int, scale: float = 1.0, n: int = 15_000) -> Path:
    path.mkdir(parents=True)
    frame = synthesise(ENDPOINTS, n, DURATION, START, seed=seed)
    frame["rt_ms"] = (frame["rt_ms"] * scale).round(3)
    write_request_log(frame, path / "requests.csv")
    write_run_json(path, scenario="compare", start=START, end=START + DURATION, thresholds=[])
    return path


def run_compare_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="careerload")
    cmd_compare.register(parser.add_subparsers())
    args = parser.parse_args(["compare", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("cmp") / "base", seed=1)


def _comparison(directory: Path) -> dict:
    return json.loads((directory / "comparison.json").read_text())


def test_same_distribution_is_noise(base, tmp_path, capsys):
    candidate = make_run(tmp_path / "candidate", seed=2)  # same distribution, other samples
    assert run_compare_cli(str(base), str(candidate)) == 0
    result = _comparison(candidate)
    flags = {row[m]["flag"] for row in result["endpoints"] for m in ("p50", "p95", "p99", "rps")}
    assert flags == {NOISE}
    assert result["regressions"] == []
    assert (candidate / "comparison.md").read_text().startswith("## careerload compare: ✅ no regression")
    assert (candidate / "charts" / "comparison.png").stat().st_size > 0
    assert "0 regression(s)" in capsys.readouterr().out


def test_a_twenty_percent_shift_is_a_regression(base, tmp_path, capsys):
    candidate = make_run(tmp_path / "candidate", seed=3, scale=1.2)
    out = tmp_path / "out"
    assert run_compare_cli(str(base), str(candidate), "--tolerance", "0.05", "--out", str(out)) == 1
    result = _comparison(out)
    for row in result["endpoints"]:
        for metric in ("p50", "p95"):
            entry = row[metric]
            assert entry["flag"] == REGRESSION, (row["label"], metric, entry)
            assert 0.05 < entry["ci_low"] < 0.2 < entry["ci_high"]
        # a p99 from ~1,000 samples is noisy: its interval may reach below 5 %, but never flags the wrong way
        assert row["p99"]["flag"] in (REGRESSION, NOISE) and row["p99"]["change"] > 0.05
        assert row["rps"]["flag"] == NOISE  # same request count: throughput unchanged
    printed = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("REGRESSION ") for line in printed) == len(result["regressions"]) >= 8
    assert "❌ regression" in (out / "comparison.md").read_text()


def test_a_shift_inside_the_tolerance_is_not_a_regression(base, tmp_path):
    candidate = make_run(tmp_path / "candidate", seed=4, scale=1.2)
    assert run_compare_cli(str(base), str(candidate), "--tolerance", "0.5") == 0


def test_faster_candidate_is_an_improvement_and_fewer_requests_a_throughput_regression(base, tmp_path):
    candidate = make_run(tmp_path / "candidate", seed=5, scale=0.8, n=10_000)
    assert run_compare_cli(str(base), str(candidate)) == 1
    result = _comparison(candidate)
    assert {row["p95"]["flag"] for row in result["endpoints"]} == {IMPROVEMENT}
    assert {row["rps"]["flag"] for row in result["endpoints"]} == {REGRESSION}  # a third fewer requests/s


def test_compare_needs_raw_logs(base, tmp_path):
    candidate = make_run(tmp_path / "candidate", seed=6)
    (candidate / "requests.csv").unlink()
    (candidate / "locust_stats.csv").write_text("Type,Name\n")
    with pytest.raises(UsageError, match="locust_stats.csv is truncated"):
        run_compare_cli(str(base), str(candidate))
    (candidate / "locust_stats.csv").unlink()
    with pytest.raises(UsageError, match="neither requests.csv nor locust_stats.csv"):
        run_compare_cli(str(base), str(candidate))


def test_a_slow_stretch_in_one_run_is_noise_not_a_regression(tmp_path):
    """20 s of doubled latencies in a 5-minute candidate (a warm-up, a GC pause): an i.i.d. bootstrap treats
    its thousands of slow requests as independent evidence and calls p95 a regression; the block bootstrap
    sees one slow stretch, which a rerun may or may not contain, and calls it noise."""
    duration, n = 300.0, 30_000

    def run(path: Path, seed: int, stall: bool) -> Path:
        path.mkdir()
        frame = synthesise(ENDPOINTS[:1], n, duration, START, seed=seed)
        if stall:
            slow = (frame["ts"] >= START + 100) & (frame["ts"] < START + 120)
            frame.loc[slow, "rt_ms"] = frame.loc[slow, "rt_ms"] * 2
        write_request_log(frame, path / "requests.csv")
        write_run_json(path, scenario="compare", start=START, end=START + duration, thresholds=[])
        return path

    base_dir, cand_dir = run(tmp_path / "base", 21, stall=False), run(tmp_path / "cand", 22, stall=True)
    assert run_compare_cli(str(base_dir), str(cand_dir)) == 0
    row = next(r for r in _comparison(cand_dir)["endpoints"] if r["label"] == "GET /api/v1/jobs")
    assert row["p95"]["flag"] == NOISE and row["p95"]["change"] > 0.05, row["p95"]

    # what resampling single requests would say about the same two logs
    rng = np.random.default_rng(0)
    logs = [pd.read_csv(d / "requests.csv")["rt_ms"].to_numpy() for d in (base_dir, cand_dir)]
    boot = [np.quantile(rng.choice(v, size=(500, v.size)), 0.95, axis=1, method="inverted_cdf") for v in logs]
    assert np.quantile(boot[1] / boot[0] - 1, 0.025) > 0.05  # i.i.d.: the whole interval beyond 5 %: "regression"


def test_block_replicates_of_the_whole_run_are_the_exact_quantiles_within_half_a_bin():
    """Drawing every block once is the run itself: the binned replicate is the exact nearest-rank
    quantile to within BIN_WIDTH / 2 (the bins' values are their mean observations)."""
    rng = np.random.default_rng(11)
    rt = rng.lognormal(4, 0.7, 5_000).round(3)
    block, bins = rng.integers(0, 10, rt.size), latency_bins(np.rint(rt * 1000))
    low, nbins = int(bins.min()), int(bins.max() - bins.min()) + 1
    with np.errstate(invalid="ignore"):  # empty bins: NaN, never chosen
        values = np.bincount(bins - low, weights=rt, minlength=nbins) / np.bincount(bins - low, minlength=nbins)
    qs = (0.5, 0.95, 0.99)
    replicates, n = block_replicates(samples_of(rt, block), np.ones((1, 10)), low, values, qs)
    assert n[0] == rt.size
    for j, q in enumerate(qs):
        exact = np.sort(rt)[nearest_rank_index(rt.size, q)]
        assert replicates[0, j] == pytest.approx(exact, rel=BIN_WIDTH / 2 + 1e-9)


def test_an_unwritable_output_is_a_usage_error_not_a_regression(base, tmp_path):
    candidate = make_run(tmp_path / "candidate", seed=7)
    with pytest.raises(UsageError, match=r"^cannot write /proc/nope"):
        run_compare_cli(str(base), str(candidate), "--out", "/proc/nope")
