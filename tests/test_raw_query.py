"""The out-of-core engine (DuckDB over the raw log's files) against the in-memory one: the same figures, to the
last digit, on the same runs; and the Parquet raw log's writer.

Both engines run on the same run directories (a real Locust run, synthetic
Parquet runs with segments, an old CSV run) and their summary.json, over-time
series, distributions and comparisons must be identical, not close.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare
from analysis.load import ENGINE_DUCKDB, ENGINE_MEMORY, load_run_dir
from analysis.percentiles import PERCENTILES
from analysis.raw_stats import compute_raw
from analysis.report import report
from analysis.span_figures import figures_in
from analysis.spans import Interval
from analysis.synthetic import ERRORS, Endpoint, synthesise, write_parquet_log, write_request_log, write_run_json
from analysis.window import Window
from foundation.nearest_rank import nearest_rank
from test_personas_support import REPO, careerload, seed_accounts

START = 1_750_000_000.0
DURATION = 300.0
ENDPOINTS = [
    Endpoint("GET", "/api/v1/jobs", 40, failure_ratio=0.02),
    Endpoint("POST", "/api/v1/jobs", 90, weight=0.5, failure_ratio=0.05, persona="WritingUser"),
    Endpoint("GET", "/api/v1/jobs/{id}", 12, weight=2),
    Endpoint("TASK", "scrape completion", 900, weight=0.1, persona="ScrapingUser"),
    Endpoint("SQL", "job by id", 3, weight=0.5, persona=""),
]


def synthetic_frame(n: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    frame = synthesise(ENDPOINTS, n, DURATION, START, seed=seed, workers=("w0", "w1"))
    frame["rt_ms"] = (frame["rt_ms"] * scale).round(3)
    # an error message CSV must quote, with a newline in it
    frame["error"] = frame["error"].cat.add_categories(['bad "gateway",\nupstream'])
    frame.loc[frame.index[(frame["ok"] == 0).to_numpy()][::7], "error"] = 'bad "gateway",\nupstream'
    return frame


def parquet_run(path: Path, frame: pd.DataFrame) -> Path:
    """w0 compacted into requests-w0.parquet; w1 left as segments (a process that never compacted)."""
    (path / "requests").mkdir(parents=True)
    mine = frame["worker"] == "w0"
    write_parquet_log(frame[mine], path / "requests-w0.parquet", row_group_rows=5_000)
    theirs = frame[~mine]
    for i, part in enumerate(np.array_split(np.arange(len(theirs)), 7), start=1):
        write_parquet_log(theirs.iloc[part], path / "requests" / f"w1-{i:06d}.parquet")
    write_run_json(path, scenario="engines", start=START, end=START + DURATION, thresholds=[
        {"metric": "p95", "target": 100, "critical": 500},
        {"metric": "p99", "scope": "endpoint:GET /api/v1/jobs", "target": 100, "critical": 500},
        {"metric": "failure_ratio", "target": 0.01, "critical": 0.05},
    ], workers=("w0", "w1"))
    return path


def csv_run(path: Path, frame: pd.DataFrame) -> Path:
    path.mkdir(parents=True)
    write_request_log(frame, path / "requests.csv")
    write_run_json(path, scenario="engines", start=START, end=START + DURATION, thresholds=[], workers=("w0", "w1"))
    return path


def both_reports(run_dir: Path, tmp_path: Path) -> tuple:
    """report() with each engine into its own directory: (memory, duckdb) Reports and summary.json texts."""
    out = []
    for engine in (ENGINE_MEMORY, ENGINE_DUCKDB):
        result = report(run_dir, out_dir=tmp_path / engine, engine=engine)
        out.append((result, (tmp_path / engine / "summary.json").read_text()))
    return out


def assert_same_stats(memory, streamed) -> None:
    """Everything drawn but not in summary.json: over-time series, per-persona p95 over time, CDFs."""
    a, b = memory.stats, streamed.stats
    assert a.timeline.bucket_s == b.timeline.bucket_s
    pd.testing.assert_frame_equal(a.timeline.frame, b.timeline.frame, check_exact=True)
    assert list(a.timeline.persona_p95_ms) == list(b.timeline.persona_p95_ms)
    for persona, series in a.timeline.persona_p95_ms.items():
        np.testing.assert_array_equal(series, b.timeline.persona_p95_ms[persona])
    assert [d.label for d in a.distributions] == [d.label for d in b.distributions]
    for x, y in zip(a.distributions, b.distributions):
        np.testing.assert_array_equal(x.x_ms, y.x_ms)
        np.testing.assert_array_equal(x.cdf, y.cdf)


def without_source(summary_text: str) -> dict:
    document = json.loads(summary_text)
    document["run"].pop("source")
    return document


def test_duckdb_quantile_disc_is_the_nearest_rank_at_every_edge() -> None:
    """quantile_disc(x, q::DOUBLE) == foundation.nearest_rank for every n to 400 and n·q integral edges."""
    con = duckdb.connect()
    rng = np.random.default_rng(5)
    sizes = [*range(1, 401), 1000, 2000, 10_000, 100_000, 99_999, 100_001]
    qs = (*PERCENTILES.values(), 1.0)
    for n in sizes:
        values = rng.permutation(n).astype(float).tolist()
        got = con.execute("SELECT quantile_disc(x, ?::DOUBLE[]) FROM (SELECT unnest(?::DOUBLE[]) AS x)",
                          [list(qs), values]).fetchone()[0]
        ordered = sorted(values)
        assert got == [nearest_rank(ordered, q) for q in qs], n


def test_both_engines_give_the_same_report_of_a_parquet_run_with_segments(tmp_path: Path) -> None:
    run_dir = parquet_run(tmp_path / "run", synthetic_frame(60_000, seed=3))
    (memory, memory_json), (streamed, streamed_json) = both_reports(run_dir, tmp_path)
    assert memory_json == streamed_json
    document = json.loads(streamed_json)
    assert document["aggregate"]["requests"] > 50_000 and document["failures"] and document["thresholds"]
    assert any("\n" in failure["error"] for failure in document["failures"])
    assert_same_stats(memory, streamed)


def test_both_engines_read_an_old_csv_run_and_agree_with_its_parquet_twin(tmp_path: Path) -> None:
    frame = synthetic_frame(30_000, seed=4)
    csv_dir, parquet_dir = csv_run(tmp_path / "csv", frame), parquet_run(tmp_path / "parquet", frame)
    (memory, memory_json), (streamed, streamed_json) = both_reports(csv_dir, tmp_path / "a")
    assert memory_json == streamed_json
    assert_same_stats(memory, streamed)
    # the same rows as Parquet: the same figures (thresholds aside: only the Parquet twin has some)
    twin = json.loads(both_reports(parquet_dir, tmp_path / "b")[1][1])
    for key in ("aggregate", "endpoints", "personas", "failures", "window"):
        assert json.loads(streamed_json)[key] == twin[key], key


def test_both_engines_give_the_same_comparison(tmp_path: Path) -> None:
    base = parquet_run(tmp_path / "base", synthetic_frame(40_000, seed=5))
    candidate = parquet_run(tmp_path / "candidate", synthetic_frame(40_000, seed=6, scale=1.15))
    results = [compare(load_run_dir(base, engine), load_run_dir(candidate, engine), resamples=300)
               for engine in (ENGINE_MEMORY, ENGINE_DUCKDB)]
    assert json.dumps(results[0]) == json.dumps(results[1])
    assert results[1]["regressions"]  # 15 % slower is found, by both


def test_the_figures_of_a_span_are_those_of_its_rows_alone(tmp_path: Path) -> None:
    """figures_in([a, b)), both engines == the whole-run figures of a run holding only the rows in [a, b)."""
    frame = synthetic_frame(40_000, seed=7)
    run_dir = parquet_run(tmp_path / "run", frame)
    a, b = START + 100.0, START + 160.0
    spans = [figures_in(load_run_dir(run_dir, engine), [Interval(a, b)]) for engine in (ENGINE_MEMORY, ENGINE_DUCKDB)]
    rows = frame[(frame["ts"] >= a) & (frame["ts"] < b)].reset_index(drop=True)
    inside = load_run_dir(parquet_run(tmp_path / "inside", rows), ENGINE_MEMORY)
    expected = compute_raw(inside, Window(a, b, "span"))
    assert 0 < spans[1].aggregate["requests"] < len(frame)
    assert spans[0] == spans[1]
    assert (spans[1].aggregate, spans[1].endpoints, spans[1].personas) == \
        (expected.aggregate, expected.endpoints, expected.personas)


@pytest.fixture(scope="module")
def real_run(target_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    seed_accounts(database_url, 5, 30)
    out = tmp_path_factory.mktemp("real") / "run"
    result = careerload("run", "smoke", "--host", target_url, "--time-scale", "0.2", "--think-time-scale", "0.1",
                        "--seed-users", "5", "--workers", "2", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_both_engines_give_the_same_report_of_a_real_distributed_run(real_run: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in real_run.glob("requests*")) == ["requests", "requests-w0.parquet",
                                                                    "requests-w1.parquet"]
    (memory, memory_json), (streamed, streamed_json) = both_reports(real_run, tmp_path)
    assert memory_json == streamed_json
    assert json.loads(streamed_json)["aggregate"]["requests"] > 10
    assert_same_stats(memory, streamed)
    # and the report `careerload run` wrote itself (default engine) says the same
    assert without_source((real_run / "summary.json").read_text()) == without_source(streamed_json)


def test_the_parquet_log_writer_keeps_every_row_and_loads_no_numpy(tmp_path: Path) -> None:
    """In a fresh interpreter, as a Locust process: write, segment, compact; no numpy imported."""
    code = f"""
import sys
from pathlib import Path
import locustfiles.locustfile
from locustfiles._request_log import RequestLog, SEGMENT_ROWS
log = RequestLog(Path({str(tmp_path)!r}), "w3")
for i in range(SEGMENT_ROWS + 10):
    log.write("GET", "/x", 1.0 + i / 1000, 10, None if i % 5 else ValueError({ERRORS[0]!r}), "P", {START} + i)
log.flush()
segments = sorted(p.name for p in Path({str(tmp_path)!r}, "requests").iterdir())
log.close()
print(segments, "numpy" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['w3-000001.parquet', 'w3-000002.parquet'] False", out.stdout + out.stderr
    assert not list((tmp_path / "requests").iterdir())  # compacted, segments removed
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "requests-w3.parquet").to_pandas()
    assert len(table) == 50_010 and list(table.columns) == ["ts", "type", "name", "rt_ms", "size", "ok", "error",
                                                             "user", "worker"]
    assert (table["error"][table["ok"] == 0] == ERRORS[0]).all() and (table["error"][table["ok"] == 1] == "").all()
    assert table["ts"].is_monotonic_increasing and (table["worker"] == "w3").all()
