"""careerload report / python -m analysis against run directories whose true values are known.

The run directories are synthesised from samples drawn with a fixed seed
(`analysis.synthetic`); Locust's CSVs for the same requests are written by
Locust's own statistics code (replayed in a subprocess, since importing Locust
monkey-patches the process). So the raw-log percentiles can be checked exactly
against numpy, and the CSV ones against Locust's own rounding.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main as analysis_main
from analysis.report import analyse, choose_thresholds, report
from analysis.percentiles import PERCENTILES
from analysis.stats import compute
from analysis.load import load_run_dir
from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json
from analysis.verdict import evaluate, verdict
from foundation import rundir
from scenarios.thresholds import ScenarioError, Threshold

ROOT = Path(__file__).resolve().parent.parent
START = 1_750_000_000.0
DURATION = 60.0
N = 20_000
ENDPOINTS = [
    Endpoint("GET", "/api/v1/jobs", 80, failure_ratio=0.02),
    Endpoint("GET", "/api/v1/jobs/{id}", 30, weight=2),
    Endpoint("POST", "/api/v1/content/generate/cover-letter", 3000, sigma=0.4, weight=0.3, failure_ratio=0.05,
             persona="AIGenerationUser"),
    Endpoint("SQL", "job list query", 40, sigma=1.0, weight=1, persona="DatabaseUser"),
]
THRESHOLDS = [
    {"metric": "p95", "target": 10_000, "critical": 20_000},
    {"metric": "failure_ratio", "scope": "endpoint:GET /api/v1/jobs", "target": 0.5},
]


def replay_into_locust(run_dir: Path) -> None:
    subprocess.run([sys.executable, "-m", "analysis.synthetic", "replay", str(run_dir / "requests.csv"),
                    str(run_dir / "locust"), "--users", "12"], cwd=ROOT, check=True, timeout=120)


@pytest.fixture(scope="session")
def known_run(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A run directory (raw log, run.json, Locust's CSVs) and the requests it holds."""
    run_dir = tmp_path_factory.mktemp("run")
    frame = synthesise(ENDPOINTS, N, DURATION, START, seed=7)
    write_request_log(frame, run_dir / "requests.csv")
    write_run_json(run_dir, scenario="known", start=START, end=START + DURATION, thresholds=THRESHOLDS)
    replay_into_locust(run_dir)
    return run_dir, frame


@pytest.fixture
def run_copy(known_run, tmp_path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(known_run[0], target)
    return target


def _truth(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {f"{m} {n}": group["rt_ms"].to_numpy() for (m, n), group in frame.groupby(["type", "name"], observed=True)}


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_percentiles_and_totals_are_exact_from_the_raw_log(run_copy, known_run):
    frame = known_run[1]
    result = report(run_copy)
    summary = _summary(run_copy)
    assert summary["percentile_source"] == "raw request log"
    assert set(summary) >= {"verdict", "aggregate", "endpoints", "personas", "thresholds", "percentile_source"}
    truth = _truth(frame)
    assert {f"{e['method']} {e['name']}" for e in summary["endpoints"]} == set(truth)
    for row in [*summary["endpoints"], summary["aggregate"]]:
        samples = frame["rt_ms"].to_numpy() if row["method"] is None else truth[f"{row['method']} {row['name']}"]
        for key, q in PERCENTILES.items():
            # the documented method: nearest rank, numpy's inverted_cdf
            assert row[f"{key}_ms"] == round(float(np.quantile(samples, q, method="inverted_cdf")), 3), (row["name"], key)
        assert row["max_ms"] == samples.max()
        assert row["avg_ms"] == pytest.approx(samples.mean(), abs=1e-3)
        assert row["requests"] == samples.size
        assert row["rps"] == pytest.approx(samples.size / DURATION, abs=1e-3)
    assert summary["aggregate"]["failures"] == int((frame["ok"] == 0).sum())
    personas = {row["name"]: row for row in summary["personas"]}
    assert personas["AIGenerationUser"]["requests"] == int((frame["user"] == "AIGenerationUser").sum())
    assert summary["verdict"] == "PASS" and result.exit_code == 0


def test_over_time_buckets_count_every_request(run_copy, known_run):
    stats = compute(load_run_dir(run_copy))
    timeline = stats.timeline
    assert timeline.bucket_s == 1.0 and len(timeline.frame) == DURATION
    assert (timeline.frame["requests_per_s"] * timeline.bucket_s).sum() == pytest.approx(N)
    assert timeline.frame["users"].dropna().eq(12).all()  # from Locust's history CSV
    assert stats.distributions and all(d.cdf[-1] == pytest.approx(1.0) for d in stats.distributions)


def locust_bucket(value: float) -> int:
    """Locust 2.x's response-time rounding (locust.stats.bucket_response_time), restated for the check."""
    if value < 100:
        return round(value)
    if value < 1000:
        return int(round(value, -1))
    if value < 10000:
        return int(round(value, -2))
    return int(round(value, -3))


def test_percentiles_from_locust_csv_are_within_locusts_rounding(run_copy, known_run):
    (run_copy / "requests.csv").unlink()
    report(run_copy)
    summary = _summary(run_copy)
    assert summary["percentile_source"] == "locust csv"
    assert summary["personas"] == [] and any("persona" in note for note in summary["notes"])
    truth = _truth(known_run[1])
    for row in summary["endpoints"]:
        samples = np.sort(truth[f"{row['method']} {row['name']}"])
        assert row["requests"] == samples.size
        for key, q in PERCENTILES.items():
            exact = float(np.quantile(samples, q, method="inverted_cdf"))
            # Locust counts rounded response times and takes the value at rank int(n*q)+1
            assert row[f"{key}_ms"] == locust_bucket(samples[int(samples.size * q)]), (row["name"], key)
            assert abs(row[f"{key}_ms"] - exact) <= 0.05 * exact + 1.0, (row["name"], key)


@pytest.fixture(scope="module")
def known_stats(known_run):
    return compute(load_run_dir(known_run[0]))


@pytest.mark.parametrize("metric", ["p50", "p95", "p99", "max", "avg"])
def test_latency_verdicts_at_the_target_and_critical_boundaries(known_stats, metric):
    observed = known_stats.aggregate[f"{metric}_ms"]
    cases = [
        ({"target": observed, "critical": observed}, "PASS"),            # exactly at both levels still meets them
        ({"target": observed - 0.001, "critical": observed}, "WARN"),   # just over the target
        ({"target": observed - 1, "critical": observed - 0.001}, "FAIL"),  # just over the critical limit
        ({"critical": observed - 0.001}, "FAIL"),
        ({"target": observed - 0.001}, "WARN"),
    ]
    for levels, expected in cases:
        threshold = Threshold.from_dict({"metric": metric, **levels}, "test")
        assert evaluate([threshold], known_stats, {})[0]["status"] == expected, (metric, levels)


def test_rate_verdicts_are_higher_is_better_and_ratio_lower_is_better(known_stats):
    rps = known_stats.aggregate["rps"]
    ratio = next(r for r in known_stats.endpoints if r["name"] == "/api/v1/jobs")["failure_ratio"]
    checks = [
        ({"metric": "rps", "target": rps, "critical": rps}, "PASS"),
        ({"metric": "rps", "target": rps + 0.01, "critical": rps}, "WARN"),
        ({"metric": "rps", "critical": rps + 0.01}, "FAIL"),
        ({"metric": "failure_ratio", "scope": "endpoint:GET /api/v1/jobs", "critical": ratio}, "PASS"),
        ({"metric": "failure_ratio", "scope": "endpoint:GET /api/v1/jobs", "critical": ratio - 1e-6}, "FAIL"),
        ({"metric": "p95", "scope": "endpoint:GET /nowhere", "critical": 1}, "NO_DATA"),
        ({"metric": "cache_hit_rate", "target": 0.5}, "NO_DATA"),
    ]
    results = evaluate([Threshold.from_dict(raw, "test") for raw, _ in checks], known_stats, {})
    assert [r["status"] for r in results] == [expected for _, expected in checks]
    assert verdict(results) == "FAIL"
    assert "no requests to GET /nowhere" in results[5]["reason"]


def _write_thresholds(path: Path, tables: list[dict]) -> Path:
    lines = []
    for table in tables:
        lines.append("[[thresholds]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_threshold_without_data_counts_as_warn(run_copy, tmp_path, capsys):
    """Behaviour change: NO_DATA used to count as PASS, so a threshold whose scope matched nothing passed silently."""
    ghost = _write_thresholds(tmp_path / "ghost.toml", [{"metric": "p95", "scope": "endpoint:GET /nowhere", "critical": 1}])
    assert analysis_main([str(run_copy), "--thresholds", str(ghost)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "WARN p95 endpoint:GET /nowhere: no data (no requests to GET /nowhere)"
    assert "verdict: WARN" in out
    summary = _summary(run_copy)
    assert summary["verdict"] == "WARN" and summary["thresholds"][0]["status"] == "NO_DATA"
    assert any("count as WARN" in note for note in summary["notes"])
    assert "counts as WARN: p95 endpoint:GET /nowhere: no data" in (run_copy / "report.md").read_text()
    assert "(counts as WARN)" in (run_copy / "report.html").read_text()
    case = ET.parse(run_copy / "junit.xml").getroot().find("testsuite/testcase")
    assert case.find("skipped").get("message").startswith("WARN: p95 endpoint:GET /nowhere: no data")

    assert analysis_main([str(run_copy), "--thresholds", str(ghost), "--strict"]) == 1
    assert ET.parse(run_copy / "junit.xml").getroot().find("testsuite/testcase/failure").get("type") == "NO_DATA"


def test_an_unwritable_output_is_a_usage_error_not_a_fail(run_copy, capsys):
    assert analysis_main([str(run_copy), "--out", "/proc/nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("careerload: error: cannot write /proc/nope") and "\n" not in err


def test_task_completions_are_their_own_row_and_not_requests(tmp_path):
    """TASK scrape completion (seconds, end to end) stays out of the aggregate, personas and timeline."""
    endpoints = [Endpoint("GET", "/api/v1/tasks/{task_id}", 20, persona="ScrapingUser"),
                 Endpoint("TASK", "scrape completion", 8000, sigma=0.3, weight=0.2, failure_ratio=0.1,
                          persona="ScrapingUser")]
    frame = synthesise(endpoints, 5_000, DURATION, START, seed=3)
    write_request_log(frame, tmp_path / "requests.csv")
    write_run_json(tmp_path, scenario="scraping", start=START, end=START + DURATION, thresholds=[])
    stats = compute(load_run_dir(tmp_path))
    http = frame[frame["type"] != "TASK"]
    task = frame[frame["type"] == "TASK"]
    assert stats.aggregate["requests"] == len(http) and stats.aggregate["failures"] == 0
    assert stats.aggregate["p95_ms"] == round(float(np.quantile(http["rt_ms"], 0.95, method="inverted_cdf")), 3)
    row = next(r for r in stats.endpoints if r["method"] == "TASK")
    assert row["requests"] == len(task) and row["p95_ms"] > 5_000 and row["failures"] > 0
    assert [p["requests"] for p in stats.personas] == [len(http)]
    assert (stats.timeline.frame["requests_per_s"] * stats.timeline.bucket_s).sum() == pytest.approx(len(http))
    assert any("TASK rows" in note for note in stats.notes)


def test_dedup_rate_from_the_scrape_counters(run_copy, tmp_path):
    tables = [{"metric": "dedup_rate", "target": 0.3, "critical": 0.1}]
    run = json.loads((run_copy / "run.json").read_text())
    (run_copy / "run.json").write_text(json.dumps({**run, "counters": {}}))
    assert _summary_of(run_copy, tables)["thresholds"][0]["reason"].endswith("(run.json counts no finished scrape task)")
    counters = {"scrape tasks done": 17, "scrape jobs_scraped": 340, "scrape jobs_added": 300,
                "scrape jobs_deduplicated": 40}
    (run_copy / "run.json").write_text(json.dumps({**run, "counters": counters}))
    summary = _summary_of(run_copy, tables)
    assert summary["scrape"] == {"tasks_done": 17, "jobs_scraped": 340, "jobs_added": 300, "jobs_deduplicated": 40,
                                 "dedup_rate": 40 / 340}
    assert summary["thresholds"][0]["observed"] == 40 / 340 and summary["thresholds"][0]["status"] == "WARN"
    assert "dedup rate 11.76 %" in (run_copy / "report.md").read_text()
    with pytest.raises(ScenarioError, match="only scope 'aggregate'"):
        Threshold.from_dict({**tables[0], "scope": "persona:ScrapingUser"}, "t")


def _summary_of(run_dir: Path, tables: list[dict]) -> dict:
    report(run_dir, thresholds_file=str(_write_thresholds(run_dir / "t.toml", tables)))
    return _summary(run_dir)


def test_exit_codes_strict_and_junit(run_copy, known_stats, tmp_path, capsys):
    p95 = known_stats.aggregate["p95_ms"]
    warn_only = _write_thresholds(tmp_path / "warn.toml", [{"metric": "p95", "target": p95 - 1, "critical": p95 + 1}])
    failing = _write_thresholds(tmp_path / "fail.toml", [
        {"metric": "p95", "target": p95 - 1, "critical": p95 - 0.5},
        {"metric": "p99", "target": 1e9},
        {"metric": "p95", "scope": "persona:GhostUser", "target": 1},
    ])
    assert analysis_main([str(run_copy), "--thresholds", str(warn_only)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("WARN p95 aggregate") and "verdict: WARN" in out
    suite = ET.parse(run_copy / "junit.xml").getroot().find("testsuite")
    case = suite.find("testcase")
    assert case.find("failure") is None and "WARN" in case.find("system-out").text

    assert analysis_main([str(run_copy), "--thresholds", str(warn_only), "--strict"]) == 1
    assert ET.parse(run_copy / "junit.xml").getroot().find("testsuite/testcase/failure").get("type") == "WARN"

    assert analysis_main([str(run_copy), "--thresholds", str(failing)]) == 1
    assert "FAIL p95 aggregate" in capsys.readouterr().out
    suite = ET.parse(run_copy / "junit.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["p95 aggregate", "p99 aggregate", "p95 persona:GhostUser"]
    assert cases[0].find("failure") is not None and len(cases[1]) == 0 and cases[2].find("skipped") is not None
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    summary = _summary(run_copy)
    assert [t["status"] for t in summary["thresholds"]] == ["FAIL", "PASS", "NO_DATA"]
    assert set(summary["thresholds"][0]) >= {"metric", "scope", "target", "critical", "observed", "status"}
    md = (run_copy / "report.md").read_text()
    assert md.startswith("## ❌") and "| ❌ FAIL | p95 | aggregate |" in md


def _cut_last_line(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])


def _drop_aggregated_row(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))


@pytest.mark.parametrize("damage, names", [
    (lambda d: (d / "run.json").unlink(), "run.json is missing"),
    (lambda d: (d / "run.json").write_text('{"scenario": "kno'), "run.json is truncated"),
    (lambda d: _cut_last_line(d / "requests.csv"), "requests.csv is truncated: its last line is cut off"),
    (lambda d: (d / "requests.csv").write_text("ts,type,name\n1,GET,/x\n"), "requests.csv is truncated or not a request log"),
    (lambda d: (d / "requests.csv").write_text(""), "requests.csv is truncated: the file is empty"),
    (lambda d: ((d / "requests.csv").unlink(), _drop_aggregated_row(d / "locust_stats.csv")),
     "locust_stats.csv is truncated: it has no final 'Aggregated' row"),
    (lambda d: ((d / "requests.csv").unlink(), (d / "locust_stats.csv").unlink()),
     "has neither requests.csv nor locust_stats.csv"),
    (lambda d: _cut_last_line(d / "locust_stats_history.csv"), "locust_stats_history.csv is truncated"),
])
def test_unusable_run_directories_exit_2_naming_the_file(run_copy, capsys, damage, names):
    damage(run_copy)
    assert analysis_main([str(run_copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("careerload: error: ") and names in err[0], err


def test_missing_directory_and_missing_locust_history_exit_2(tmp_path, run_copy, capsys):
    assert analysis_main([str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (run_copy / "locust_stats_history.csv").unlink()
    assert analysis_main(["--locust-csv", str(run_copy / "locust")]) == 2
    assert "locust_stats_history.csv is missing" in capsys.readouterr().err
    assert analysis_main([]) == 2
    assert "either RUN_DIR or --locust-csv" in capsys.readouterr().err


def test_html_report_is_one_self_contained_file(run_copy):
    result = report(run_copy)
    html = (run_copy / "report.html").read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    images = re.findall(r'<img [^>]*src="([^"]*)"', html)
    charts = sorted((run_copy / "charts").glob("*.png"))
    assert len(charts) == 6 and len(images) == len(charts) == len(result.files) - 4
    assert "latency_per_persona.png" in {chart.name for chart in charts}
    assert all(src.startswith("data:image/png;base64,") for src in images)
    # verdict first, then thresholds, endpoints, charts, failures, parameters
    order = [html.index(s) for s in ("Verdict: PASS", "<h2>Contents", ">Thresholds</h2>", ">Endpoints</h2>",
                                     ">Charts</h2>", ">Failures by error</h2>", ">Run parameters</h2>")]
    assert order == sorted(order)


def test_plain_locust_csvs_with_a_thresholds_file(known_run, tmp_path, capsys):
    prefix = tmp_path / "plain" / "locust"
    prefix.parent.mkdir()
    for name in ("stats", "stats_history", "failures", "exceptions"):
        shutil.copy(known_run[0] / f"locust_{name}.csv", f"{prefix}_{name}.csv")
    thresholds = _write_thresholds(tmp_path / "t.toml", [
        {"metric": "p95", "target": 1, "critical": 1e6},
        {"metric": "p99", "scope": "persona:AIGenerationUser", "target": 1},
    ])
    assert analysis_main(["--locust-csv", str(prefix), "--thresholds", str(thresholds)]) == 0
    summary = _summary(prefix.parent)
    assert summary["percentile_source"] == "locust csv" and summary["verdict"] == "WARN"
    assert summary["run"]["thresholds_from"] == f"file {thresholds}"
    assert summary["thresholds"][1]["status"] == "NO_DATA"
    assert "raw request log" in summary["thresholds"][1]["reason"]
    assert summary["failures"] and summary["failures"][0]["occurrences"] >= summary["failures"][-1]["occurrences"]
    assert (prefix.parent / "charts" / "latency_over_time.png").is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[thresholds]]\nmetric = "p42"\n')
    assert analysis_main(["--locust-csv", str(prefix), "--thresholds", str(bad)]) == 2
    assert "thresholds[0].metric" in capsys.readouterr().err


MARKUP = '<script>alert("x")</script> & <b>'


def test_error_messages_with_newlines_and_per_worker_logs(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    frame = synthesise(ENDPOINTS[:2], 2000, 10, START, seed=3, workers=("w1", "w2"))
    frame["error"] = frame["error"].cat.add_categories(["Traceback:\nline two, with a comma", MARKUP])
    frame.loc[frame.index[:5], ["ok", "error"]] = [0, "Traceback:\nline two, with a comma"]
    frame.loc[frame.index[5:7], ["ok", "error"]] = [0, MARKUP]
    for worker in ("w1", "w2"):  # the merged requests.csv never got written
        # written the way locustfiles' RequestLog writes: Python's csv module, \r\n line ends
        with open(run_dir / f"requests-{worker}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(rundir.REQUEST_LOG_COLUMNS)
            for row in frame[frame["worker"] == worker].itertuples(index=False):
                writer.writerow(("%.3f" % row.ts, row.type, row.name, "%.3f" % row.rt_ms, row.size, row.ok,
                                 row.error, row.user, row.worker))
    write_run_json(run_dir, scenario="workers", start=START, end=START + 10, thresholds=[], workers=("w1", "w2"))
    report(run_dir)
    summary = _summary(run_dir)
    assert summary["aggregate"]["requests"] == 2000
    assert summary["aggregate"]["p95_ms"] == round(float(np.quantile(frame["rt_ms"], 0.95, method="inverted_cdf")), 3)
    assert any(f["error"] == "Traceback:\nline two, with a comma" and f["occurrences"] >= 1 for f in summary["failures"])
    assert summary["verdict"] == "PASS" and any("No thresholds" in note for note in summary["notes"])
    # an error body that looks like markup is shown as text in report.html, never run
    html = (run_dir / "report.html").read_text()
    assert MARKUP not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in html


def test_server_side_metrics_from_the_snapshots(run_copy):
    server = run_copy / "server"
    server.mkdir()
    (server / "redis.csv").write_text(
        "ts,keyspace_hits,keyspace_misses,evicted_keys,ops_per_sec,used_memory,app_hits,app_misses,app_errors\n"
        "1,100,50,0,0,0,10,10,0\n2,900,150,0,0,0,70,30,0\n")
    (server / "pg_statements.csv").write_text(
        "ts,queryid,query,calls,total_ms,mean_ms,rows,shared_blks_hit,shared_blks_read\n"
        "1,1,q1,10,100,10,0,0,0\n1,2,q2,5,5,1,0,0,0\n2,1,q1,30,300,10,0,0,0\n2,3,q3,10,40,4,0,0,0\n")
    data = load_run_dir(run_copy)
    # the application's own counters win: (70-10) / ((70-10) + (30-10))
    assert data.server["cache_hit_rate"] == pytest.approx(0.75)
    # q1 +20 calls +200 ms, q3 new: 10 calls 40 ms, q2 evicted
    assert data.server["db_mean_ms"] == pytest.approx(240 / 30)


def test_scenario_thresholds_through_the_scenario_loader(run_copy):
    loader = pytest.importorskip("scenarios.loader", reason="scenarios/loader.py (the scenario issue) not present")
    smoke = loader.load_scenario("smoke")
    data = load_run_dir(run_copy)
    thresholds, origin = choose_thresholds(data, None, "smoke")
    summary, _ = analyse(data, thresholds, origin)
    assert thresholds == list(smoke.thresholds) and len(summary.thresholds) == len(smoke.thresholds)
    assert summary.run["thresholds_from"] == "scenario smoke"


def test_the_exploration_notebook_script_runs(run_copy):
    script = ROOT / "analysis" / "notebooks" / "explore_run.py"
    done = subprocess.run([sys.executable, str(script), str(run_copy)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "verdict" in done.stdout.lower()


@pytest.mark.parametrize(("duration_s", "requests", "width"), [
    (60, 60_000, 1),      # a busy CI minute: per second
    (3600, 10_000_000, 10),  # an hour: at most MAX_BUCKETS points
    (60, 300, 5),         # a trickle: enough samples per bucket for a p95 to mean something
    (10, 5, 10),          # almost nothing: one bucket over the run
])
def test_over_time_buckets_are_wide_enough_for_their_percentiles(duration_s: float, requests: int, width: float) -> None:
    from analysis.raw_stats import choose_bucket

    assert choose_bucket(duration_s, requests) == width
