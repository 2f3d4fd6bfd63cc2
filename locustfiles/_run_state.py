"""What this process knows about the run: one RunState per process, `RUN`, shared by the plugin and the personas.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
from locust.runners import WorkerRunner
from locust.stats import RequestStats

from locustfiles._pacing import ArrivalPacer
from locustfiles._pools import AccountPool
from locustfiles._request_log import CsvRequestLog, RequestLog, Segments
from scenarios.loader import Scenario
from scenarios.sliding_window import SlidingWindow


class RunState:
    """What this process knows about the run; one per process (Locust runs one Environment)."""

    def __init__(self) -> None:
        self.scenario: Scenario | None = None
        self.pool: AccountPool | None = None
        self.pacer: ArrivalPacer | None = None
        self.request_log: RequestLog | CsvRequestLog | None = None
        self.personas = RequestStats(use_response_times_cache=False)
        self.counters: Counter[str] = Counter()
        self.aborted: str | None = None
        self.abort: dict[str, Any] | None = None  # run.json's evidence of a live threshold abort
        # the live check's window (master or local run) and a worker's batch of rows for the master's
        # (locustfiles._live_window.WindowBatch: typed Any here, that module imports this one)
        self.window: SlidingWindow | None = None
        self.window_batch: Any = None
        self.start: str | None = None
        self.end: str | None = None
        self.workers: set[str] = set()
        self.lost_workers: list[dict[str, str]] = []
        self.watcher: gevent.Greenlet | None = None
        # web UI: the test was stopped and the run directory written (locustfiles._web_ui); the report's
        # analysis: None (not asked), "writing", "written" or "failed"
        self.closed = False
        self.report: str | None = None
        # distributed runs
        self.request_log_to = "run-dir"  # a worker's own --request-log-to, read at init
        self.unsent_dir = Path("results")  # a worker's own --unsent-dir, read at init
        self.parent_pid = os.getppid()  # who started this process; another one at the end means it died first
        self.nodes: dict[str, str] = {}  # master: worker id -> Locust client id (host name + uuid)
        self.shipped: dict[str, Segments] = {}  # master: Locust client id -> that worker's segments, from its rows
        self.flushed: set[str] = set()  # master: client ids that confirmed their last rows

    def count(self, name: str, amount: float = 1) -> None:
        """A counter the personas keep (scrape dedup counts, 429s); summed on the master into run.json."""
        self.counters[name] += amount


RUN = RunState()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def worker_id(runner: Any) -> str:
    return f"w{runner.worker_index}" if isinstance(runner, WorkerRunner) else "local"
