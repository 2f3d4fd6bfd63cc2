"""`careerload run` end to end: real backend, real Locust processes, short bounded runs.

Every run is a few seconds with at most a handful of users against the
session's loopback stack; each stops by itself (or is stopped by PID here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from raw_log_support import has_segments, raw_rows
from test_personas_support import CLI, REPO, careerload, seed_accounts

SEED_USERS = 5
# smoke is 30 s; 0.2 makes it 6 s. Zero think time would hammer: 0.1 keeps it a trickle.
FAST = ("--time-scale", "0.2", "--think-time-scale", "0.1", "--seed-users", str(SEED_USERS))


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def stats_rows(run_dir: Path) -> dict[tuple[str, str], int]:
    import csv

    with open(run_dir / "locust_stats.csv", newline="") as f:
        return {(r["Type"], r["Name"]): int(r["Request Count"]) for r in csv.DictReader(f) if r["Type"]}


def run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_smoke_passes_and_writes_the_run_directory(host: str, tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    started = time.monotonic()
    result = careerload("run", "smoke", "--host", host, *FAST, "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 30
    assert "verdict PASS" in result.stdout
    for name in ("run.json", "requests-local.parquet", "locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv",
                 "locust_exceptions.csv", "locust_report.html"):
        assert (out / name).exists(), name
    document = run_json(out)
    assert document["scenario"] == "smoke" and document["aborted"] is None and document["workers"] == ["local"]
    assert document["verdict"]["status"] == "PASS"
    # requests are named by route template, never by a raw id
    rows = stats_rows(out)
    names = {name for _, name in rows}
    assert ("POST", "/api/v1/auth/login") in rows and ("GET", "/api/v1/jobs") in rows
    assert all(not re.search(r"/\d+", name) for name in names), names
    raw = raw_rows(out)
    assert list(raw[0]) == ["ts", "type", "name", "rt_ms", "size", "ok", "error", "user", "worker"]
    assert len(raw) >= sum(rows.values())  # the raw log is complete; the final CSV may lag
    assert all(row["user"] == "BrowsingUser" for row in raw)
    assert not list((out / "requests").glob("*.parquet")), "the segments are compacted at the end"


def test_an_impossible_threshold_fails_the_run_and_is_named(host: str, tmp_path: Path) -> None:
    scenario = tmp_path / "strict.toml"
    scenario.write_text((REPO / "scenarios" / "smoke.toml").read_text().replace("critical = 2000", "critical = 0.001"))
    result = careerload("run", str(scenario), "--host", host, *FAST, "--out", str(tmp_path / "strict"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL: p95 aggregate: observed" in result.stdout
    assert "critical level is <= 0.001" in result.stdout


def test_abort_on_fail_ends_the_run_early(host: str, tmp_path: Path) -> None:
    scenario = tmp_path / "abort.toml"
    scenario.write_text(
        'question = "Does abort work?"\n[personas]\nBrowsingUser = 1\n[shape]\n'
        '[[shape.stages]]  # a minute of load that should be cut short\nduration = "60s"\ntarget = 2\n'
        '[[thresholds]]\nmetric = "p50"\ncritical = 0.001\nabort_on_fail = true\ngrace = "2s"\n'
    )
    out = tmp_path / "abort"
    result = careerload("run", str(scenario), "--host", host, "--think-time-scale", "0.1",
                        "--seed-users", str(SEED_USERS), "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    document = run_json(out)
    # The load window (not process start-up, which a busy machine stretches) ends well before the 60 s shape.
    window = datetime.fromisoformat(document["end"]) - datetime.fromisoformat(document["start"])
    assert window.total_seconds() < 30, window
    assert document["aborted"].startswith("threshold abort at")
    assert "run ended early: threshold abort" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("run", "nosuchscenario", "--host", "http://127.0.0.1:9"), "unknown scenario 'nosuchscenario'"),
    (("run", "smoke", "--host", "http://127.0.0.1:9"), "cannot reach http://127.0.0.1:9"),
])
def test_usage_and_environment_errors_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    started = time.monotonic()
    result = careerload(*args, timeout=30)
    assert result.returncode == 2
    assert time.monotonic() - started < 10
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr


def test_a_broken_scenario_file_is_one_line_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('question = "Q?"\n[personas]\nBrowsingUser = 1\n[shape]\nkind = "ramp"\n')
    result = careerload("run", str(path), "--host", "http://127.0.0.1:9", timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"careerload: error: {path}: shape.kind: expected one of stages, steps, "
                                     "arrival, got 'ramp'")


def test_ctrl_c_stops_the_load_and_leaves_a_complete_run_directory(host: str, tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, "--time-scale", "2", "--think-time-scale", "0.1",
                             "--seed-users", str(SEED_USERS), "--out", str(out)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not has_segments(out, "local"):
            time.sleep(0.5)
        time.sleep(3)  # some load
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 1), output
    document = run_json(out)
    assert document["aborted"] == "interrupted (Ctrl-C)"
    assert document["end"] is not None
    for name in ("requests-local.parquet", "locust_stats.csv", "locust_stats_history.csv", "locust_report.html"):
        assert (out / name).stat().st_size > 0, name
    assert len(raw_rows(out)) > 1


def test_the_web_ui_comes_up_with_the_scenario_picker(host: str, tmp_path: Path) -> None:
    from foundation.processes import free_port

    port = free_port()
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, "--web", "--web-port", str(port),
                             "--out", str(tmp_path / "web")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page, deadline = "", time.monotonic() + 30
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    page = resp.read().decode()
            except OSError:
                time.sleep(0.5)
        assert '"scenario"' in page and '"smoke"' in page and '"database"' in page and '"mixed"' in page
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_database_persona_fires_sql_into_the_statistics(host: str, database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "database"
    # database is an arrival-rate scenario: 4 min at 0.02 is about 5 s; 4 connections.
    result = careerload("run", "database", "--host", host, "--time-scale", "0.02", "--users", "4",
                        "--database-url", database_url, "--out", str(out))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    rows = stats_rows(out)
    sql = {name: count for (kind, name), count in rows.items() if kind == "SQL"}
    assert "jobs by user, newest first" in sql and "job by id" in sql, rows
    # the open model: about 290 iterations are scheduled over the compressed shape
    assert 150 <= sum(sql.values()) <= 400, sql
    assert {row["type"] for row in raw_rows(out)} == {"SQL", "ITER", "SCHED"}  # + the open model's schedule rows


def test_a_web_ui_beyond_loopback_needs_a_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Refused before anything starts, with the way out in one line; no backend needed.
    base = ("run", "smoke", "--host", "http://127.0.0.1:9", "--web", "--out", str(tmp_path / "x"))
    result = careerload(*base, "--web-host", "0.0.0.0")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--web-host 0.0.0.0" in result.stderr and "--web-login" in result.stderr
    assert "CAREERLOAD_WEB_PASSWORD" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    monkeypatch.delenv("CAREERLOAD_WEB_PASSWORD", raising=False)
    result = careerload(*base, "--web-host", "0.0.0.0", "--web-login")
    assert result.returncode == 2 and "needs a password" in result.stderr, result.stdout + result.stderr
