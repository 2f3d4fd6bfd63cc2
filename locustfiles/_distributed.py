"""careerload's part of Locust's master/worker protocol: shipped raw rows, the final drain, lost workers.

- A worker's raw log goes where `--request-log-to` says, read from the worker's
  own command line at init (the master's options overwrite the worker's at
  every spawn): `run-dir`, the worker writes `requests-w<index>.csv` into the
  run directory itself (local workers, same file system); `master` (the
  default, `careerload worker`), it sends its rows to the master in batches
  (`careerload_rows` messages, at most every SHIP_INTERVAL_S or SHIP_BATCH_ROWS
  rows) and the master writes the same file. Cost: about 90 bytes per request
  on the wire and the master's time to write them. The master acknowledges each
  batch once it is written out (`careerload_rows_ack`); a worker whose master
  is gone (it quits with batches unacknowledged) writes those rows to
  `<--unsent-dir>/<run>/requests-<worker>.unsent.csv` and says so, instead of
  dropping them.
- When the test stops, the master asks every worker to stop its users, flush
  its rows and send its last statistics (`careerload_flush`), and waits for
  each one's `careerload_flushed` (FIFO on the same connection, so nothing is
  left in flight) before Locust quits: the merged raw log and Locust's totals
  then count the same requests.
- Worker loss: a worker Locust marks "missing" (no heartbeat for about 3 s), or
  one that quits while the test runs, is recorded in run.json `lost_workers`
  ({"worker", "node", "at", "reason"}); with `--on-worker-loss stop` the run
  ends there. The master prints a "waiting for workers: n of N connected"
  status line until the test starts.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from foundation import rundir
from foundation.rundir import STATUS_PREFIX
from locustfiles._request_log import LOG_BUFFER_BYTES, RequestLog
from locustfiles._run_state import RUN, now_iso

log = logging.getLogger("careerload")


# Remote workers' raw rows: one message per this many rows or this many seconds, whichever first.
SHIP_BATCH_ROWS = 2000
SHIP_INTERVAL_S = 1.0
# How long the master waits, when the test stops, for every worker to confirm its last rows.
DRAIN_TIMEOUT_S = 15.0
ROWS_MESSAGE, FLUSH_MESSAGE, FLUSHED_MESSAGE = "careerload_rows", "careerload_flush", "careerload_flushed"
ROWS_ACK_MESSAGE = "careerload_rows_ack"
# A quitting remote worker waits this long for the master to acknowledge its last rows before keeping them locally.
ACK_WAIT_S = 2.0
# The master says how many workers have connected this often until the test starts.
WAITING_INTERVAL_S = 1.0


class ShippedRequestLog(RequestLog):
    """A remote worker's raw request log: the same rows, sent to the master in batches.

    Each batch is kept until the master acknowledges it: rows sent into a dead
    connection are not lost, they are written to `unsent_path` when the worker quits.
    """

    def __init__(self, runner: WorkerRunner, worker: str, unsent_path: Path) -> None:
        self.runner = runner
        self.worker = worker
        self.path = unsent_path
        self.file = io.StringIO()
        self.writer = csv.writer(self.file)
        self.rows = 0
        self.batch = 0
        self.unacked: dict[int, tuple[str, int]] = {}  # batch number -> (rows as CSV text, row count)
        self.shipper = gevent.spawn(self._every_interval)

    def write(self, *args: Any) -> None:
        super().write(*args)
        self.rows += 1
        if self.rows >= SHIP_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        text, rows = self.file.getvalue(), self.rows
        self.file.seek(0)
        self.file.truncate()
        self.rows = 0
        self.batch += 1
        self.unacked[self.batch] = (text, rows)
        self.runner.send_message(ROWS_MESSAGE, {"rows": text, "count": rows, "batch": self.batch})

    def acknowledged(self, batch: int) -> None:
        self.unacked.pop(batch, None)

    def _every_interval(self) -> None:
        while True:
            gevent.sleep(SHIP_INTERVAL_S)
            self.flush()

    def close(self) -> None:
        """Send the last rows; what the master does not acknowledge in ACK_WAIT_S goes to the local file."""
        self.shipper.kill(block=False)
        self.flush()
        deadline = time.monotonic() + ACK_WAIT_S
        while self.unacked and time.monotonic() < deadline:
            gevent.sleep(0.05)  # the worker's receive loop runs meanwhile, when it still runs
        if self.unacked:
            self._keep_unsent()

    def _keep_unsent(self) -> None:
        rows = sum(count for _, count in self.unacked.values())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", newline="", encoding="utf-8") as out:
            if out.tell() == 0:
                csv.writer(out).writerow(rundir.REQUEST_LOG_COLUMNS)
            for batch in sorted(self.unacked):
                out.write(self.unacked[batch][0])
        self.unacked.clear()
        log.error("the master did not confirm %d request rows of worker %s: kept in %s (copy the file into the "
                  "master's run directory, then `careerload report` it)", rows, self.worker, self.path.resolve())


def register_master(runner: MasterRunner, expect_workers: int, status_line: bool) -> None:
    """The master's side of the protocol: rows and flush confirmations in; the waiting line until the start."""
    runner.register_message(ROWS_MESSAGE, on_worker_rows)
    runner.register_message(FLUSHED_MESSAGE, on_worker_flushed)
    if expect_workers:
        gevent.spawn(announce_waiting, runner, expect_workers, status_line)


def register_worker(runner: WorkerRunner) -> None:
    """The worker's side: the master's flush request and its acknowledgements of shipped rows."""
    runner.register_message(FLUSH_MESSAGE, on_flush_request)
    runner.register_message(ROWS_ACK_MESSAGE, on_rows_acknowledged)


def announce_waiting(runner: MasterRunner, expected: int, status_line: bool) -> None:
    """Until the test starts: "waiting for workers: n of N connected" (careerload run words its timeout from it)."""
    while RUN.start is None and runner.state == "ready":
        connected = len(runner.clients.ready)
        if status_line:
            print(f"{STATUS_PREFIX}waiting for workers: {connected} of {expected} connected", flush=True)
        gevent.sleep(WAITING_INTERVAL_S)


def track_workers(runner: MasterRunner) -> None:
    """Record the workers that took part, and those lost while the test runs (missing heartbeat, or quit)."""
    for client_id, client in list(runner.clients.items()):
        worker = worker_of(runner, client_id)
        RUN.workers.add(worker)
        RUN.nodes[worker] = client_id
        if client.state == "missing":
            _lost(runner, worker, "no heartbeat from the worker for 3 s")
    if runner.state in ("spawning", "running"):
        for worker, client_id in list(RUN.nodes.items()):
            if client_id not in runner.clients:
                _lost(runner, worker, "the worker quit")


def _lost(runner: MasterRunner, worker: str, reason: str) -> None:
    if any(w["worker"] == worker for w in RUN.lost_workers):
        return
    at = now_iso()
    RUN.lost_workers.append({"worker": worker, "node": RUN.nodes.get(worker, ""), "at": at, "reason": reason})
    options = runner.environment.parsed_options
    if getattr(options, "on_worker_loss", "continue") == "stop":
        log.error("worker %s lost at %s (%s): stopping the run (--on-worker-loss stop)", worker, at, reason)
        if RUN.aborted is None:
            RUN.aborted = f"worker {worker} lost at {at} ({reason}; --on-worker-loss stop)"
            gevent.spawn(runner.quit if options.headless else runner.stop)
    else:
        log.warning("worker %s lost at %s (%s): carrying on with %d worker(s)", worker, at, reason,
                    runner.worker_count)


def worker_of(runner: MasterRunner, client_id: str) -> str:
    return f"w{runner.get_worker_index(client_id)}"


def on_worker_rows(environment: Environment, msg: Any, **_: Any) -> None:
    """A batch of a remote worker's raw rows: append it to requests-<worker>.csv in the run directory.

    The batch is handed to the operating system before it is acknowledged, so a
    master killed after the acknowledgement still has the rows in its file.
    """
    run_dir = environment.parsed_options.run_dir if environment.parsed_options else ""
    if not run_dir:
        return
    worker = worker_of(environment.runner, msg.node_id)
    out = RUN.shipped.get(worker)
    if out is None:
        path = Path(run_dir) / rundir.WORKER_REQUEST_LOG.format(worker=worker)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = RUN.shipped[worker] = open(path, "a", newline="", encoding="utf-8", buffering=LOG_BUFFER_BYTES)
        if out.tell() == 0:
            csv.writer(out).writerow(rundir.REQUEST_LOG_COLUMNS)
    out.write(msg.data["rows"])
    out.flush()
    environment.runner.send_message(ROWS_ACK_MESSAGE, {"batch": msg.data["batch"]}, client_id=msg.node_id)


def on_worker_flushed(environment: Environment, msg: Any, **_: Any) -> None:
    RUN.flushed.add(msg.node_id)


def drain_workers(runner: MasterRunner) -> None:
    """Ask every live worker to stop and send its last rows and statistics; wait until each confirms.

    A worker that quits meanwhile (it was stopped itself) is not waited for: it
    can no longer answer.
    """
    asked = {client.id for client in runner.clients.all if client.state != "missing"}
    RUN.flushed.clear()
    for client_id in asked:
        runner.send_message(FLUSH_MESSAGE, None, client_id=client_id)
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while any(c not in RUN.flushed and c in runner.clients for c in asked) and time.monotonic() < deadline:
        gevent.sleep(0.05)
    for client_id in sorted(asked - RUN.flushed):
        log.warning("worker %s did not confirm its last request rows within %.0f s: its raw log may be short",
                    worker_of(runner, client_id), DRAIN_TIMEOUT_S)
    for out in RUN.shipped.values():
        out.flush()


def on_rows_acknowledged(environment: Environment, msg: Any, **_: Any) -> None:
    if isinstance(RUN.request_log, ShippedRequestLog):
        RUN.request_log.acknowledged(msg.data["batch"])


def on_flush_request(environment: Environment, **_: Any) -> None:
    """The master's test is stopping: stop the users, then rows, statistics and the confirmation, in that order."""
    runner = environment.runner
    runner.stop()
    if RUN.request_log is not None:
        RUN.request_log.flush()
    runner._send_stats()  # Locust's own final report (it sends it again, empty, on quit)
    runner.send_message(FLUSHED_MESSAGE, None)
