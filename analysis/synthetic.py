"""Synthetic run directories whose true values are known: for the tests, the benchmark and the notebook.

- `synthesise` draws an hour (or a minute) of raw requests with numpy: log-normal
  latencies per endpoint, Poisson-like start times, failures at a given ratio.
- `write_request_log` writes a raw log in the run-directory format with pyarrow's
  CSV writer (10 M rows in seconds; never row by row).
- `write_parquet_log` writes one Parquet file of the raw log (a compacted
  `requests-<worker>.parquet`); `stream_run_log` draws and writes a raw log of
  any size one slice of time at a time (memory stays at one slice), as Parquet
  files per worker or as one requests.csv: the benchmark's 100 M rows.
- `write_run_json` writes the run.json a `careerload run` would.
- `replay_into_locust` feeds a raw log through Locust's own statistics and CSV
  writer (with a simulated clock), so the resulting `_stats.csv`,
  `_stats_history.csv` and `_failures.csv` are exactly what Locust would have
  written for those requests, rounding included. Importing Locust monkey-patches
  the process (gevent), so run it as `python -m analysis.synthetic replay ...`
  in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from foundation import rundir


@dataclass(frozen=True)
class Endpoint:
    method: str
    name: str
    median_ms: float
    sigma: float = 0.5          # log-normal shape: 0.5 gives p99 ≈ 3.2 × median
    weight: float = 1.0         # share of the traffic
    failure_ratio: float = 0.0
    persona: str = "BrowsingUser"


ERRORS = ("HTTPError('500 Server Error: Internal Server Error')", "ConnectionResetError(104, 'Connection reset by peer')",
          "CatchResponseError('job belongs to another user')")


def synthesise(endpoints: list[Endpoint], n: int, duration_s: float, start: float, seed: int,
               workers: tuple[str, ...] = ("local",)) -> pd.DataFrame:
    """n requests spread uniformly over [start, start + duration_s), sorted by time, columns of the raw log."""
    rng = np.random.default_rng(seed)
    weights = np.array([e.weight for e in endpoints], dtype=float)
    codes = rng.choice(len(endpoints), size=n, p=weights / weights.sum()).astype(np.int32)
    ts = np.sort(rng.uniform(start, start + duration_s, n)).round(3)
    median = np.array([e.median_ms for e in endpoints])[codes]
    sigma = np.array([e.sigma for e in endpoints])[codes]
    rt = (median * np.exp(sigma * rng.standard_normal(n))).round(3)
    failed = rng.random(n) < np.array([e.failure_ratio for e in endpoints])[codes]
    error_codes = np.where(failed, rng.integers(1, len(ERRORS) + 1, n), 0)
    methods = sorted({e.method for e in endpoints})
    personas = sorted({e.persona for e in endpoints})
    names = sorted({e.name for e in endpoints})  # the same route can serve several methods
    method_codes = np.array([methods.index(e.method) for e in endpoints])[codes]
    name_codes = np.array([names.index(e.name) for e in endpoints])[codes]
    persona_codes = np.array([personas.index(e.persona) for e in endpoints])[codes]
    return pd.DataFrame({
        "ts": ts,
        "type": pd.Categorical.from_codes(method_codes, methods),
        "name": pd.Categorical.from_codes(name_codes, names),
        "rt_ms": rt,
        "size": rng.integers(200, 20_000, n),
        "ok": (~failed).astype(np.int8),
        "error": pd.Categorical.from_codes(error_codes, ["", *ERRORS]),
        "user": pd.Categorical.from_codes(persona_codes, personas),
        "worker": pd.Categorical.from_codes(rng.integers(0, len(workers), n), list(workers)),
    })


def write_request_log(frame: pd.DataFrame, path: Path) -> Path:
    """The raw log as CSV: header line, run-directory column order, minimal quoting."""
    table = pa.Table.from_pandas(frame[list(rundir.REQUEST_LOG_COLUMNS)], preserve_index=False)
    table = table.cast(pa.schema([
        pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in table.schema
    ]))
    pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))
    return path


def write_parquet_log(frame: pd.DataFrame, path: Path, row_group_rows: int = 1 << 20) -> Path:
    """A raw log as one Parquet file in the run-directory format (foundation.rundir.REQUEST_LOG_ARROW_TYPES).

    Used for a compacted `requests-<worker>.parquet` or, cut into small frames, for segments.
    """
    pq.write_table(_arrow_log(frame), path, row_group_size=row_group_rows, compression="zstd",
                   use_dictionary=["type", "name", "error", "user", "worker"])
    return path


STREAM_SLICE_ROWS = 2_000_000


def _arrow_log(frame: pd.DataFrame) -> pa.Table:
    schema = pa.schema([(c, pa.type_for_alias(rundir.REQUEST_LOG_ARROW_TYPES[c])) for c in rundir.REQUEST_LOG_COLUMNS])
    table = pa.Table.from_pandas(frame[list(rundir.REQUEST_LOG_COLUMNS)], preserve_index=False)
    return table.cast(pa.schema([pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                                 for f in table.schema])).cast(schema)


def stream_run_log(run_dir: Path, endpoints: list[Endpoint], rows: int, duration_s: float, start: float, seed: int,
                   workers: tuple[str, ...], fmt: str = "parquet", scale: float = 1.0) -> list[Path]:
    """Draw `rows` requests slice by slice (STREAM_SLICE_ROWS each, consecutive spans of time) and write them:
    `parquet`, slices dealt in turn to one requests-<worker>.parquet per worker (a row group per slice);
    `csv`, all into requests.csv. Response times are multiplied by `scale`. Returns the files written."""
    slices = max(-(-rows // STREAM_SLICE_ROWS), 1)
    width = duration_s / slices
    writers: dict[str, Any] = {}
    paths: list[Path] = []
    try:
        for i in range(slices):
            n = rows // slices + (1 if i < rows % slices else 0)
            worker = workers[i % len(workers)]
            frame = synthesise(endpoints, n, width, start + i * width, seed=seed * 100_003 + i, workers=(worker,))
            if scale != 1.0:
                frame["rt_ms"] = (frame["rt_ms"] * scale).round(3)
            table = _arrow_log(frame)
            del frame
            key = worker if fmt == "parquet" else "csv"
            if key not in writers:
                if fmt == "parquet":
                    path = run_dir / rundir.PARQUET_REQUEST_LOG.format(worker=worker)
                    writers[key] = pq.ParquetWriter(path, table.schema, compression="zstd",
                                                    use_dictionary=["type", "name", "error", "user", "worker"])
                else:
                    path = run_dir / rundir.REQUEST_LOG
                    writers[key] = pa_csv.CSVWriter(path, table.schema, write_options=pa_csv.WriteOptions(
                        quoting_style="needed"))
                paths.append(path)
            if fmt == "parquet":
                writers[key].write_table(table, row_group_size=table.num_rows)
            else:
                writers[key].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    return paths


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_run_json(run_dir: Path, *, scenario: str, start: float, end: float,
                   thresholds: list[dict[str, Any]], host: str = "http://127.0.0.1:8000",
                   workers: tuple[str, ...] = ("local",)) -> Path:
    """run.json with every key of `foundation.rundir.RUN_JSON_KEYS`."""
    run = {
        "scenario": scenario,
        "scenario_file": None,
        "host": host,
        "options": {"time_scale": 1.0, "synthetic": True},
        "thresholds": thresholds,
        "versions": {"careerload": "synthetic"},
        "start": iso(start),
        "end": iso(end),
        "git_revision": None,
        "workers": list(workers),
        "lost_workers": [],
        "aborted": None,
        "status": rundir.COMPLETE,
        "incomplete": None,
    }
    path = run_dir / rundir.RUN_JSON
    path.write_text(json.dumps(run, indent=2) + "\n")
    return path


def replay_into_locust(log_path: Path, prefix: str, users: int) -> None:
    """Log every request of a raw log into Locust's RequestStats at its own time; write Locust's CSVs.

    Locust reads its clock through `locust.stats.time`; replacing that with a
    simulated clock makes rates, per-second counts and history rows come out as
    if the requests had happened at their logged times.
    """
    from types import SimpleNamespace

    import locust.stats as locust_stats

    log = pd.read_csv(log_path, keep_default_na=False, dtype={"error": str})
    clock = SimpleNamespace(now=float(log["ts"].iloc[0]) if len(log) else 0.0)
    locust_stats.time = SimpleNamespace(time=lambda: clock.now)
    stats = locust_stats.RequestStats()
    environment = SimpleNamespace(stats=stats, runner=SimpleNamespace(user_count=users, exceptions={}))
    writer = locust_stats.StatsCSVFileWriter(environment, locust_stats.PERCENTILES_TO_REPORT, prefix, full_history=True)
    writer.stats_history_csv_writer.writerow(writer.stats_history_csv_columns)
    next_history = int(clock.now) + 1
    for row in log.itertuples(index=False):
        while row.ts >= next_history:  # Locust writes a history row every second
            writer._stats_history_data_rows(writer.stats_history_csv_writer, next_history)
            next_history += 1
        clock.now = float(row.ts)
        stats.log_request(row.type, row.name, row.rt_ms, row.size)
        if not row.ok:
            stats.log_error(row.type, row.name, row.error)
    writer._stats_history_data_rows(writer.stats_history_csv_writer, next_history)
    writer.requests_csv(writer.requests_csv_writer)
    writer.failures_csv(writer.failures_csv_writer)
    writer.exceptions_csv(writer.exceptions_csv_writer)
    writer.close_files()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.synthetic",
                                     description="Replay a raw request log through Locust's statistics into Locust CSVs.")
    sub = parser.add_subparsers(dest="command", required=True)
    replay = sub.add_parser("replay", help="write PREFIX_stats.csv etc. from a raw log, as Locust would have")
    replay.add_argument("log", type=Path)
    replay.add_argument("prefix")
    replay.add_argument("--users", type=int, default=10, help="the user count Locust's history records")
    args = parser.parse_args(argv)
    replay_into_locust(args.log, args.prefix, args.users)
    return 0


if __name__ == "__main__":
    sys.exit(main())
