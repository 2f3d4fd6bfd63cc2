"""Server-side evidence in the report: run directories with server/ snapshots whose deltas are known by hand.

Four snapshots (one before the load window, two during, one just after) of
every source, written with the snapshotter's own column lists. The expected
figures below are worked out from the rows, so a change in how increments,
resets, evictions or truncation are handled shows up as a wrong number.
"""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from analysis.explain import top_statements as explain_top_statements
from analysis.load import load_run_dir
from analysis import summary as summary_mod
from analysis.report import analyse, choose_thresholds, report
from analysis.server import increments, read_server
from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json
from foundation import rundir
from foundation.rundir import CONNECTION_COLUMNS, PROCESS_COLUMNS, REDIS_COLUMNS, STATEMENT_COLUMNS
from scenarios.thresholds import ScenarioError, Threshold

START = 1_750_000_000.0
DURATION = 60.0
TS = (START - 1, START + 20, START + 40, START + 61)
MIB = 2**20

JOB_LIST = "SELECT id, title FROM jobs WHERE user_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT $3"
JOB_COUNT = "SELECT count(*) FROM jobs WHERE user_id = $1"
UPDATE = "UPDATE jobs\n   SET status = $1 WHERE id = $2"  # a newline inside a quoted CSV field
BIG_QUERYID = "-9223372036854775000"  # not exact as a float64

# app counters (hits 950, misses 200 over the run), keyspace ones (1100, 200), 5 evictions
REDIS_ON = [
    (TS[0], 1000, 500, 0, 10, 1_000_000, 0, 0, 0),
    (TS[1], 1300, 600, 2, 200, 2_000_000, 250, 100, 0),
    (TS[2], 1700, 650, 5, 300, 3_000_000, 600, 150, 1),
    (TS[3], 2100, 700, 5, 100, 2_500_000, 950, 200, 1),
]
# CACHE_ENABLED=false: the application never looks up, so its counters stay at 0; the keyspace only
# sees the snapshotter's own read of the (missing) metrics hash, one miss per snapshot.
REDIS_OFF = [(ts, 1000, 500 + i, 0, 5, 1_000_000, 0, 0, 0) for i, ts in enumerate(TS)]

# (queryid, query, calls, total_ms, rows, shared_blks_hit, shared_blks_read) per snapshot
STATEMENTS = {
    TS[0]: [("111", JOB_LIST, 100, 1000, 2000, 900, 100), ("111", JOB_LIST, 10, 100, 200, 90, 10),
            ("222", "BEGIN", 500, 50, 0, 0, 0), (BIG_QUERYID, UPDATE, 20, 40, 20, 60, 0),
            ("555", "SELECT 1 FROM evicted", 7, 70, 7, 7, 0)],
    TS[1]: [("111", JOB_LIST, 200, 3000, 4000, 1800, 200), ("111", JOB_LIST, 10, 100, 200, 90, 10),
            ("222", "BEGIN", 800, 80, 0, 0, 0), ("333", JOB_COUNT, 50, 2500, 50, 100, 100),
            (BIG_QUERYID, UPDATE, 40, 80, 40, 120, 0)],
    TS[2]: [("111", JOB_LIST, 300, 5000, 6000, 2700, 300), ("111", JOB_LIST, 20, 300, 400, 180, 20),
            ("222", "BEGIN", 1100, 110, 0, 0, 0), ("333", JOB_COUNT, 100, 5000, 100, 200, 200),
            (BIG_QUERYID, UPDATE, 60, 120, 60, 180, 0)],
    TS[3]: [("111", JOB_LIST, 400, 7000, 8000, 3600, 400), ("111", JOB_LIST, 20, 300, 400, 180, 20),
            ("222", "BEGIN", 1400, 140, 0, 0, 0), ("333", JOB_COUNT, 150, 7500, 150, 300, 300),
            (BIG_QUERYID, UPDATE, 80, 160, 80, 240, 0)],
}
CONNECTIONS = [(TS[0], 2, 0, 2, 0), (TS[1], 12, 8, 3, 1), (TS[2], 14, 10, 4, 0), (TS[3], 6, 1, 5, 0)]
PROCESS = [(TS[0], "10 11", 0.0, 100 * MIB), (TS[1], "10 11", 150.0, 120 * MIB),
           (TS[2], "10 11 12", 90.0, 140 * MIB), (TS[3], "10 11 12", 30.0, 110 * MIB)]

# over the run: job list 310 calls 6200 ms, BEGIN 900 / 90, job count (new) 150 / 7500, update 60 / 120
DB_CALLS, DB_TOTAL_MS = 1420, 13910.0
THRESHOLDS = [
    {"metric": "cache_hit_rate", "target": 0.9, "critical": 0.5},
    {"metric": "db_mean_ms", "target": 5, "critical": 10},
    {"metric": "db_mean_ms", "scope": "statement:top", "critical": 40},
]


def _write(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", newline="") as handle:  # the snapshotter's own writer: csv module, CRLF, quoted newlines
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


def make_run(root: Path, *, cache_on: bool = True, sources: tuple[str, ...] = ("redis", "statements", "connections",
                                                                               "process")) -> Path:
    """A run directory: 2,000 raw requests over the window, run.json with THRESHOLDS, server/ snapshots."""
    run_dir = root / "run"
    run_dir.mkdir()
    write_request_log(synthesise([Endpoint("GET", "/api/v1/jobs", 40)], 2000, DURATION, START, seed=3),
                      run_dir / rundir.REQUEST_LOG)
    write_run_json(run_dir, scenario="server", start=START, end=START + DURATION, thresholds=THRESHOLDS)
    server = run_dir / rundir.SERVER_DIR
    server.mkdir()
    if "redis" in sources:
        _write(server / "redis.csv", REDIS_COLUMNS, REDIS_ON if cache_on else REDIS_OFF)
    if "statements" in sources:
        _write(server / "pg_statements.csv", STATEMENT_COLUMNS,
               [(ts, qid, query, calls, total, total / calls, rows, hit, read)
                for ts, snapshot in STATEMENTS.items() for qid, query, calls, total, rows, hit, read in snapshot])
    if "connections" in sources:
        _write(server / "pg_connections.csv", CONNECTION_COLUMNS, CONNECTIONS)
    if "process" in sources:
        _write(server / "process.csv", PROCESS_COLUMNS, PROCESS)
    return run_dir


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / rundir.SUMMARY_JSON).read_text())


def _analysed(run_dir: Path) -> dict:
    """summary.json alone, without the charts and reports (the slow part) when a test needs only figures."""
    data = load_run_dir(run_dir)
    summary, _ = analyse(data, *choose_thresholds(data, None, None))
    return json.loads(summary_mod.write(summary, run_dir / rundir.SUMMARY_JSON).read_text())


def _results(summary: dict) -> dict[tuple[str, str], dict]:
    return {(r["metric"], r["scope"]): r for r in summary["thresholds"]}


def _cut(path: Path, marker: bytes) -> None:
    """Cut the file just after the last occurrence of `marker`, as a snapshotter killed mid-write leaves it."""
    raw = path.read_bytes()
    path.write_bytes(raw[:raw.rindex(marker) + len(marker)])


def test_figures_over_the_run_and_per_interval_are_exact(tmp_path):
    run_dir = make_run(tmp_path)
    server = _analysed(run_dir)["server"]
    cache = server["cache"]
    assert cache["source"] == "application (/cache/metrics)"
    assert (cache["hits"], cache["misses"], cache["traffic"]) == (950, 200, 1150)
    assert server["cache_hit_rate"] == cache["hit_rate"] == pytest.approx(950 / 1150)
    assert cache["application"]["errors"] == 1
    assert cache["keyspace"] == {"hits": 1100, "misses": 200, "hit_rate": pytest.approx(1100 / 1300)}
    assert cache["evicted_keys"] == 5
    assert cache["used_memory_bytes"] == {"peak": 3_000_000, "mean": pytest.approx(2_125_000)}
    assert cache["ops_per_sec"] == {"peak": 300, "mean": pytest.approx(152.5)}
    assert cache["series"]["ts"] == list(TS[1:]) and cache["series"]["interval_s"] == pytest.approx([21, 20, 21])
    assert cache["series"]["hit_rate"] == pytest.approx([250 / 350, 350 / 400, 350 / 400])

    database = server["database"]
    assert (database["calls"], database["total_ms"], database["statements"]) == (DB_CALLS, DB_TOTAL_MS, 4)
    assert server["db_mean_ms"] == database["mean_ms"] == pytest.approx(DB_TOTAL_MS / DB_CALLS)
    # BEGIN is left out of the top list; the statement first seen mid-run counts whole; the evicted one not at all
    assert [(r["query"], r["calls"], r["total_ms"], r["rows"]) for r in database["top"]] == [
        (JOB_COUNT, 150, 7500, 150), (JOB_LIST, 310, 6200, 6200), (UPDATE, 60, 120, 60)]
    assert [r["mean_ms"] for r in database["top"]] == pytest.approx([50, 20, 2])
    assert [r["hit_ratio"] for r in database["top"]] == pytest.approx([0.5, 0.9, 1.0])
    assert database["top"][2]["queryid"] == BIG_QUERYID
    assert database["series"]["db_ms"] == [4570, 4770, 4570]
    assert database["series"]["calls"] == [470, 480, 470]
    assert database["series"]["interval_s"] == pytest.approx([21, 20, 21])

    connections = server["connections"]
    assert connections["total"] == {"peak": 14, "mean": pytest.approx(8.5)}
    assert connections["active"]["peak"] == 10 and connections["idle_in_transaction"]["peak"] == 1
    process = server["process"]
    assert process["processes"] == 3
    # psutil's first reading is no reading; the rest weighted by interval: (150·21 + 90·20 + 30·21) / 62
    assert process["cpu_percent"] == {"peak": 150, "mean": pytest.approx(90.0)}
    assert process["rss_bytes"] == {"peak": 140 * MIB, "mean": pytest.approx(117.5 * MIB)}
    assert process["series"]["cpu_percent"][0] is None
    assert server["snapshots"] == {"first_ts": TS[0], "last_ts": TS[3], "duration_s": pytest.approx(62)}
    assert server["notes"] == []


def test_thresholds_on_hit_rate_and_database_time(tmp_path):
    run_dir = make_run(tmp_path)
    results = _results(_analysed(run_dir))
    assert results[("cache_hit_rate", "aggregate")]["status"] == "WARN"  # 82.6 %: above critical, below target
    assert results[("db_mean_ms", "aggregate")]["status"] == "WARN"      # 9.8 ms: under 10, over 5
    top = results[("db_mean_ms", "statement:top")]
    assert top["status"] == "FAIL" and top["observed"] == pytest.approx(50)
    assert JOB_COUNT in top["reason"] and "slowest of the top 3" in top["reason"]


def test_cache_off_fails_the_hit_rate_threshold_and_the_report_says_so(tmp_path):
    run_dir = make_run(tmp_path, cache_on=False)
    outcome = report(run_dir)
    summary = _summary(run_dir)
    cache = summary["server"]["cache"]
    assert cache["hit_rate"] is None and cache["traffic"] == 0 and summary["server"]["cache_hit_rate"] is None
    result = _results(summary)[("cache_hit_rate", "aggregate")]
    assert result["observed"] == 0.0 and result["status"] == "FAIL"
    assert "no cache traffic" in result["reason"] and "2,000 requests" in result["reason"]
    assert summary["verdict"] == "FAIL" and outcome.exit_code == 1
    for name in (rundir.REPORT_MD, rundir.REPORT_HTML):
        text = (run_dir / name).read_text()
        assert "cache disabled or no cache traffic: no hit rate" in text, name
    # the same run with the cache on passes the critical level (and only misses the target)
    (tmp_path / "on").mkdir()
    on = make_run(tmp_path / "on")
    assert _results(_analysed(on))[("cache_hit_rate", "aggregate")]["status"] == "WARN"


def test_keyspace_counters_when_the_application_ones_were_not_recorded(tmp_path):
    run_dir = make_run(tmp_path, sources=())
    rows = [(ts, hits, misses, ev, ops, mem, "", "", "") for ts, hits, misses, ev, ops, mem, *_ in REDIS_ON]
    # Redis restarted before the last snapshot: its counters start again from zero
    rows[3] = (TS[3], 150, 30, 0, 100, 500_000, "", "", "")
    _write(run_dir / "server" / "redis.csv", REDIS_COLUMNS, rows)
    cache = read_server(run_dir)["cache"]
    assert cache["source"] == "redis keyspace" and cache["application"] is None
    assert (cache["hits"], cache["misses"]) == (300 + 400 + 150, 100 + 50 + 30)
    assert cache["evicted_keys"] == 5
    assert list(increments(np.array([5.0, 9.0, 2.0, 4.0]))) == [4.0, 2.0, 2.0]


def test_report_sections_and_charts(tmp_path):
    run_dir = make_run(tmp_path)
    outcome = report(run_dir)
    markdown = (run_dir / rundir.REPORT_MD).read_text()
    for heading in ("### Cache", "### Database", "### Backend process"):
        assert heading in markdown
    assert "Hit rate over the run: 82.61 % (950 hits, 200 misses" in markdown
    assert f"| {JOB_COUNT} | 150 | 7,500 | 50.0 | 150 | 50.00 % |" in markdown
    assert "UPDATE jobs SET status = $1 WHERE id = $2" in markdown  # shortened onto one line
    assert "| BEGIN |" not in markdown
    assert "CPU peak 150 %, mean 90 %" in markdown and "peak 140.0 MiB" in markdown
    html = (run_dir / rundir.REPORT_HTML).read_text()
    for heading in (">Cache</h2>", ">Database</h2>", ">Backend process</h2>"):
        assert heading in html
    charts = {path.name for path in outcome.files if path.suffix == ".png"}
    assert {"server_over_time.png", "backend_over_time.png"} <= charts
    for name in ("server_over_time.png", "backend_over_time.png"):
        png = (run_dir / rundir.CHARTS_DIR / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 800 and height >= 500
    assert html.count("data:image/png;base64,") == len(charts)


def test_without_snapshots_there_is_no_server_section(tmp_path):
    run_dir = make_run(tmp_path)
    for path in (run_dir / "server").iterdir():
        path.unlink()
    (run_dir / "server").rmdir()
    outcome = report(run_dir)
    summary = _summary(run_dir)
    assert summary["server"] is None
    assert _results(summary)[("cache_hit_rate", "aggregate")]["status"] == "NO_DATA"
    assert "### Cache" not in (run_dir / rundir.REPORT_MD).read_text()
    assert not any(path.name.startswith(("server_", "backend_")) for path in outcome.files)


def test_missing_sources_are_notes_not_errors(tmp_path):
    run_dir = make_run(tmp_path, sources=("redis",))
    outcome = report(run_dir)
    summary = _summary(run_dir)
    server = summary["server"]
    assert server["cache"] is not None and server["database"] is None and server["process"] is None
    assert any("server/pg_statements.csv is missing" in note for note in server["notes"])
    assert any("server/process.csv is missing" in note for note in server["notes"])
    results = _results(summary)
    assert results[("db_mean_ms", "aggregate")]["status"] == "NO_DATA"
    assert "no pg_stat_statements snapshots" in results[("db_mean_ms", "aggregate")]["reason"]
    markdown = (run_dir / rundir.REPORT_MD).read_text()
    assert "### Database" not in markdown and "> No pg_stat_statements snapshots" in markdown
    names = {path.name for path in outcome.files}
    assert "server_over_time.png" in names and "backend_over_time.png" not in names


def test_truncated_and_short_snapshot_files(tmp_path):
    run_dir = make_run(tmp_path)
    server = run_dir / "server"
    _cut(server / "redis.csv", f"{TS[3]},2100,7".encode())              # the last line cut mid-way
    _cut(server / "pg_statements.csv", b"UPDATE jobs\n   SET")         # inside the last snapshot's quoted query
    (server / "pg_connections.csv").write_text(",".join(CONNECTION_COLUMNS) + "\r\n")  # header only
    (server / "process.csv").write_bytes(b"")
    server_section = _analysed(run_dir)["server"]
    notes = " ".join(server_section["notes"])
    assert "server/redis.csv is truncated: its last line is cut off" in notes
    assert "server/pg_statements.csv is truncated" in notes and "incomplete snapshot was dropped" in notes
    assert "server/pg_connections.csv has 0 snapshots" in notes
    assert "server/process.csv is truncated: the file is empty" in notes
    # three redis snapshots: app hits 600, misses 150
    assert server_section["cache_hit_rate"] == pytest.approx(600 / 750)
    # the statements' last snapshot is gone: TS[0] → TS[2] only
    database = server_section["database"]
    assert (database["calls"], database["total_ms"]) == (470 + 480, 4570 + 4770)
    assert server_section["connections"] is None and server_section["process"] is None


def test_explain_shares_the_top_statement_list(tmp_path):
    run_dir = make_run(tmp_path)
    top, window = explain_top_statements(run_dir, limit=2)
    assert list(top["query"]) == [JOB_COUNT, JOB_LIST]
    assert list(top["calls"]) == [150, 310] and list(top["hit_ratio"]) == pytest.approx([0.5, 0.9])
    assert window == "62 s between the first and the last snapshot"


@pytest.mark.parametrize("table, message", [
    ({"metric": "cache_hit_rate", "scope": "statement:top", "target": 0.8}, "only for metric db_mean_ms"),
    ({"metric": "db_mean_ms", "scope": "statement:slowest", "critical": 100}, "'statement:top' is the only"),
    ({"metric": "db_mean_ms", "scope": "statement:", "critical": 100}, "or 'statement:top'"),
])
def test_statement_scope_validation(table, message):
    with pytest.raises(ScenarioError, match=message):
        Threshold.from_dict(table, "t")
    assert Threshold.from_dict({"metric": "db_mean_ms", "scope": "statement:top", "critical": 100}, "t").scope_kind == "statement"


def test_server_metric_in_an_endpoint_scope_has_no_data(tmp_path):
    run_dir = make_run(tmp_path)
    threshold = Threshold.from_dict({"metric": "cache_hit_rate", "scope": "endpoint:GET /api/v1/jobs", "target": 0.8}, "t")
    summary, _ = analyse(load_run_dir(run_dir), [threshold], "test")
    assert summary.thresholds[0]["status"] == "NO_DATA" and "server-wide" in summary.thresholds[0]["reason"]
