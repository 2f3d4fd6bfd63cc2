"""The raw request log of one process: one CSV row per request, streamed (foundation.rundir's format).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, TextIO

import gevent

from foundation import rundir


LOG_BUFFER_BYTES = 1 << 16
# The raw log reaches the file at least this often, so a process killed outright loses about this much.
LOG_FLUSH_INTERVAL_S = 1.0
_NEEDS_QUOTING = re.compile(r'[",\r\n]')


class RequestLog:
    """The raw request log: one CSV row per request, streamed through a 64 KiB buffer.

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
