"""Reading a run directory's raw request log in tests, whichever format it was written in (foundation.rundir)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from foundation import rundir
from foundation.rawlog import parquet_logs


def raw_rows(run_dir: Path) -> list[dict]:
    """Every row of the raw log as a dict of REQUEST_LOG_COLUMNS: its Parquet files, else requests.csv."""
    files = parquet_logs(run_dir)
    if files:
        return [row for path in files for row in pq.read_table(path).to_pylist()]
    with open(run_dir / rundir.REQUEST_LOG, newline="") as f:
        return list(csv.DictReader(f))


def rows_per_worker(run_dir: Path) -> dict[str, int]:
    """Rows of each worker's compacted requests-<worker>.parquet (written when that process ended normally)."""
    counts = {}
    for path in sorted(run_dir.glob(rundir.PARQUET_REQUEST_LOG.format(worker="*"))):
        counts[path.name] = pq.ParquetFile(path).metadata.num_rows
    return counts


def has_segments(run_dir: Path, worker: str) -> bool:
    """Whether a worker's first segment has reached the run directory (the load is on)."""
    return any((run_dir / rundir.SEGMENTS_DIR).glob(f"{worker}-*.parquet"))
