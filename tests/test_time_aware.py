"""Time-aware verdicts on run directories whose true values are known: stages, windows, baselines, the open model.

The run directories are synthesised (analysis.synthetic) with a different
latency per stage, schedule rows (ITER, SCHED) where an arrival-rate run has
them, and a backend memory series; every figure is checked against numpy's
nearest-rank percentile of exactly the rows it should cover.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.load import ENGINE_MEMORY
from analysis.report import report
from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json
from foundation import rundir
from scenarios.loader import load_scenario
from scenarios.thresholds import ScenarioError, Threshold
from stalling_proxy import delaying_proxy
from test_personas_support import CLI, REPO, seed_accounts

START = 1_760_000_000.0
# (label, duration s, median ms of GET /api/v1/jobs): a baseline, a spike, a recovery
STAGES = (("baseline", 20.0, 10.0), ("spike", 10.0, 60.0), ("recovery", 20.0, 11.0))
RATE = 20.0  # iterations/s of the arrival-rate variant


def nearest_rank(values: np.ndarray, q: float) -> float:
    return round(float(np.quantile(values, q, method="inverted_cdf")), 3)


def shape(kind: str) -> dict:
    return {"kind": kind, "vus": 10 if kind == "arrival" else 0, "start_rate": RATE if kind == "arrival" else 0.0,
            "stages": [{"duration_s": d, "target": RATE if kind == "arrival" else 10, "label": label}
                       for label, d, _ in STAGES]}


def requests(recovery_ms: float = STAGES[2][2]) -> pd.DataFrame:
    """Two endpoints per stage; the list's latency follows the stage (its recovery median can be changed)."""
    parts, t = [], START
    for i, (_, duration, median) in enumerate(STAGES):
        median = recovery_ms if i == 2 else median
        parts.append(synthesise([Endpoint("GET", "/api/v1/jobs", median), Endpoint("GET", "/api/v1/jobs/{id}", 5.0)],
                                3000, duration, t, seed=i))
        t += duration
    return pd.concat(parts, ignore_index=True)


def schedule_rows(dropped_at: float, dropped: int) -> pd.DataFrame:
    """ITER start rows at RATE with a lateness, one ITER dropped batch, a SCHED row per iteration."""
    rng = np.random.default_rng(3)
    slots = np.round(np.arange(START, START + sum(d for _, d, _ in STAGES), 1 / RATE), 3)
    common = {"size": 0, "ok": 1, "error": "", "user": "BrowsingUser", "worker": "local"}
    starts = pd.DataFrame({"ts": slots, "type": rundir.ITERATION_TYPE, "name": rundir.ITERATION_START,
                           "rt_ms": rng.exponential(4.0, slots.size).round(3), **common})
    drops = pd.DataFrame({"ts": [dropped_at], "type": rundir.ITERATION_TYPE, "name": rundir.ITERATION_DROPPED,
                          "rt_ms": [0.0], **{**common, "size": dropped}})
    sched = pd.DataFrame({"ts": slots, "type": rundir.SCHEDULE_TYPE, "name": "GET /api/v1/jobs",
                          "rt_ms": (20 + rng.exponential(10.0, slots.size)).round(3), **common})
    return pd.concat([starts, drops, sched], ignore_index=True)


def make_run(path: Path, thresholds: list[dict], *, kind: str = "stages", frame: pd.DataFrame | None = None,
             extra: pd.DataFrame | None = None, run_extra: dict | None = None) -> tuple[Path, pd.DataFrame]:
    path.mkdir(parents=True, exist_ok=True)
    frame = requests() if frame is None else frame
    log = frame if extra is None else pd.concat([frame, extra], ignore_index=True).sort_values("ts", kind="stable")
    write_request_log(log, path / rundir.REQUEST_LOG)
    end = START + sum(d for _, d, _ in STAGES)
    write_run_json(path, scenario="known", start=START, end=end, thresholds=thresholds)
    run = json.loads((path / rundir.RUN_JSON).read_text())
    run.update({"shape": shape(kind), **(run_extra or {})})
    (path / rundir.RUN_JSON).write_text(json.dumps(run))
    return path, frame


def summary_of(run_dir: Path) -> dict:
    report(run_dir)
    return json.loads((run_dir / rundir.SUMMARY_JSON).read_text())


def in_span(frame: pd.DataFrame, start_s: float, end_s: float) -> pd.DataFrame:
    return frame[(frame["ts"] >= START + start_s) & (frame["ts"] < START + end_s)]


def test_each_stage_reports_the_nearest_rank_percentiles_of_its_own_rows(tmp_path: Path) -> None:
    run_dir, frame = make_run(tmp_path / "run", [])
    stages = summary_of(run_dir)["stages"]
    assert [(s["index"], s["label"]) for s in stages] == [(1, "baseline"), (2, "spike"), (3, "recovery")]
    t = 0.0
    for entry, (_, duration, _) in zip(stages, STAGES):
        rows = in_span(frame, t, t + duration)
        assert (entry["start_s"], entry["end_s"]) == (t, t + duration)
        assert entry["aggregate"]["requests"] == len(rows)
        assert entry["aggregate"]["rps"] == pytest.approx(len(rows) / duration, abs=1e-3)
        for key, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
            assert entry["aggregate"][key] == nearest_rank(rows["rt_ms"].to_numpy(), q)
        for endpoint in entry["endpoints"]:
            mine = rows[(rows["type"] == endpoint["method"]) & (rows["name"] == endpoint["name"])]
            assert endpoint["p95_ms"] == nearest_rank(mine["rt_ms"].to_numpy(), 0.95), endpoint["name"]
        t += duration


RECOVERY = {"metric": "p95", "scope": "endpoint:GET /api/v1/jobs", "stage": 3, "relative_to": {"stage": 1},
            "critical": 1.25}


@pytest.mark.parametrize(("recovery_ms", "status"), [(10.5, "PASS"), (30.0, "FAIL")])
def test_a_relative_threshold_judges_the_recovery_against_the_baseline(tmp_path: Path, recovery_ms: float,
                                                                       status: str) -> None:
    run_dir, frame = make_run(tmp_path / "run", [RECOVERY], frame=requests(recovery_ms))
    result = summary_of(run_dir)["thresholds"][0]
    jobs = frame[frame["name"] == "/api/v1/jobs"]
    recovery, baseline = in_span(jobs, 30, 50)["rt_ms"].to_numpy(), in_span(jobs, 0, 20)["rt_ms"].to_numpy()
    ratio = nearest_rank(recovery, 0.95) / nearest_rank(baseline, 0.95)
    assert result["status"] == status
    assert result["observed"] == pytest.approx(ratio)
    assert result["baseline"] == nearest_rank(baseline, 0.95)
    assert result["span"] == "stage 3" and result["relative_to"] == "stage 1"
    # the spike itself is more than 1.25x the baseline whatever the recovery: the whole run is not what is judged
    assert nearest_rank(in_span(jobs, 20, 30)["rt_ms"].to_numpy(), 0.95) > 1.25 * nearest_rank(baseline, 0.95)


def test_a_window_counts_from_the_end_and_from_the_start(tmp_path: Path) -> None:
    thresholds = [{"metric": "p99", "window": ["-10s", "end"], "critical": 1000},
                  {"metric": "p99", "window": ["20s", "30s"], "critical": 1000},
                  {"metric": "rps", "window": [0, "10s"], "target": 1}]
    run_dir, frame = make_run(tmp_path / "run", thresholds)
    last, spike, first = summary_of(run_dir)["thresholds"]
    assert last["observed"] == nearest_rank(in_span(frame, 40, 50)["rt_ms"].to_numpy(), 0.99)
    assert spike["observed"] == nearest_rank(in_span(frame, 20, 30)["rt_ms"].to_numpy(), 0.99)
    assert first["observed"] == pytest.approx(len(in_span(frame, 0, 10)) / 10, abs=1e-3)


def test_the_open_model_counts_drops_and_times_first_requests_from_the_schedule(tmp_path: Path) -> None:
    thresholds = [{"metric": "dropped_ratio", "critical": 0.01},
                  {"metric": "dropped_ratio", "stage": 1, "critical": 0.01},
                  {"metric": "dropped_iterations", "stage": 2, "critical": 10},
                  {"metric": "p95_from_schedule", "scope": "endpoint:GET /api/v1/jobs", "critical": 1000}]
    extra = schedule_rows(START + 25.0, 200)
    run_dir, frame = make_run(tmp_path / "run", thresholds, kind="arrival", extra=extra)
    summary = summary_of(run_dir)
    open_model = summary["open_model"]
    started = int(((extra["type"] == "ITER") & (extra["name"] == "start")).sum())
    assert open_model["intended_iterations"] == pytest.approx(RATE * 50)
    assert (open_model["started_iterations"], open_model["dropped_iterations"]) == (started, 200)
    assert open_model["dropped_ratio"] == pytest.approx(200 / (started + 200))
    lateness = extra[(extra["type"] == "ITER") & (extra["name"] == "start")]["rt_ms"].to_numpy()
    assert open_model["lateness_ms"]["p95"] == nearest_rank(lateness, 0.95)
    sched = extra[extra["type"] == "SCHED"]["rt_ms"].to_numpy()
    assert open_model["from_schedule"]["aggregate"]["p95_ms"] == nearest_rank(sched, 0.95)
    over_time = open_model["over_time"]
    bucket = over_time["t_s"][1] - over_time["t_s"][0]
    assert sum(over_time["dropped_per_s"]) * bucket == pytest.approx(200)
    assert sum(over_time["achieved_per_s"]) * bucket == pytest.approx(started)
    statuses = [r["status"] for r in summary["thresholds"]]
    assert statuses == ["FAIL", "PASS", "FAIL", "PASS"]
    assert summary["thresholds"][3]["observed"] == nearest_rank(sched, 0.95)
    assert summary["stages"][1]["dropped_iterations"] == 200 and summary["stages"][0]["dropped_iterations"] == 0
    # the schedule rows are not requests: no request figure counts them
    assert summary["aggregate"]["requests"] == len(frame)
    assert {(e["method"], e["name"]) for e in summary["endpoints"]} == {("GET", "/api/v1/jobs"), ("GET", "/api/v1/jobs/{id}")}
    assert (run_dir / "charts" / "start_rate.png").is_file()
    assert "Open model" in (run_dir / "report.md").read_text()
    # the in-memory engine says the same, to the last digit (the default above is out of core)
    memory = report(run_dir, engine=ENGINE_MEMORY, out_dir=tmp_path / "memory").summary
    for key in ("stages", "open_model", "thresholds", "aggregate", "endpoints"):
        assert json.dumps(getattr(memory, key), default=str) == json.dumps(summary[key], default=str), key


def test_memory_growth_is_the_slope_of_the_backends_rss(tmp_path: Path) -> None:
    run_dir, _ = make_run(tmp_path / "run", [{"metric": "rss_growth_mb_per_h", "critical": 50},
                                             {"metric": "rss_growth_mb_per_h", "stage": 2, "critical": 50}])
    server = run_dir / rundir.SERVER_DIR
    server.mkdir()
    ts = START + np.arange(0, 50, 2.0)
    # 100 MB/h from the start, flat during the spike stage (20-30 s)
    rss = 200e6 + np.minimum(ts - START, 20) * 100e6 / 3600 + np.maximum(ts - START - 30, 0) * 100e6 / 3600
    pd.DataFrame({"ts": ts, "pids": "1", "cpu_percent": 10.0, "rss_bytes": rss}).to_csv(server / rundir.PROCESS_CSV,
                                                                                       index=False)
    whole, spike = summary_of(run_dir)["thresholds"]
    assert whole["status"] == "FAIL" and 50 < whole["observed"] < 100
    assert spike["status"] == "PASS" and spike["observed"] == pytest.approx(0.0, abs=1e-6)


def test_the_report_recomputes_the_window_that_aborted_the_run(tmp_path: Path) -> None:
    abort = {"metric": "p95", "scope": "aggregate", "observed": 99.0, "level": 50.0,
             "window_start": START + 20, "window_end": START + 30}
    run_dir, frame = make_run(tmp_path / "run", [], run_extra={"abort": abort})
    summary = summary_of(run_dir)
    assert summary["abort"]["observed"] == 99.0
    assert summary["abort"]["exact"] == nearest_rank(in_span(frame, 20, 30)["rt_ms"].to_numpy(), 0.95)
    assert "Live abort" in (run_dir / "report.md").read_text()


def test_spans_without_data_say_why(tmp_path: Path) -> None:
    thresholds = [{"metric": "p95", "window": ["60s", "end"], "critical": 10},
                  {"metric": "dropped_ratio", "critical": 0.1},
                  {"metric": "p95", "stage": 3, "critical": 10}]
    run_dir, _ = make_run(tmp_path / "run", thresholds, run_extra={"shape": {"kind": "stages", "stages": [
        {"duration_s": 20.0, "target": 1}, {"duration_s": 200.0, "target": 1}, {"duration_s": 10.0, "target": 1}]}})
    window, dropped, stage = summary_of(run_dir)["thresholds"]
    assert window["status"] == stage["status"] == dropped["status"] == "NO_DATA"
    assert "empty" in window["reason"]
    assert "no iteration rows" in dropped["reason"]
    assert "ended before stage 3" in stage["reason"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"metric": "p95", "critical": 1, "stage": 0}, "stage: expected a stage number from 1"),
    ({"metric": "p95", "critical": 1, "stage": 1, "window": [0, "end"]}, "expected stage or window, not both"),
    ({"metric": "p95", "critical": 1, "window": ["soon", "end"]}, "window[0]: expected"),
    ({"metric": "p95", "critical": 1, "window": ["-10m"]}, "window: expected [from, to]"),
    ({"metric": "p95", "critical": 1, "relative_to": 1}, "relative_to: expected a table"),
    ({"metric": "p95", "critical": 1, "stage": 2, "abort_on_fail": True}, "abort_on_fail: a threshold with stage"),
    ({"metric": "dedup_rate", "critical": 0.5, "window": [0, "end"]}, "exists over the whole run only"),
    ({"metric": "dropped_ratio", "critical": 0.1, "scope": "endpoint:GET /x"}, "counts iterations"),
    ({"metric": "rss_growth_mb_per_h", "critical": 1, "scope": "persona:BrowsingUser"}, "only scope 'aggregate'"),
])
def test_bad_time_scopes_are_named(raw: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        Threshold.from_dict(raw, "t")
    assert message in str(error.value)


def test_time_scopes_round_trip_through_run_json_and_scale_with_time(tmp_path: Path) -> None:
    raw = {"metric": "p95", "window": ["-10m", "end"], "relative_to": {"window": ["5m", "15m"]}, "critical": 1.25}
    threshold = Threshold.from_dict(raw, "t")
    assert Threshold.from_dict(threshold.to_dict(), "run.json") == threshold
    scaled = threshold.scaled(0.1)
    assert scaled.span.text() == "window [-60s, end]" and scaled.relative_to.text() == "window [30s, 90s]"
    scenario = tmp_path / "s.toml"
    scenario.write_text('question = "q?"\n[personas]\nBrowsingUser = 1\n[shape]\nkind = "stages"\n'
                        '[[shape.stages]]\nduration = "1m"\ntarget = 1\n'
                        '[[thresholds]]\nmetric = "p95"\nstage = 2\ncritical = 1\n')
    with pytest.raises(ScenarioError, match=r"stage 2 does not exist; the shape has 1 stage"):
        load_scenario(scenario)


@pytest.mark.parametrize("name", ["spike", "soak", "database"])
def test_the_built_in_scenarios_ask_their_questions_over_time(name: str) -> None:
    scenario = load_scenario(name)
    if name == "database":
        assert any(t.metric == "dropped_ratio" for t in scenario.thresholds)
    else:
        assert any(t.relative_to is not None for t in scenario.thresholds)
    if name == "soak":
        assert any(t.metric == "rss_growth_mb_per_h" for t in scenario.thresholds)


# --- a real spike, against the session's backend behind a proxy that can make it slower mid-run

SPIKE = '''question = "Does latency recover after the spike?"
[personas]
BrowsingUser = 1
[shape]
kind = "stages"
[[shape.stages]]
duration = "4s"
target = 2
label = "baseline"
[[shape.stages]]
duration = "2s"
target = 8
label = "spike"
[[shape.stages]]
duration = "2s"
target = 8
label = "hold"
[[shape.stages]]
duration = "1s"
target = 2
label = "drop back"
[[shape.stages]]
duration = "5s"
target = 2
label = "recovery"
[[thresholds]]   # spike.toml's recovery threshold
metric = "p95"
stage = 5
relative_to = { stage = 1 }
target = 1.25
critical = 2.0
[[thresholds]]   # the same requests judged over the whole run
metric = "p95"
critical = 1000
'''
RECOVERY_STARTS_S = 9.0


@pytest.fixture(scope="module")
def spike_host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, 5, 30)
    return target_url


def load_start(run_json: Path, timeout_s: float = 60.0) -> float:
    """When the load started, from run.json (written then with status running)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            start = json.loads(run_json.read_text()).get("start")
        except (OSError, ValueError):
            start = None
        if start:
            return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        time.sleep(0.05)
    raise AssertionError(f"{run_json} never recorded the load's start")


@pytest.mark.parametrize("recovers", [True, False])
def test_a_spike_that_does_not_recover_fails_its_relative_threshold(spike_host: str, tmp_path: Path,
                                                                    recovers: bool) -> None:
    scenario, out = tmp_path / "spike.toml", tmp_path / "spike"
    scenario.write_text(SPIKE)
    # 20 ms on every request keeps the baseline's p95 away from zero, so the ratio is not a ratio of noise
    with delaying_proxy(spike_host, 20) as (url, set_delay):
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        proc = subprocess.Popen([*CLI, "run", str(scenario), "--host", url, "--seed-users", "5",
                                 "--think-time-scale", "0.1", "--no-profile-check", "--out", str(out)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            if not recovers:  # the backend stays slow once the spike is over: 300 ms from the recovery stage on
                time.sleep(max(load_start(out / rundir.RUN_JSON) + RECOVERY_STARTS_S - time.time(), 0))
                set_delay(300)
            output, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    summary = json.loads((out / rundir.SUMMARY_JSON).read_text())
    relative, whole = summary["thresholds"]
    baseline, recovery = summary["stages"][0]["aggregate"], summary["stages"][4]["aggregate"]
    assert relative["observed"] == pytest.approx(recovery["p95_ms"] / baseline["p95_ms"]), output
    if recovers:
        assert proc.returncode == 0 and relative["status"] != "FAIL" and relative["observed"] < 2.0, output
    else:
        assert proc.returncode == 1 and relative["status"] == "FAIL" and relative["observed"] > 2.0, output
        assert "FAIL: p95 aggregate in stage 5 relative to stage 1" in output
    # the run-wide p95 cannot tell the two apart: it passes both times
    assert whole["status"] == "PASS", output
