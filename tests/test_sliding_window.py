"""The live check's sliding window: the same figures the analysis computes from the same raw rows."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scenarios.sliding_window import SlidingWindow
from scenarios.thresholds import Threshold

ORIGIN = 1_700_000_000.0


def rows(n: int, seed: int = 3) -> list[tuple[float, str, str, float, bool, str]]:
    """Made-up raw rows over 60 s: two endpoints, two personas, some failures, a TASK completion time now and then."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ts = ORIGIN + rng.uniform(0, 60)
        if rng.random() < 0.05:
            out.append((ts, "TASK", "scrape completion", rng.uniform(1000, 5000), True, "ScrapingUser"))
            continue
        name = rng.choice(("/api/v1/jobs", "/api/v1/jobs/{id}"))
        persona = rng.choice(("BrowsingUser", "WritingUser"))
        out.append((ts, "GET", name, rng.lognormvariate(3, 1), rng.random() > 0.02, persona))
    return out


def window_with(thresholds: list[Threshold], data: list, **kwargs: float) -> SlidingWindow:
    window = SlidingWindow(thresholds, 30.0, ORIGIN, **kwargs)
    for row in sorted(data, key=lambda r: r[0] + r[3] / 1000):  # rows arrive as requests end
        window.add(*row)
    return window


@pytest.mark.parametrize("scope", ["aggregate", "endpoint:GET /api/v1/jobs", "persona:WritingUser",
                                   "endpoint:TASK scrape completion"])
@pytest.mark.parametrize("metric", ["p50", "p95", "p99", "max", "avg", "failure_ratio", "rps"])
def test_each_figure_equals_the_analysis_one_over_the_rows_of_the_window(scope: str, metric: str) -> None:
    data = rows(5000)
    threshold = Threshold(metric, scope, critical=1.0)
    window = window_with([threshold], data)
    now = ORIGIN + 50.0
    observed = window.observe(threshold, now)
    assert (observed.window_start, observed.window_end) == (now - 30.0, now)
    kind, _, value = scope.partition(":")
    inside = [r for r in data if now - 30.0 <= round(r[0], 3) <= now
              and (f"{r[1]} {r[2]}" == value if kind == "endpoint" else r[1] != "TASK")
              and (kind != "persona" or r[5] == value)]
    rt = np.array([round(r[3], 3) for r in inside])
    expected = {
        "p50": np.percentile(rt, 50, method="inverted_cdf"), "p95": np.percentile(rt, 95, method="inverted_cdf"),
        "p99": np.percentile(rt, 99, method="inverted_cdf"), "max": rt.max(), "avg": rt.mean(),
        "failure_ratio": sum(not r[4] for r in inside) / len(inside), "rps": len(inside) / 30.0,
    }[metric]
    assert observed.value == pytest.approx(float(expected), rel=1e-12)


def test_the_first_windows_start_at_the_load_and_a_lagging_window_ends_before_now() -> None:
    threshold = Threshold("rps", "aggregate", critical=1.0)
    data = [(ORIGIN + t / 10, "GET", "/x", 5.0, True, "P") for t in range(100)]  # 10/s for 10 s
    early = window_with([threshold], data).observe(threshold, ORIGIN + 5.0)
    assert (early.window_start, early.window_end) == (ORIGIN, ORIGIN + 5.0)
    assert early.value == pytest.approx(51 / 5.0)  # the rows at 0.0, 0.1, ..., 5.0 s
    lagging = window_with([threshold], data, lag_s=1.0).observe(threshold, ORIGIN + 5.0)
    assert lagging.window_end == ORIGIN + 4.0 and lagging.value == pytest.approx(41 / 4.0)


def test_an_empty_window_is_no_data_and_what_the_window_cannot_know_is_not_judged() -> None:
    rps = Threshold("rps", "persona:Nobody", critical=1.0)
    window = window_with([rps], rows(100))
    assert window.observe(rps, ORIGIN + 40).value is None and rps.judge(None) == "NO_DATA"
    for metric, scope in (("db_mean_ms", "aggregate"), ("cache_hit_rate", "aggregate"), ("dedup_rate", "aggregate"),
                          ("db_mean_ms", "statement:top")):
        threshold = Threshold(metric, scope, critical=1.0)
        assert not SlidingWindow.judges(threshold)
        assert window_with([threshold], rows(100)).observe(threshold, ORIGIN + 40).value is None
    assert not SlidingWindow([rps], 30.0, ORIGIN).wants("GET", "/x", "BrowsingUser")  # rows it has no use for
