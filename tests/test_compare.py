"""careerload compare: same distribution → noise, a 20 % shift → regression, and the bootstrap itself."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.compare import NOISE, REGRESSION, IMPROVEMENT, bootstrap_quantile
from analysis.stats import nearest_rank_index
from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json
from careerload import cmd_compare
from careerload.cli import UsageError

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


def test_order_statistic_bootstrap_matches_resampling():
    """The Beta shortcut gives the same distribution as resampling n values and taking the quantile."""
    rng = np.random.default_rng(11)
    values = np.sort(rng.lognormal(4, 0.7, 300))
    resamples = 20_000
    for q in (0.5, 0.95, 0.99):
        fast = bootstrap_quantile(values, q, resamples, np.random.default_rng(1))
        draws = rng.integers(0, values.size, size=(resamples, values.size))
        slow = np.sort(values[draws], axis=1)[:, nearest_rank_index(values.size, q)]
        for level in (0.025, 0.25, 0.5, 0.75, 0.975):
            assert np.quantile(fast, level) == pytest.approx(np.quantile(slow, level), rel=0.03), (q, level)
        assert set(np.unique(fast)) <= set(values)  # replicates are observed values, like the statistic
