"""careerload's Locust listeners: run state, raw request log, live thresholds, run.json.

Imported once (as `locustfiles._plugin`; Locust's directory loader skips files
starting with "_"), so every listener is registered exactly once per process.

Per process (local runner or worker), at test start: the user pool (database
or seed pattern), the arrival pacer for open-model scenarios, and the raw
request log (`requests.csv`, or `requests-w<index>.csv` on a worker), written by
`RequestLog` row by row. Per-persona statistics and counters (scrape dedup,
429s) travel to the master in Locust's own worker reports.

On the master (or local runner): run.json when the load starts (`"status":
"running"`), a greenlet that every second judges the `abort_on_fail` thresholds
from Locust's live statistics and prints the status line; at the end the
verdict from the same statistics, and run.json again, completed. A master
whose parent died first (`careerload run` killed: its children get SIGTERM)
writes `"status": "incomplete"`, reason "interrupted", for the report to say.

Distributed runs (the "workers" section below):
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
import functools
import io
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import gevent
import locust
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import RequestStats

from foundation import rundir
from foundation.rundir import STATUS_PREFIX
from foundation.urls import redact
from locustfiles import _options  # noqa: F401  (registers the command line options)
from locustfiles._pacing import ArrivalPacer
from locustfiles._pools import AccountPool
from locustfiles._verdict import PERSONA_METHOD, observe, verdict
from scenarios.loader import Scenario
from scenarios.shape import scenario_from_options
from scenarios.thresholds import FAIL, ScenarioError

log = logging.getLogger("careerload")

# A critical limit counts as "clearly broken" once it fails this many checks in a row.
ABORT_CONSECUTIVE_FAILS = 2
WATCH_INTERVAL_S = 1.0
LOG_BUFFER_BYTES = 1 << 16
# The raw log reaches the file at least this often, so a process killed outright loses about this much.
LOG_FLUSH_INTERVAL_S = 1.0
# Remote workers' raw rows: one message per this many rows or this many seconds, whichever first.
SHIP_BATCH_ROWS = 2000
SHIP_INTERVAL_S = 1.0
# How long the master waits, when the test stops, for every worker to confirm its last rows.
DRAIN_TIMEOUT_S = 15.0
ROWS_MESSAGE, FLUSH_MESSAGE, FLUSHED_MESSAGE = "careerload_rows", "careerload_flush", "careerload_flushed"
ROWS_ACK_MESSAGE = "careerload_rows_ack"
# A quitting remote worker waits this long for the master to acknowledge its last rows before keeping them locally.
ACK_WAIT_S = 2.0


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


class RunState:
    """What this process knows about the run; one per process (Locust runs one Environment)."""

    def __init__(self) -> None:
        self.scenario: Scenario | None = None
        self.pool: AccountPool | None = None
        self.pacer: ArrivalPacer | None = None
        self.request_log: RequestLog | None = None
        self.personas = RequestStats(use_response_times_cache=False)
        self.counters: Counter[str] = Counter()
        self.aborted: str | None = None
        self.start: str | None = None
        self.end: str | None = None
        self.workers: set[str] = set()
        self.lost_workers: list[dict[str, str]] = []
        self.watcher: gevent.Greenlet | None = None
        # distributed runs
        self.request_log_to = "run-dir"  # a worker's own --request-log-to, read at init
        self.unsent_dir = Path("results")  # a worker's own --unsent-dir, read at init
        self.parent_pid = os.getppid()  # who started this process; another one at the end means it died first
        self.nodes: dict[str, str] = {}  # master: worker id -> Locust client id (host name + uuid)
        self.shipped: dict[str, TextIO] = {}  # master: requests-<worker>.csv written from workers' rows
        self.flushed: set[str] = set()  # master: client ids that confirmed their last rows

    def count(self, name: str, amount: float = 1) -> None:
        """A counter the personas keep (scrape dedup counts, 429s); summed on the master into run.json."""
        self.counters[name] += amount


RUN = RunState()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _worker_id(runner: Any) -> str:
    return f"w{runner.worker_index}" if isinstance(runner, WorkerRunner) else "local"


# ---------------------------------------------------------------------------- init


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    """Fail fast on a broken scenario: one line, exit 2, before any user starts."""
    options = environment.parsed_options
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        RUN.request_log_to = options.request_log_to if options is not None else "master"
        if options is not None:
            RUN.unsent_dir = Path(options.unsent_dir)
        runner.register_message(FLUSH_MESSAGE, _on_flush_request)
        runner.register_message(ROWS_ACK_MESSAGE, _on_rows_acknowledged)
        return
    if isinstance(runner, MasterRunner):
        runner.register_message(ROWS_MESSAGE, _on_worker_rows)
        runner.register_message(FLUSHED_MESSAGE, _on_worker_flushed)
        if options is not None and options.headless and options.expect_workers:
            gevent.spawn(_announce_waiting, runner, options.expect_workers, options.status_line)
    signal.signal(signal.SIGTERM, _sigterm_as_ctrl_c)
    if options is None:
        return
    try:
        RUN.scenario = scenario_from_options(options)
    except ScenarioError as exc:
        log.error("%s", exc)
        sys.exit(2)
    if "DatabaseUser" in RUN.scenario.personas and not options.database_url:
        log.error("scenario %s runs DatabaseUser: give --database-url (or DATABASE_URL)", RUN.scenario.name)
        sys.exit(2)


def _sigterm_as_ctrl_c(signum: int, frame: Any) -> None:
    """SIGTERM ends a master's or local run like Ctrl-C: users stopped, statistics and run.json written.

    Locust installs its own SIGTERM handler only after a headless shape has
    finished, so during a headless run SIGTERM would kill the process outright.
    It comes from `kill`, `docker stop`, systemd, and from PR_SET_PDEATHSIG when
    `careerload run` itself is killed; what was measured must not go with it.
    """
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------- test start


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    runner = environment.runner
    RUN.scenario = scenario_from_options(options)
    RUN.start, RUN.end, RUN.aborted = _now_iso(), None, None
    if not isinstance(runner, MasterRunner):
        _prepare_user_process(environment)
    if not isinstance(runner, WorkerRunner):
        if options.run_dir:
            write_run_json(environment, None, rundir.RUNNING)
        if RUN.watcher is None or RUN.watcher.dead:
            RUN.watcher = gevent.spawn(_watch, environment)


def _prepare_user_process(environment: Environment) -> None:
    """Pool, pacer and request log for a process that runs users."""
    options = environment.parsed_options
    runner = environment.runner
    offset = max(runner.worker_index, 0) * 7919  # workers start at different accounts
    if options.database_url:
        RUN.pool = AccountPool.from_database(options.database_url, offset)
    else:
        RUN.pool = AccountPool.from_pattern(max(options.seed_users, 1), offset)
    scenario = RUN.scenario
    if scenario.kind == "arrival":
        pool_size = max(scenario.vus, 1)
        RUN.pacer = ArrivalPacer(
            scenario.rate_at, lambda: min(runner.user_count / pool_size, 1.0) or 1.0 / pool_size,
            scenario.duration_s, lambda n: RUN.count("dropped_iterations", n),
        )
    else:
        RUN.pacer = None
    if options.run_dir and RUN.request_log is None:
        worker = _worker_id(runner)
        if isinstance(runner, WorkerRunner) and RUN.request_log_to == "master":
            unsent = RUN.unsent_dir / Path(options.run_dir).name / rundir.UNSENT_REQUEST_LOG.format(worker=worker)
            RUN.request_log = ShippedRequestLog(runner, worker, unsent)
            return
        name = rundir.REQUEST_LOG if worker == "local" else rundir.WORKER_REQUEST_LOG.format(worker=worker)
        Path(options.run_dir).mkdir(parents=True, exist_ok=True)
        RUN.request_log = RequestLog(Path(options.run_dir) / name, worker)


# ---------------------------------------------------------------------------- every request


@events.request.add_listener
def on_request(request_type: str, name: str, response_time: float, response_length: int,
               exception: Any = None, context: dict | None = None, start_time: float | None = None,
               **_: Any) -> None:
    persona = context.get("persona", "") if context else ""
    entry = RUN.personas.entries[(persona, PERSONA_METHOD)]
    entry.log(response_time, response_length)
    if exception:
        entry.log_error(exception)
    if RUN.request_log is not None:
        if start_time is None:
            start_time = time.time() - response_time / 1000.0
        RUN.request_log.write(request_type, name, response_time, response_length, exception, persona, start_time)


# ---------------------------------------------------------------------------- worker -> master


@events.report_to_master.add_listener
def on_report_to_master(data: dict[str, Any], **_: Any) -> None:
    data["careerload"] = {
        "personas": RUN.personas.serialize_stats(),  # serialize_stats resets the entries it sends
        "counters": dict(RUN.counters),
    }
    RUN.counters.clear()


@events.worker_report.add_listener
def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    report = data.get("careerload")
    if not report:
        return
    from locust.stats import StatsEntry

    for raw in report["personas"]:
        entry = StatsEntry.unserialize(raw, RUN.personas)
        RUN.personas.entries[(entry.name, entry.method)].extend(entry)
    RUN.counters.update(report["counters"])


# ---------------------------------------------------------------------------- master: watch, abort, status


def _watch(environment: Environment) -> None:
    """Every second: judge abort_on_fail thresholds, track workers, print the status line."""
    runner = environment.runner
    options = environment.parsed_options
    started = time.monotonic()
    fails: Counter[str] = Counter()
    while runner.state not in ("stopped", "stopping") or time.monotonic() - started < 2:
        gevent.sleep(WATCH_INTERVAL_S)
        elapsed = time.monotonic() - started
        if isinstance(runner, MasterRunner):
            _track_workers(runner)
        scenario = RUN.scenario
        for threshold in scenario.thresholds:
            if not threshold.abort_on_fail or elapsed < threshold.grace_s:
                continue
            observed = observe(threshold, runner.stats, RUN.personas)
            fails[threshold.label] = fails[threshold.label] + 1 if threshold.judge(observed) == FAIL else 0
            if fails[threshold.label] >= ABORT_CONSECUTIVE_FAILS and RUN.aborted is None:
                RUN.aborted = f"threshold abort at {elapsed:.0f}s: {threshold.reason(observed)}"
                log.error("aborting: %s", RUN.aborted)
                gevent.spawn(runner.stop if not options.headless else runner.quit)
                return
        if options.status_line:
            _print_status(runner, scenario, elapsed)
        if runner.state == "stopped":
            return


# ---------------------------------------------------------------------------- workers (master side)


def _announce_waiting(runner: MasterRunner, expected: int, status_line: bool) -> None:
    """Until the test starts: "waiting for workers: n of N connected" (careerload run words its timeout from it)."""
    while RUN.start is None and runner.state == "ready":
        connected = len(runner.clients.ready)
        if status_line:
            print(f"{STATUS_PREFIX}waiting for workers: {connected} of {expected} connected", flush=True)
        gevent.sleep(WATCH_INTERVAL_S)


def _track_workers(runner: MasterRunner) -> None:
    """Record the workers that took part, and those lost while the test runs (missing heartbeat, or quit)."""
    for client_id, client in list(runner.clients.items()):
        worker = _worker_of(runner, client_id)
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
    at = _now_iso()
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


def _worker_of(runner: MasterRunner, client_id: str) -> str:
    return f"w{runner.get_worker_index(client_id)}"


def _on_worker_rows(environment: Environment, msg: Any, **_: Any) -> None:
    """A batch of a remote worker's raw rows: append it to requests-<worker>.csv in the run directory.

    The batch is handed to the operating system before it is acknowledged, so a
    master killed after the acknowledgement still has the rows in its file.
    """
    run_dir = environment.parsed_options.run_dir if environment.parsed_options else ""
    if not run_dir:
        return
    worker = _worker_of(environment.runner, msg.node_id)
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


def _on_worker_flushed(environment: Environment, msg: Any, **_: Any) -> None:
    RUN.flushed.add(msg.node_id)


def _drain_workers(runner: MasterRunner) -> None:
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
                    _worker_of(runner, client_id), DRAIN_TIMEOUT_S)
    for out in RUN.shipped.values():
        out.flush()


# ---------------------------------------------------------------------------- workers (worker side)


def _on_rows_acknowledged(environment: Environment, msg: Any, **_: Any) -> None:
    if isinstance(RUN.request_log, ShippedRequestLog):
        RUN.request_log.acknowledged(msg.data["batch"])


def _on_flush_request(environment: Environment, **_: Any) -> None:
    """The master's test is stopping: stop the users, then rows, statistics and the confirmation, in that order."""
    runner = environment.runner
    runner.stop()
    if RUN.request_log is not None:
        RUN.request_log.flush()
    runner._send_stats()  # Locust's own final report (it sends it again, empty, on quit)
    runner.send_message(FLUSHED_MESSAGE, None)


def _print_status(runner: Any, scenario: Scenario, elapsed: float) -> None:
    total = runner.stats.total
    p95 = total.get_response_time_percentile(0.95) if total.num_requests else 0
    stage = scenario.stage_at(elapsed)
    where = f"stage {stage[0] + 1}/{len(scenario.stages)}" if stage else "ending"
    print(
        f"{STATUS_PREFIX}{elapsed:5.0f}s/{scenario.duration_s:.0f}s {where} users={runner.user_count} "
        f"rps={total.current_rps:.1f} requests={total.num_requests} p95={p95:.0f}ms "
        f"failures={total.fail_ratio * 100:.2f}%",
        flush=True,
    )


# ---------------------------------------------------------------------------- the end


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    RUN.end = _now_iso()
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _drain_workers(runner)
    elif RUN.request_log is not None:
        RUN.request_log.flush()


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    """Close the request log; on the master: verdict, run.json, exit code (0 PASS/WARN, 1 FAIL)."""
    if RUN.request_log is not None:
        RUN.request_log.close()
        RUN.request_log = None
    for out in RUN.shipped.values():
        out.close()
    RUN.shipped.clear()
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or RUN.scenario is None or environment.parsed_options is None:
        return
    result = verdict(RUN.scenario.thresholds, runner.stats, RUN.personas)
    for row in result["thresholds"]:
        if row["status"] not in ("PASS", "NO_DATA"):
            log.warning("THRESHOLD %s: %s", row["status"], row["reason"])
    if RUN.scenario.thresholds:
        environment.process_exit_code = 1 if result["status"] == FAIL else 0
    if environment.parsed_options.run_dir:
        write_run_json(environment, result, *_how_it_ended())


def _how_it_ended() -> tuple[str, dict[str, str] | None]:
    """run.json's status and `incomplete` at the end: complete, unless what started this process died first.

    `careerload run` starts Locust with PR_SET_PDEATHSIG, so when it is killed
    its Locust processes get SIGTERM and end here, reparented: the run directory
    will get neither its merged raw log nor its report from that command.
    """
    if os.getppid() == RUN.parent_pid:
        return rundir.COMPLETE, None
    return rundir.INCOMPLETE, {
        "reason": rundir.INTERRUPTED,
        "detail": f"the process that started Locust (pid {RUN.parent_pid}, `careerload run`) ended before the load "
                  "did, and Locust was stopped with it",
    }


@functools.cache
def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("careerload")
    except PackageNotFoundError:
        own = "unknown"
    return {"careerload": own, "locust": locust.__version__, "python": platform.python_version()}


def write_run_json(environment: Environment, result: dict[str, Any] | None, status: str,
                   incomplete: dict[str, str] | None = None) -> Path:
    """run.json as rundir.RUN_JSON_KEYS describes it, plus the verdict from Locust's statistics.

    Written when the load starts (status "running", no end, no verdict) and again
    when Locust quits; atomically, so a kill at any moment leaves one or the other.
    """
    options = environment.parsed_options
    scenario = RUN.scenario
    runner = environment.runner
    workers = sorted(RUN.workers) if isinstance(runner, MasterRunner) else ["local"]
    document = {
        "scenario": scenario.name,
        "scenario_file": str(scenario.path),
        "host": environment.host,
        "options": {
            "scenario": options.scenario_file or options.scenario, "time_scale": options.time_scale,
            "peak_users": options.peak_users or None, "think_time_scale": options.think_time_scale,
            "seed_users": options.seed_users, "database_url": redact(options.database_url),
            "headless": bool(options.headless), "master": bool(options.master),
            "expect_workers": options.expect_workers if options.master else 0,
            "on_worker_loss": options.on_worker_loss,
        },
        "thresholds": [t.to_dict() for t in scenario.thresholds],
        "versions": _versions(),
        "start": RUN.start,
        "end": None if status == rundir.RUNNING else RUN.end or _now_iso(),
        "git_revision": _git_revision(),
        "workers": workers,
        "worker_nodes": dict(sorted(RUN.nodes.items())),  # worker id -> Locust client id (its host name first)
        "lost_workers": RUN.lost_workers,
        "aborted": RUN.aborted,
        "question": scenario.question,
        "shape": scenario.to_dict(),
        "counters": dict(RUN.counters),
        "verdict": result,
        "status": status,
        "incomplete": incomplete,
    }
    path = Path(options.run_dir) / rundir.RUN_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    return rundir.write_json(path, document)
