"""The live window's rows (scenarios.sliding_window) in every process: fed by each request, shipped to the master.

- Local run, or master: `RUN.window` holds the rows the live check judges;
  the plugin's request listener feeds it (`feed`), a master's comes from its
  workers' `careerload_window` messages.
- Worker: the rows its window wants (the scopes of the scenario's
  abort_on_fail thresholds, nothing else) are batched and sent every
  SHIP_INTERVAL_S as one message, whatever `--request-log-to` says: with
  `run-dir` the raw rows go to a file the master never reads, and with `master`
  they come as Parquet segments every few seconds, too late and too coarse for
  a one-second check. Compact: per row (ts, rt_ms, ok, an index into the
  batch's table of (type, name, persona)), about 20 bytes in msgpack.
- A scenario without abort_on_fail thresholds has no window: nothing is kept
  or sent.

The master's window ends SHIP_INTERVAL_S before the check (`lag_s`): the last
second's rows may still be on their way from the workers.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from locustfiles._run_state import RUN
from scenarios.sliding_window import SlidingWindow

WINDOW_MESSAGE = "careerload_window"
# How often a worker sends its window rows; the master's window ends this long before the check.
SHIP_INTERVAL_S = 1.0


class WindowBatch:
    """A worker's window rows since the last message."""

    def __init__(self, runner: WorkerRunner, window: SlidingWindow) -> None:
        self.runner = runner
        self.window = window
        self.rows: list[tuple[float, float, bool, int]] = []
        self.keys: dict[tuple[str, str, str], int] = {}
        self.shipper = gevent.spawn(self._every_interval)

    def add(self, ts: float, request_type: str, name: str, rt_ms: float, ok: bool, persona: str) -> None:
        if not self.window.wants(request_type, name, persona):
            return
        key = (request_type, name, persona)
        index = self.keys.setdefault(key, len(self.keys))
        self.rows.append((round(ts, 3), round(rt_ms, 3), ok, index))

    def flush(self) -> None:
        if self.rows:
            self.runner.send_message(WINDOW_MESSAGE, {"rows": self.rows, "keys": list(self.keys)})
            self.rows, self.keys = [], {}

    def _every_interval(self) -> None:
        while True:
            gevent.sleep(SHIP_INTERVAL_S)
            self.flush()

    def close(self) -> None:
        self.shipper.kill(block=False)


def start(environment: Environment) -> None:
    """At test start: the window of the scenario's abort_on_fail thresholds (or none), and a worker's batch."""
    stop()
    thresholds = [t for t in RUN.scenario.thresholds if t.abort_on_fail and SlidingWindow.judges(t)]
    if not thresholds:
        return
    runner = environment.runner
    lag = SHIP_INTERVAL_S if isinstance(runner, MasterRunner) else 0.0
    RUN.window = SlidingWindow(thresholds, environment.parsed_options.live_window, time.time(), lag)
    if isinstance(runner, WorkerRunner):
        RUN.window_batch = WindowBatch(runner, RUN.window)


def stop() -> None:
    if RUN.window_batch is not None:
        RUN.window_batch.close()
    RUN.window, RUN.window_batch = None, None


def feed(request_type: str, name: str, response_time: float, ok: bool, persona: str, start_time: float) -> None:
    """One request into this process's window (a worker's: into the batch for the master)."""
    if RUN.window_batch is not None:
        RUN.window_batch.add(start_time, request_type, name, response_time, ok, persona)
    elif RUN.window is not None:
        RUN.window.add(start_time, request_type, name, response_time, ok, persona)


def register_master(runner: MasterRunner) -> None:
    runner.register_message(WINDOW_MESSAGE, on_window_rows)


def on_window_rows(environment: Environment, msg: Any, **_: Any) -> None:
    """A worker's batch of window rows, into the master's window."""
    window = RUN.window
    if window is None:
        return
    keys = msg.data["keys"]
    for ts, rt_ms, ok, index in msg.data["rows"]:
        request_type, name, persona = keys[index]
        window.add(ts, request_type, name, rt_ms, ok, persona)
