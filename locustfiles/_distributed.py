"""careerload's part of Locust's master/worker protocol: shipped raw rows, the final drain, lost workers.

- A worker's raw log goes where `--request-log-to` says, read from the worker's
  own command line at init (the master's options overwrite the worker's at
  every spawn): `run-dir`, the worker writes its Parquet segments (or
  `requests-w<index>.csv` with --request-log-format csv) into the run directory
  itself (local workers, same file system); `master` (the default, `careerload
  worker`), it sends its rows to the master as Parquet segments (`careerload_rows`
  messages: the bytes of one whole Parquet file, at most every SEGMENT_INTERVAL_S
  or SEGMENT_ROWS rows) and the master writes those bytes, as they came, as a
  segment of the worker in the run directory: no decoding on the master, and
  about 4-12 bytes per request on the wire instead of 90 as CSV (measured by
  benchmarks/generator.py). The master acknowledges each batch once it is
  written (`careerload_rows_ack`); a worker whose master is gone (it quits with
  batches unacknowledged) writes those segments to
  `<--unsent-dir>/<run>/requests/` and says so, instead of dropping them. A
  segment is named by its batch number on both sides, so one the master wrote
  but could not confirm is the same file in both places: copied in, it
  replaces itself instead of counting twice. At the end the master compacts
  each worker's segments into `requests-<worker>.parquet`.
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

import logging
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from foundation import rundir
from foundation.rundir import STATUS_PREFIX
from locustfiles._request_log import RequestLog, Segments
from locustfiles._run_state import RUN, now_iso

log = logging.getLogger("careerload")


# How long the master waits, when the test stops, for every worker to confirm its last rows.
DRAIN_TIMEOUT_S = 15.0
ROWS_MESSAGE, FLUSH_MESSAGE, FLUSHED_MESSAGE = "careerload_rows", "careerload_flush", "careerload_flushed"
ROWS_ACK_MESSAGE = "careerload_rows_ack"
# A quitting remote worker waits this long for the master to acknowledge its last rows before keeping them locally.
ACK_WAIT_S = 2.0
# The master says how many workers have connected this often until the test starts.
WAITING_INTERVAL_S = 1.0


class ShippedRequestLog(RequestLog):
    """A remote worker's raw request log: the same segments, sent to the master instead of written.

    Each segment is kept until the master acknowledges it: segments sent into a
    dead connection are not lost, they are written to `unsent_dir` when the worker quits.
    """

    def __init__(self, runner: WorkerRunner, worker: str, unsent_dir: Path) -> None:
        self.runner = runner
        self.worker = worker
        self.unsent_dir = unsent_dir
        self.columns = [[] for _ in rundir.REQUEST_LOG_COLUMNS]
        self.batch = 0
        self.unacked: dict[int, tuple[bytes, int]] = {}  # batch number -> (segment bytes, row count)
        self.flusher = gevent.spawn(self._flush_every_interval)

    def flush(self) -> None:
        taken = self.take()
        if taken is None:
            return
        self.batch += 1
        self.unacked[self.batch] = taken
        self.runner.send_message(ROWS_MESSAGE, {"segment": taken[0], "count": taken[1], "batch": self.batch})

    def acknowledged(self, batch: int) -> None:
        self.unacked.pop(batch, None)

    def close(self) -> None:
        """Send the last rows; what the master does not acknowledge in ACK_WAIT_S goes to the local directory."""
        self.flusher.kill(block=False)
        self.flush()
        deadline = time.monotonic() + ACK_WAIT_S
        while self.unacked and time.monotonic() < deadline:
            gevent.sleep(0.05)  # the worker's receive loop runs meanwhile, when it still runs
        if self.unacked:
            self._keep_unsent()

    def _keep_unsent(self) -> None:
        rows = sum(count for _, count in self.unacked.values())
        segments = Segments(self.unsent_dir, self.worker)
        for batch in sorted(self.unacked):
            segments.add(self.unacked[batch][0], number=batch)  # the number the master would have given it
        self.unacked.clear()
        log.error("the master did not confirm %d request rows of worker %s: kept in %s (copy its files into the "
                  "master's run directory's %s/, then `careerload report` it)", rows, self.worker,
                  segments.dir.resolve(), rundir.SEGMENTS_DIR)


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
    """A segment of a remote worker's raw rows: written, as it came, into the run directory's requests/.

    The segment is handed to the operating system before it is acknowledged, so a
    master killed after the acknowledgement still has the rows in its file.
    """
    run_dir = environment.parsed_options.run_dir if environment.parsed_options else ""
    if not run_dir:
        return
    segments = RUN.shipped.get(msg.node_id)
    if segments is None:  # numbered after any segments of an earlier process with the same worker id
        segments = RUN.shipped[msg.node_id] = Segments(Path(run_dir), worker_of(environment.runner, msg.node_id))
        segments.offset = segments.number
    segments.add(msg.data["segment"], number=segments.offset + msg.data["batch"])
    environment.runner.send_message(ROWS_ACK_MESSAGE, {"batch": msg.data["batch"]}, client_id=msg.node_id)


def compact_shipped() -> None:
    """The master, at the end: each remote worker's segments into its requests-<worker>.parquet."""
    for segments in RUN.shipped.values():
        segments.compact()
    RUN.shipped.clear()


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
