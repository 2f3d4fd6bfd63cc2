"""The open model in real runs: drops and lateness against a stalling backend, latency from the schedule, the live window.

Real Locust processes against the session's backend (through tests/stalling_proxy
where it must stall) and database; every run is a few seconds with 3 users and
stops by itself (an abort, or the end of its shape).
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from pathlib import Path

import pytest

from foundation import rundir
from raw_log_support import raw_rows as any_format_rows
from test_personas_support import careerload, seed_accounts

SEED_USERS = 5
RATE, VUS, DURATION_S = 10, 3, 9


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def raw_rows(run_dir: Path) -> list[dict[str, str]]:
    """The raw log's rows, whichever format, with values spelled as the CSV log writes them."""
    spell = {"ts": "{:.3f}".format, "rt_ms": "{:.3f}".format}
    return [{key: spell[key](value) if key in spell else ("" if value is None else str(value))
             for key, value in row.items()} for row in any_format_rows(run_dir)]


def of_type(rows: list[dict[str, str]], request_type: str, name: str | None = None) -> list[dict[str, str]]:
    return [r for r in rows if r["type"] == request_type and (name is None or r["name"] == name)]


def assert_requests_start_after_their_slots(rows: list[dict[str, str]]) -> list[tuple[dict, dict]]:
    """Each SCHED row is an iteration's first request timed from its slot: find that request, check both."""
    requests = [r for r in rows if r["type"] not in rundir.NON_REQUEST_TYPES]
    pairs = []
    for sched in of_type(rows, rundir.SCHEDULE_TYPE):
        end = float(sched["ts"]) + float(sched["rt_ms"]) / 1000
        # The request (same endpoint, persona, size and outcome) that ended then, started after its slot and took
        # no longer than the SCHED row says. Several may fit (after a stall many end together; 20 queries/s of
        # one kind end within the same 2 ms): one must.
        match = [r for r in requests if f"{r['type']} {r['name']}" == sched["name"]
                 and (r["user"], r["size"], r["ok"]) == (sched["user"], sched["size"], sched["ok"])
                 and abs(float(r["ts"]) + float(r["rt_ms"]) / 1000 - end) < 0.002
                 and float(r["ts"]) >= float(sched["ts"]) - 0.001 and float(r["rt_ms"]) <= float(sched["rt_ms"])]
        assert match, sched
        request = match[0]
        pairs.append((sched, request))
    return pairs


def test_an_arrival_run_against_a_stalling_backend_drops_slots_and_times_requests_from_them(
        host: str, stalling_target, tmp_path: Path) -> None:
    proxy = stalling_target(2.0, 5.0)  # any 9 s of load hold at least one whole 2 s stall
    scenario = tmp_path / "stalling.toml"
    scenario.write_text(
        'question = "Does the open model see a stalling backend?"\n[personas]\nBrowsingUser = 1\n'
        f'[shape]\nkind = "arrival"\nvus = {VUS}\nstart_rate = {RATE}\n'
        f'[[shape.stages]]\nduration = "{DURATION_S}s"\ntarget = {RATE}\n'
        '[[thresholds]]\nmetric = "dropped_ratio"\ncritical = 0.01\n')
    out = tmp_path / "stalling"
    result = careerload("run", str(scenario), "--host", proxy, "--seed-users", str(SEED_USERS), "--no-profile-check",
                        "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr  # the verdict FAILs on the drops
    assert "FAIL: dropped_ratio aggregate: observed" in result.stdout
    rows = raw_rows(out)
    starts = of_type(rows, rundir.ITERATION_TYPE, rundir.ITERATION_START)
    dropped = of_type(rows, rundir.ITERATION_TYPE, rundir.ITERATION_DROPPED)

    # Every slot of the schedule was started or dropped, each once: started and dropped slots together are the
    # schedule's slots 1/rate apart without a gap, from the load's start to its end.
    dropped_count = sum(int(r["size"]) for r in dropped)
    slots = sorted([float(r["ts"]) for r in starts] +
                   [float(r["ts"]) + k / RATE for r in dropped for k in range(int(r["size"]))])
    assert all(b - a == pytest.approx(1 / RATE, abs=0.002) for a, b in zip(slots, slots[1:]))
    assert len(slots) >= RATE * DURATION_S * 0.8  # the pacer's clock starts with its process, after the load's
    # Three users cannot start 10 iterations/s while the backend stalls for 2 s: the missed slots are dropped ...
    assert dropped_count >= 10 and all(int(r["size"]) >= 1 and r["rt_ms"] == "0.000" for r in dropped)
    assert json.loads((out / rundir.RUN_JSON).read_text())["counters"]["dropped_iterations"] == dropped_count
    open_model = json.loads((out / rundir.SUMMARY_JSON).read_text())["open_model"]
    assert (open_model["started_iterations"], open_model["dropped_iterations"]) == (len(starts), dropped_count)
    assert open_model["dropped_ratio"] == pytest.approx(dropped_count / (len(starts) + dropped_count))
    # ... and a start is late at most --max-lateness (100 ms) plus this process's own sleep overshoot, never unseen.
    lateness = [float(r["rt_ms"]) for r in starts]
    assert min(lateness) >= 0 and max(lateness) > 0 and statistics.median(lateness) < 100

    # The first iteration of each user waited for its slot: the first three iterations are the first three slots,
    # 1/rate apart, and no request but the logins started before the first.
    first = sorted(float(r["ts"]) for r in starts)[:VUS]
    assert [round(b - a, 3) for a, b in zip(first, first[1:])] == [1 / RATE] * (VUS - 1)
    logins = [r for r in rows if r["type"] == "POST" and r["name"].endswith("/auth/login")]
    assert len(logins) == VUS
    others = [float(r["ts"]) for r in rows if r["type"] not in rundir.NON_REQUEST_TYPES and r not in logins]
    assert min(others) >= first[0] - 0.001

    # Latency from the schedule: each iteration's first request once more, from its slot; the stall shows there.
    pairs = assert_requests_start_after_their_slots(rows)
    assert 0.9 * len(starts) <= len(pairs) <= len(starts)
    assert max(float(s["rt_ms"]) for s, _ in pairs) >= 1000


@pytest.mark.parametrize("workers", [0, 2])
def test_a_live_abort_judges_the_window_and_says_so_in_run_json(host: str, database_url: str, tmp_path: Path,
                                                                workers: int) -> None:
    """A steady 20 queries/s: the live persona rps is right (it was 0.0), and the abort names its 3 s window."""
    scenario = tmp_path / "steady.toml"
    scenario.write_text(
        'question = "Is persona rps right live?"\n[personas]\nDatabaseUser = 1\n'
        '[shape]\nkind = "arrival"\nvus = 3\nstart_rate = 20\n[[shape.stages]]\nduration = "60s"\ntarget = 20\n'
        '[[thresholds]]  # out of reach: the run aborts at the first checks after the grace\nmetric = "rps"\n'
        'scope = "persona:DatabaseUser"\ncritical = 1000000\nabort_on_fail = true\ngrace = "5s"\n')
    out = tmp_path / "steady"
    result = careerload("run", str(scenario), "--host", host, "--database-url", database_url, "--live-window", "3",
                        "--workers", str(workers), "--no-profile-check", "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    run = json.loads((out / rundir.RUN_JSON).read_text())
    abort = run["abort"]
    assert run["aborted"].startswith("threshold abort at") and "(the last 3 s)" in run["aborted"]
    assert (abort["metric"], abort["scope"], abort["level"]) == ("rps", "persona:DatabaseUser", 1e6)
    assert abort["window_end"] - abort["window_start"] == pytest.approx(3.0, abs=0.002)

    rows = raw_rows(out)
    queries = [r for r in rows if r["type"] == "SQL" and r["user"] == "DatabaseUser"]
    in_window = [r for r in queries if abort["window_start"] <= float(r["ts"]) <= abort["window_end"]]
    # The same rows the raw log holds for that window (but requests in flight at the check), ...
    assert abort["observed"] == pytest.approx(len(in_window) / 3.0, rel=0.1)
    # ... which the report recomputes exactly, beside the live figure.
    summary = json.loads((out / rundir.SUMMARY_JSON).read_text())
    assert summary["abort"]["observed"] == abort["observed"]
    exact = len(in_window) / (abort["window_end"] - abort["window_start"])
    assert summary["abort"]["exact"] == pytest.approx(exact, abs=0.001)  # summary.json's rps: 3 decimals
    # ... and the persona's rate over the whole load (its first query to its last: with workers, run.json's start
    # is the master's, before the workers have connected to the database) ...
    starts = [float(r["ts"]) for r in queries]
    assert abort["observed"] == pytest.approx(len(queries) / (max(starts) - min(starts)), rel=0.1)
    # ... and over run.json's window in Locust's final statistics (it was 0.0).
    duration = (datetime.fromisoformat(run["end"]) - datetime.fromisoformat(run["start"])).total_seconds()
    final = run["verdict"]["thresholds"][0]["observed"]
    assert final == pytest.approx(len(queries) / duration, rel=0.1)
    # DatabaseUser waits for its slot before its first query too (on_start only connects).
    iterations = len(of_type(rows, rundir.ITERATION_TYPE, rundir.ITERATION_START))
    assert iterations - 3 <= len(assert_requests_start_after_their_slots(rows)) <= iterations  # 3: stopped mid-query


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--max-lateness", "-1", "--max-lateness: expected a number of seconds >= 0, got -1.0"),
    ("--live-window", "0", "--live-window: expected a number of seconds > 0, got 0.0"),
])
def test_a_bad_lateness_or_window_is_one_error_naming_it(host: str, tmp_path: Path, flag: str, value: str,
                                                         message: str) -> None:
    result = careerload("run", "smoke", "--host", host, flag, value, "--no-profile-check", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and message in result.stderr, result.stdout + result.stderr
