"""Server-side evidence end to end: a real `careerload run` with snapshots, then its report.

Against the session's backend (cache on) and a second backend on the same
PostgreSQL and Redis with CACHE_ENABLED=false.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from careerload.stack import Stack
from conftest import TARGET_TEST_ENV
from test_personas_support import careerload, seed_accounts

USERS = 8
SCENARIO = """question = "Does the job list hit the cache?"
[personas]
BrowsingUser = 1
[shape]
[[shape.stages]]  # a few seconds of browsing by a handful of users
duration = "8s"
target = 4
[[thresholds]]
metric = "cache_hit_rate"
target = 0.8
critical = 0.01
[[thresholds]]
metric = "db_mean_ms"
scope = "statement:top"
critical = 1000
"""


@pytest.fixture(scope="module")
def scenario_file(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    seed_accounts(database_url, USERS, 30)
    path = tmp_path_factory.mktemp("evidence") / "cache.toml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def uncached_target(stack: Stack) -> Iterator[str]:
    """The reference backend with its cache switched off, on the session's servers."""
    with Stack(database_url=stack.database_url, redis_url=stack.redis_url, from_env=False,
               target_env={**TARGET_TEST_ENV, "CACHE_ENABLED": "false"}) as uncached:
        yield uncached.target_url


def _run(scenario: Path, host: str, database_url: str, redis_url: str, out: Path):
    return careerload("run", str(scenario), "--host", host, "--database-url", database_url, "--redis-url", redis_url,
                      "--think-time-scale", "0.05", "--snapshot-interval", "2", "--out", str(out))


def test_a_cached_run_shows_hits_and_the_job_list_query(scenario_file: Path, target_url: str, database_url: str,
                                                        redis_url: str, tmp_path: Path) -> None:
    out = tmp_path / "cached"
    result = _run(scenario_file, target_url, database_url, redis_url, out)
    assert result.returncode == 0, result.stdout + result.stderr
    header = (out / "server" / "redis.csv").read_text().splitlines()[0].split(",")
    assert {"keyspace_hits", "keyspace_misses", "evicted_keys", "used_memory", "app_hits", "app_misses"} <= set(header)
    server = json.loads((out / "summary.json").read_text())["server"]
    assert server["cache"]["hits"] > 0 and 0 < server["cache_hit_rate"] <= 1
    queries = [statement["query"] for statement in server["database"]["top"]]
    assert any("FROM jobs" in q and "ORDER BY created_at DESC" in q for q in queries), queries
    assert server["process"] is not None and server["process"]["processes"] >= 1
    report = (out / "report.md").read_text()
    assert "### Cache" in report and "### Database" in report and "### Backend process" in report
    assert (out / "charts" / "server_over_time.png").is_file()


def test_with_the_cache_off_the_report_says_so_and_the_hit_rate_threshold_fails(
        scenario_file: Path, uncached_target: str, database_url: str, redis_url: str, tmp_path: Path) -> None:
    out = tmp_path / "uncached"
    result = _run(scenario_file, uncached_target, database_url, redis_url, out)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL: cache_hit_rate aggregate" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["server"]["cache"]["hits"] == 0 and summary["server"]["cache_hit_rate"] is None
    assert "cache disabled or no cache traffic" in (out / "report.md").read_text()
    assert "cache disabled or no cache traffic" in (out / "report.html").read_text()
