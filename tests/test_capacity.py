"""`careerload capacity`: the search without load, then real searches against backends of known capacity.

The fixture backend (tests/capacity_backend.py) serves at most K job lists at
once, each taking M ms: K x 1000 / M requests/s, sleep-bound so the shared
machine's CPU does not move it. Steps are a 2 s warm-up and a 4 s hold, so a
whole search is under a minute.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from analysis.capacity_report import bottleneck, knee
from analysis.step_verdict import StepResult, generator_stalled, longest_gap_s
from careerload.capacity_search import AT_MAX, BUDGET, FOUND, NONE_PASSED, Played, SearchPlan, bounds, next_step
from foundation.processes import free_port
from profiles.operations import OPERATIONS
from scenarios.loader import load_scenario
from scenarios.step_scenario import DROP_LIMIT, step_document, to_toml
from raw_log_support import raw_rows
from test_personas_support import REPO, careerload, seed_accounts

# 200 ms per request: well above the scheduling jitter a Locust process sees on two cores shared with three
# other engineers' load tests (p95 +100 ms at times), so a queue, not the machine, is what breaks a step.
K, M_MS = 12, 200
CAPACITY = K * 1000 / M_MS  # 60 requests/s
STEP = ("--warmup", "2s", "--hold", "4s")
# Fixture steps start rate x 0.4 s users: twice the service time. A Locust process the shared machine stalls
# for most of a second wakes every user whose start slot passed at once; with this pool that burst is no more
# than the fixture serves at once, so a stall does not look like a queue, while a real queue soon leaves no
# user free (drops).
POOL = ("--pool-seconds", str(2 * M_MS / 1000))


def search(plan: SearchPlan, capacity: float) -> tuple[list[float], str]:
    """Play the search against a made-up backend that passes every load up to `capacity`."""
    played: list[Played] = []
    while True:
        load, why = next_step(plan, played)
        if load is None:
            return [p.load for p in played], why
        played.append(Played(load, load <= capacity))


# ------------------------------------------------------------------------------------ the search, without load


def test_the_search_grows_geometrically_then_bisects_to_the_precision() -> None:
    loads, why = search(SearchPlan(start=10, growth=2, precision=0.10), capacity=77)
    assert loads[:4] == [10, 20, 40, 80]
    assert why == FOUND
    best, worst = bounds([Played(x, x <= 77) for x in loads])
    assert best <= 77 < worst and worst - best <= 0.10 * best
    assert len(loads) == len(set(loads)), "no load is played twice"


def test_the_search_stops_at_max_when_everything_passes() -> None:
    loads, why = search(SearchPlan(start=10, growth=3, max=50), capacity=1e9)
    assert (loads, why) == ([10, 30, 50], AT_MAX)


def test_a_failing_first_step_ends_the_search() -> None:
    assert search(SearchPlan(start=10), capacity=5) == ([10], NONE_PASSED)


def test_users_are_whole_and_the_search_stops_one_user_apart() -> None:
    loads, why = search(SearchPlan(start=3, growth=2, precision=0.01, integral=True), capacity=13)
    assert all(load == int(load) for load in loads) and why == FOUND
    assert max(x for x in loads if x <= 13) == 13 and 14 in loads


def test_the_budget_stops_before_a_step_that_would_overrun_it() -> None:
    plan = SearchPlan(start=10, budget_s=100)
    assert next_step(plan, [Played(10, True)], elapsed_s=50, step_cost_s=40) == (20, "")
    assert next_step(plan, [Played(10, True)], elapsed_s=70, step_cost_s=40) == (None, BUDGET)


@pytest.mark.parametrize("kwargs, option", [({"start": 0}, "--start"), ({"start": 10, "growth": 1}, "--growth"),
                                            ({"start": 10, "max": 5}, "--max"),
                                            ({"start": 10, "precision": 1.5}, "--precision"),
                                            ({"start": 2.5, "integral": True}, "--start")])
def test_a_bad_plan_names_its_option(kwargs: dict, option: str) -> None:
    with pytest.raises(ValueError, match=option):
        SearchPlan(**kwargs)


def test_a_step_scenario_keeps_the_personas_and_only_the_critical_levels(tmp_path: Path) -> None:
    base = load_scenario("api")
    path = tmp_path / "step.toml"
    path.write_text(to_toml(step_document(base, "rate", 42.5, 10, 30, pool_seconds=2)))
    step = load_scenario(path)
    assert step.personas == base.personas and step.kind == "arrival" and step.vus == 85
    assert [(s.duration_s, s.target) for s in step.stages] == [(10, 42.5), (30, 42.5)]
    assert step.start_rate == 0 and step.duration_s == 40
    # judged over the hold (stage 2), plus the open model's drops
    assert [(t.metric, t.scope, t.target, t.critical, t.span.stages) for t in step.thresholds] == \
        [(t.metric, t.scope, None, t.critical, (2,)) for t in base.thresholds if t.critical is not None] + \
        [("dropped_ratio", "aggregate", None, DROP_LIMIT, (2,))]
    spike = tmp_path / "spike.toml"  # the spike's recovery-against-baseline threshold means nothing in a step
    spike.write_text(to_toml(step_document(load_scenario("spike"), "users", 12, 5, 20)))
    assert not any(t.relative_to for t in load_scenario(spike).thresholds)
    users = tmp_path / "users.toml"
    users.write_text(to_toml(step_document(base, "users", 12, 5, 20)))
    assert [(s.duration_s, s.target) for s in load_scenario(users).stages] == [(5, 12), (20, 12)]


def _step(offered: float, rps: float, verdict: str = "PASS", **server: float) -> StepResult:
    return StepResult(by="rate", offered=offered, warmup_s=1, hold_s=1, requests=100, failures=0,
                      failure_ratio=0.0, achieved_rps=rps, p50_ms=10, p95_ms=20, p99_ms=30, avg_ms=12,
                      intended_iterations=None, dropped_iterations=None, dropped_ratio=None, per_unit=rps / offered, stall_s=None,
                      verdict=verdict, failed=[], thresholds=[], server=server)


def test_a_gap_in_the_starts_without_drops_is_a_stalled_generator() -> None:
    assert longest_gap_s(np.array([10.2, 10.4, 12.0, 12.1, 99.0]), 10.0, 13.0) == pytest.approx(1.6)
    step = _step(50, 20, "FAIL")
    assert generator_stalled(dataclasses.replace(step, stall_s=2.7, dropped_iterations=0))
    assert not generator_stalled(dataclasses.replace(step, stall_s=2.7, dropped_iterations=30))  # a full pool
    assert not generator_stalled(dataclasses.replace(step, stall_s=0.3, dropped_iterations=0))


def test_the_knee_is_where_throughput_stops_following_offered_load() -> None:
    steps = [_step(10, 20), _step(20, 40), _step(40, 78), _step(80, 90, "FAIL")]
    assert knee(steps) == {"offered": 40, "achieved_rps": 78, "next_offered": 80, "next_achieved_rps": 90,
                           "plateau_rps": 90}
    assert knee(steps[:3]) is None


def test_the_bottleneck_is_named_from_the_server_figures() -> None:
    cpu = _step(80, 90, "FAIL", backend_cpu_percent=95.0, backend_processes=1, db_ms_per_s=100.0)
    assert bottleneck(cpu, None)["where"] == "backend CPU"
    db = _step(80, 90, "FAIL", backend_cpu_percent=30.0, backend_processes=1, db_ms_per_s=900.0)
    assert bottleneck(db, None)["where"] == "database"  # 900 ms/s of 90 req/s x 12 ms
    neither = _step(80, 90, "FAIL", backend_cpu_percent=5.0, backend_processes=1, db_ms_per_s=None)
    assert bottleneck(neither, None)["where"].startswith("no CPU or database saturated")
    generator = {"cpu_percent": 170.0, "processes": 2, "machine_cpu_percent": 95.0, "cores": 2}
    assert bottleneck(neither, None, generator)["where"].startswith("load generator CPU")
    assert bottleneck(neither, None, {**generator, "cpu_percent": 50.0})["where"].startswith("machine CPU")
    assert bottleneck(_step(80, 90, "FAIL"), None)["where"] is None


# ------------------------------------------------------------------------------------ against the fixture


def fixture_profile(path: Path) -> Path:
    """The fixture's dialect: no login, job lists only (every other operation absent)."""
    absent = "".join(f"\n[operations.{name}]\nabsent = true\n" for name in OPERATIONS if name != "list_jobs")
    path.write_text('name = "capacity-fixture"\nbase_path = "/api/v1"\n[auth]\nkind = "none"\n'
                    '[own_id]\nsource = "unknown"\n[pagination]\nstyle = "page"\npage = "page"\n'
                    'page_size = "page_size"\nitems = "items"\n'
                    'keys = ["items", "total", "page", "page_size", "total_pages", "has_next", "has_prev"]\n'
                    f'\n[operations.list_jobs]\npath = "/jobs"\npaginated = true\n{absent}')
    return path


def fixture_scenario(path: Path, critical_p95_ms: float) -> Path:
    path.write_text('question = "How many job lists per second does the fixture serve?"\n'
                    '[personas]\nBrowsingUser = 1\n[shape]\nkind = "arrival"\nvus = 10\n'
                    '[[shape.stages]]\nduration = "10s"\ntarget = 10\n'
                    f'[[thresholds]]\nmetric = "p95"\ncritical = {critical_p95_ms}\n')
    return path


@pytest.fixture(scope="module")
def fixture_host() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "capacity_backend.py"), "--port", str(port),
                             "--concurrency", str(K), "--service-ms", str(M_MS)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the fixture backend did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("capacity")
    # p95 twice the service time: a queue growing for seconds (10 % over capacity: +0.4 s by the hold's end)
    # breaks it, jitter does not
    return fixture_scenario(where / "lists.toml", 2 * M_MS), fixture_profile(where / "profile.toml")


def test_the_capacity_found_is_the_fixtures_within_15_percent(fixture_host: str, fixture_files: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    scenario, profile = fixture_files
    out = tmp_path / "cap"
    started = time.monotonic()
    result = careerload("capacity", str(scenario), "--host", fixture_host, "--profile", str(profile),
                        "--start", "45", *STEP, *POOL, "--require", "40", "--out", str(out))
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((out / "capacity.json").read_text())
    best = document["max_sustainable"]
    assert abs(best["achieved_rps"] - CAPACITY) <= 0.15 * CAPACITY, document["steps"]
    assert abs(best["offered"] - CAPACITY) <= 0.15 * CAPACITY
    first = document["first_failure"]
    assert first["offered"] > best["offered"] and first["failed"]
    assert document["stopped"] == FOUND
    # the search costs its steps and little more: no step played twice, nothing slow between them (the
    # command's own start, a few seconds of imports and checks on this machine, is not the search: bounded apart)
    steps_wall = sum(step["wall_s"] for step in document["steps"])
    assert steps_wall == pytest.approx(document["steps_wall_s"], abs=0.1)
    assert document["wall_s"] <= 1.10 * steps_wall, (document["wall_s"], steps_wall)
    assert wall <= 1.10 * steps_wall + 10, (wall, steps_wall)
    assert len({step["offered"] for step in document["steps"]}) == len(document["steps"])
    # above capacity throughput flattens at the fixture's ceiling: the knee is found, at or below capacity
    assert document["knee"] and document["knee"]["offered"] <= CAPACITY * 1.15
    assert document["knee"]["plateau_rps"] <= CAPACITY * 1.05
    # the fixture runs here: its CPU is measured, and it is not what limits it
    assert document["bottleneck"]["where"] is not None and document["bottleneck"]["where"] != "backend CPU"
    assert all(step["generator"]["cpu_percent"] > 0 for step in document["steps"])
    html = (out / "capacity.html").read_text()
    assert html.count('src="data:image/png;base64,') == 3 and "http://" not in html.replace(fixture_host, "")
    assert f"Max sustainable: {best['offered']:g} iterations/s" in (out / "capacity.md").read_text()
    assert f"max sustainable {best['offered']:g} iterations/s" in result.stdout
    # every step is a run directory that `careerload report` re-judges over the whole step
    failing = out / first["run_dir"]
    assert raw_rows(failing) and (failing / "scenario.toml").is_file()
    report = careerload("report", str(failing))
    assert report.returncode == 1 and "FAIL p95 aggregate" in report.stdout, report.stdout + report.stderr


def test_a_capacity_below_require_exits_1(fixture_host: str, fixture_files: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    scenario, profile = fixture_files
    result = careerload("capacity", str(scenario), "--host", fixture_host, "--profile", str(profile),
                        "--start", "20", "--max", "20", *STEP, *POOL, "--require", "500", "--out", str(tmp_path / "c"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "below --require 500" in result.stdout
    document = json.loads((tmp_path / "c" / "capacity.json").read_text())
    assert document["stopped"] == AT_MAX and document["max_sustainable"]["offered"] == 20


def test_an_unreachable_host_fails_fast_with_exit_2(fixture_files: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, profile = fixture_files
    started = time.monotonic()
    result = careerload("capacity", str(scenario), "--host", f"http://127.0.0.1:{free_port()}", "--profile",
                        str(profile), *STEP, "--out", str(tmp_path / "c"))
    assert result.returncode == 2 and "cannot reach" in result.stderr, result.stdout + result.stderr
    assert time.monotonic() - started < 15
    assert not (tmp_path / "c").exists()


def test_a_bad_option_exits_2(fixture_files: tuple[Path, Path]) -> None:
    result = careerload("capacity", str(fixture_files[0]), "--host", "http://127.0.0.1:1", "--growth", "1")
    assert result.returncode == 2 and "--growth" in result.stderr


# ------------------------------------------------------------------------------------ the reference backend


@pytest.fixture(scope="module")
def reference_host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, 20, 30)
    return target_url


def test_the_reference_backend_has_a_capacity_and_a_named_bottleneck(reference_host: str, database_url: str,
                                                                      redis_url: str, tmp_path: Path) -> None:
    """The `api` scenario's critical levels by arrival rate; wide steps (x8, 90 % precision) keep it to about five.

    One uvicorn worker on this machine serves 300-400 requests/s when the machine is quiet (measured): 800
    iterations/s (800 users, 4 s) breaks it whatever the neighbours do.
    """
    out = tmp_path / "ref"
    result = careerload("capacity", "api", "--host", reference_host, "--database-url", database_url,
                        "--redis-url", redis_url, "--snapshot-interval", "1", "--start", "25", "--growth", "8",
                        "--max", "800", "--precision", "90%", *STEP, "--out", str(out), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((out / "capacity.json").read_text())
    assert document["max_sustainable"]["offered"] >= 25
    first = document["first_failure"]
    assert first is not None, "800 iterations/s should break the reference backend on two shared cores"
    neck = document["bottleneck"]
    assert neck["where"] and neck["server_at"]["backend_cpu_percent"] is not None
    assert neck["server_at"]["db_ms_per_s"] is not None and neck["server_at"]["cache_hit_rate"] is not None
    assert f"Bottleneck: {neck['where']}" in (out / "capacity.md").read_text()
    assert f"bottleneck: {neck['where']}" in result.stdout


def test_a_budget_shorter_than_one_step_exits_2(fixture_files: tuple[Path, Path]) -> None:
    result = careerload("capacity", str(fixture_files[0]), "--host", "http://127.0.0.1:1", *STEP, "--budget", "5s")
    assert result.returncode == 2 and "--budget 5 s is shorter than one step" in result.stderr
