"""The raw request log of one process, streamed: Parquet segments (the default) or CSV rows (foundation.rundir).

Parquet: `write` appends to one Python list per column (cheaper per request
than formatting a CSV line); every LOG_FLUSH_INTERVAL_S, or at SEGMENT_ROWS
rows, the buffer becomes one segment, a whole zstd-compressed Parquet file
renamed into `requests/` (see foundation.rundir, "Parquet raw log"). A process
killed outright loses its buffer, seconds of rows; a segment is never torn.
`close` compacts the process's segments into `requests-<worker>.parquet`.
CSV (`--request-log-format csv`): the format of every run directory written
before the Parquet log, one line per request through a 64 KiB buffer.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any, TextIO

import gevent

from foundation import rundir
from foundation.rawlog import worker_segments
from locustfiles._arrow import arrow, request_log_schema


LOG_BUFFER_BYTES = 1 << 16
# The raw log reaches the file at least this often, so a process killed outright loses about this much.
LOG_FLUSH_INTERVAL_S = 1.0
# Parquet: a segment every this many seconds (or rows, whichever first); a kill loses at most that buffer.
SEGMENT_INTERVAL_S = 2.0
SEGMENT_ROWS = 50_000
# The compacted file's row groups: large enough that a reader's per-group overhead vanishes, small
# enough that compaction holds one group (about 50 bytes a row in Arrow) in memory.
COMPACT_ROW_GROUP_ROWS = 1 << 20
_NEEDS_QUOTING = re.compile(r'[",\r\n]')
_DICTIONARY_COLUMNS = ["type", "name", "error", "user", "worker"]


def encode_segment(columns: list[list[Any]]) -> bytes:
    """One segment's rows (one list per REQUEST_LOG_COLUMNS column) as the bytes of a whole Parquet file."""
    pa, pq = arrow()
    table = pa.Table.from_arrays([pa.array(values, type=field.type) for values, field in
                                  zip(columns, request_log_schema())], schema=request_log_schema())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=_DICTIONARY_COLUMNS)
    return sink.getvalue().to_pybytes()


class Segments:
    """One worker's segments in a run directory's `requests/`: numbered, each renamed in whole."""

    def __init__(self, run_dir: Path, worker: str) -> None:
        self.run_dir = run_dir
        self.dir = run_dir / rundir.SEGMENTS_DIR
        self.worker = worker
        self.dir.mkdir(parents=True, exist_ok=True)
        existing = worker_segments(self.dir, worker)  # a restarted process carries on after its last segment
        self.number = int(existing[-1].stem.rpartition("-")[2]) if existing else 0
        self.offset = 0  # the master's: added to a shipping worker's batch numbers (see locustfiles._distributed)

    def add(self, data: bytes, number: int | None = None) -> Path:
        """Write one segment (the next number, or `number`): under a temporary name first, so a reader never
        sees half a file. Writing a number again replaces that segment (the same batch, shipped twice)."""
        if number is None:
            number = self.number + 1
        self.number = max(self.number, number)
        path = self.dir / rundir.SEGMENT.format(worker=self.worker, number=number)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return path

    def compact(self) -> Path | None:
        """All segments, in order, as `requests-<worker>.parquet`; the segments removed once it is in place.

        A compacted file already there (a test restarted from the web UI) is
        read first, so its rows stay. Streaming: one row group
        (COMPACT_ROW_GROUP_ROWS rows) in memory at a time.
        """
        segments = worker_segments(self.dir, self.worker)
        if not segments:
            return None
        pa, pq = arrow()
        target = self.run_dir / rundir.PARQUET_REQUEST_LOG.format(worker=self.worker)
        tmp = target.with_name(f".{target.name}.tmp")
        parts = ([target] if target.is_file() else []) + segments
        pending: list[Any] = []
        rows = 0
        with pq.ParquetWriter(tmp, request_log_schema(), compression="zstd",
                              use_dictionary=_DICTIONARY_COLUMNS) as writer:
            for part in parts:
                table = pq.ParquetFile(part).read()  # pq.read_table would import numpy (its dataset layer)
                pending.append(table)
                rows += table.num_rows
                if rows >= COMPACT_ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=rows)
                    pending, rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=max(rows, 1))
        os.replace(tmp, target)
        for segment in segments:
            segment.unlink()
        return target


class RequestLog:
    """The raw request log of one process: Parquet segments, flushed every SEGMENT_INTERVAL_S."""

    def __init__(self, run_dir: Path, worker: str) -> None:
        self.worker = worker
        self.segments = Segments(run_dir, worker)
        self.columns: list[list[Any]] = [[] for _ in rundir.REQUEST_LOG_COLUMNS]
        self.flusher = gevent.spawn(self._flush_every_interval)

    def _flush_every_interval(self) -> None:
        while True:
            gevent.sleep(SEGMENT_INTERVAL_S)
            self.flush()

    def write(self, request_type: str, name: str, response_time: float, response_length: int,
              exception: Any, persona: str, start_time: float) -> None:
        ts, kind, route, rt, size, ok, error, user, worker = self.columns
        ts.append(round(start_time, 3))
        kind.append(request_type)
        route.append(name)
        rt.append(round(response_time, 3))
        size.append(response_length)
        ok.append(0 if exception else 1)
        error.append("" if exception is None else str(exception))
        user.append(persona)
        worker.append(self.worker)
        if len(ts) >= SEGMENT_ROWS:
            self.flush()

    def take(self) -> tuple[bytes, int] | None:
        """The buffered rows as one segment's bytes (and their count), the buffer emptied; None when empty."""
        rows = len(self.columns[0])
        if not rows:
            return None
        columns, self.columns = self.columns, [[] for _ in rundir.REQUEST_LOG_COLUMNS]
        return encode_segment(columns), rows

    def flush(self) -> None:
        taken = self.take()
        if taken is not None:
            self.segments.add(taken[0])

    def close(self) -> None:
        self.flusher.kill(block=False)
        self.flush()
        self.segments.compact()


class CsvRequestLog:
    """The raw request log as CSV (--request-log-format csv): one row per request, through a 64 KiB buffer.

    The buffer is also written out every LOG_FLUSH_INTERVAL_S: a process killed
    with SIGKILL loses its last second of rows, not everything since the last
    full buffer (at a few requests per second, the whole run).
    """

    def __init__(self, path: Path, worker: str) -> None:
        self.path = path
        self.worker = worker
        self.file: TextIO = open(path, "a", newline="", encoding="utf-8", buffering=LOG_BUFFER_BYTES)
        self.writer = csv.writer(self.file)
        if self.file.tell() == 0:
            self.writer.writerow(rundir.REQUEST_LOG_COLUMNS)
        self.flusher = gevent.spawn(self._flush_every_interval)

    def _flush_every_interval(self) -> None:
        while True:
            gevent.sleep(LOG_FLUSH_INTERVAL_S)
            self.file.flush()

    def write(self, request_type: str, name: str, response_time: float, response_length: int,
              exception: Any, persona: str, start_time: float) -> None:
        error = "" if exception is None else str(exception)
        if _NEEDS_QUOTING.search(f"{request_type}{name}{error}{persona}"):
            self.writer.writerow((
                "%.3f" % start_time, request_type, name, "%.3f" % response_time, response_length,
                0 if exception else 1, error, persona, self.worker,
            ))
        else:  # the common row: plain text, the same bytes the csv module writes, in a third of its time
            self.file.write(f"{start_time:.3f},{request_type},{name},{response_time:.3f},{response_length},"
                            f"{0 if exception else 1},{error},{persona},{self.worker}\r\n")

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.flusher.kill(block=False)
        self.file.close()
