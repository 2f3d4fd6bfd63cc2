"""The raw request logs of a run directory: which Parquet files hold them; merging CSV logs, leaving out torn rows.

Shared by `careerload run` (which merges at the end of every run) and the
analysis (which merges by itself when the run did not complete), so both
produce the same `requests.csv` from the same files. Standard library only.

A process killed while it writes leaves a torn last row (its buffer was cut
mid-line). Such rows are left out and counted; every other row is kept.
"""

from __future__ import annotations

import csv
import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from foundation import rundir


@dataclass
class Merged:
    """What a merge wrote: whole rows, and torn ones left out."""

    rows: int
    torn: int


def worker_of(path: Path) -> str:
    """The worker id in a requests-<worker>.csv (or requests-<worker>.unsent.csv) file name."""
    prefix, _, suffix = rundir.WORKER_REQUEST_LOG.partition("{worker}")
    return path.name[len(prefix): len(path.name) - len(suffix)].split(".")[0]


def segment_worker(path: Path) -> str:
    """The worker id in a segment's name, <worker>-<number>.parquet."""
    return path.name.rpartition("-")[0]


def worker_segments(segments_dir: Path, worker: str) -> list[Path]:
    """One worker's segments in a segments directory, in the order they were written."""
    return sorted(segments_dir.glob(rundir.SEGMENT.replace("{number:06d}", "[0-9]*").format(worker=worker)))


def parquet_logs(run_dir: Path) -> list[Path]:
    """Every Parquet file of a run's raw log: each worker's compacted file, else its segments (foundation.rundir).

    A worker whose compaction finished has both only between the rename of its
    compacted file and the removal of its segments: the compacted file wins, so
    no row is read twice. Files still under a temporary name (`.*.tmp`, a
    writer killed mid-write) are not segments yet and are left out.
    """
    compacted = sorted(run_dir.glob(rundir.PARQUET_REQUEST_LOG.format(worker="*")))
    prefix, _, suffix = rundir.PARQUET_REQUEST_LOG.partition("{worker}")
    done = {path.name[len(prefix):len(path.name) - len(suffix)] for path in compacted}
    segments = sorted(path for path in (run_dir / rundir.SEGMENTS_DIR).glob("*.parquet")
                      if segment_worker(path) not in done)
    return compacted + segments


def worker_logs(run_dir: Path) -> list[Path]:
    """The per-process raw logs of a run directory, in a stable order."""
    return sorted(run_dir.glob(rundir.WORKER_REQUEST_LOG.format(worker="*")))


def _complete_rows(reader: Iterator[list[str]], worker: str, torn: list[int]) -> Iterator[list[str]]:
    """The rows of one worker's log that are whole: a worker killed mid-write leaves a torn last line."""
    width = len(rundir.REQUEST_LOG_COLUMNS)
    for row in reader:
        if len(row) == width and row[-1] == worker:
            try:
                float(row[0])
            except ValueError:
                pass
            else:
                yield row
                continue
        torn[0] += 1


def merge_request_logs(run_dir: Path) -> Merged:
    """Merge requests-<worker>.csv into requests.csv by timestamp, streaming; rows that are not whole are left out.

    requests.csv is written under a temporary name and renamed at the end, so a
    merge that is itself killed never leaves a partial requests.csv behind.
    """
    parts = worker_logs(run_dir)
    if not parts:
        return Merged(0, 0)
    files = [open(p, newline="", encoding="utf-8", errors="replace") for p in parts]
    torn = [0]
    target = run_dir / rundir.REQUEST_LOG
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        readers: list[Iterator[list[str]]] = []
        for path, f in zip(parts, files):
            reader = csv.reader(f)
            next(reader, None)  # header
            readers.append(_complete_rows(reader, worker_of(path), torn))
        rows = 0
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(rundir.REQUEST_LOG_COLUMNS)
            # Each worker's log is nearly ordered (rows are written when requests end), so the
            # merge of the streams is nearly ordered too, without holding anything in memory.
            for row in heapq.merge(*readers, key=lambda r: float(r[0])):
                writer.writerow(row)
                rows += 1
        os.replace(tmp, target)
        return Merged(rows, torn[0])
    finally:
        for f in files:
            f.close()
        tmp.unlink(missing_ok=True)


def recover_request_log(run_dir: Path) -> Merged:
    """The raw log of a run that did not complete, as whole rows in requests.csv.

    A single-process run writes requests.csv itself, so its last row may be torn:
    that file is kept, as written, under its per-process name (requests-local.csv)
    and merged like a worker's. Distributed runs merge their workers' logs.
    """
    merged = run_dir / rundir.REQUEST_LOG
    if not worker_logs(run_dir) and merged.is_file():
        os.replace(merged, run_dir / rundir.WORKER_REQUEST_LOG.format(worker="local"))
    return merge_request_logs(run_dir)
