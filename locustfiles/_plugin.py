"""careerload's Locust plugin: the listeners that set a run up, log every request and close it.

Imported once (as `locustfiles._plugin`; Locust's directory loader skips files
starting with "_"), so every listener is registered exactly once per process.
The pieces live beside it, one concept each:

    _options          the command line options (foundation.options' table)
    _run_state        RUN: what this process knows about the run
    _request_log      the raw request log writer
    _persona_stats    per-persona statistics, merged on the master
    _distributed      careerload's part of the master/worker protocol
    _live             the master's live watch: abort_on_fail thresholds, status line
    _live_window      the live window's rows: fed by every request, shipped from workers to the master
    _run_json         run.json
    _pacing           the open-model arrival pacer
    _iterations       the personas' side of it: each iteration at its slot, ITER and SCHED raw-log rows
    _web_ui           the web UI's picker and panel; STOP writes the run directory and the report

Per process (local runner or worker), at test start: the user pool (database
or seed pattern), the arrival pacer for open-model scenarios, and the raw
request log (`requests.csv`, or `requests-w<index>.csv` on a worker). On the
master (or local runner): run.json when the load starts (`"status":
"running"`), the live watch, and at the end the verdict from Locust's
statistics and run.json again, completed.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from foundation import rundir
from locustfiles import _live_window, _persona_stats
from locustfiles._options import option_errors  # (and registers the command line options)
from locustfiles import _web_ui  # noqa: F401  (registers the web UI's extension)
from locustfiles._distributed import ShippedRequestLog, compact_shipped, drain_workers, register_master, register_worker
from locustfiles._iterations import end_of_schedule, first_request
from locustfiles._live import watch
from locustfiles._pacing import ArrivalPacer
from locustfiles._pools import AccountPool
from locustfiles._request_log import CsvRequestLog, RequestLog
from locustfiles._run_json import how_it_ended, write_run_json
from locustfiles._run_state import RUN, now_iso, worker_id
from locustfiles._verdict import verdict
from scenarios.shape import scenario_from_options
from scenarios.thresholds import FAIL, ScenarioError

log = logging.getLogger("careerload")


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    """Fail fast on a broken scenario: one line, exit 2, before any user starts."""
    options = environment.parsed_options
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        RUN.request_log_to = options.request_log_to if options is not None else "master"
        if options is not None:
            RUN.unsent_dir = Path(options.unsent_dir)
        register_worker(runner)
        return
    if isinstance(runner, MasterRunner):
        headless_wait = options.expect_workers if options is not None and options.headless else 0
        register_master(runner, headless_wait, bool(options is not None and options.status_line))
        _live_window.register_master(runner)
    signal.signal(signal.SIGTERM, _sigterm_as_ctrl_c)
    if options is None:
        return
    try:
        RUN.scenario = scenario_from_options(options)
    except ScenarioError as exc:
        log.error("%s", exc)
        sys.exit(2)
    for error in option_errors(options):
        log.error("%s", error)
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
    Only the first one counts: a second SIGTERM, seen arriving while the first
    one's shutdown drained the workers, raised a KeyboardInterrupt nothing
    caught and killed the master before it wrote run.json.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    runner = environment.runner
    RUN.scenario = scenario_from_options(options)
    RUN.start, RUN.end, RUN.aborted, RUN.abort = now_iso(), None, None, None
    RUN.personas.reset_all()  # persona rps counts from the test's start
    _live_window.start(environment)
    if not isinstance(runner, MasterRunner):
        _prepare_user_process(environment)
    if not isinstance(runner, WorkerRunner):
        if options.run_dir:
            write_run_json(environment, None, rundir.RUNNING)
        if RUN.watcher is None or RUN.watcher.dead:
            RUN.watcher = gevent.spawn(watch, environment)


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
            scenario.duration_s, options.max_lateness,
        )
    else:
        RUN.pacer = None
    if options.run_dir and RUN.request_log is None:
        worker = worker_id(runner)
        if isinstance(runner, WorkerRunner) and RUN.request_log_to == "master":
            RUN.request_log = ShippedRequestLog(runner, worker, RUN.unsent_dir / Path(options.run_dir).name)
            return
        Path(options.run_dir).mkdir(parents=True, exist_ok=True)
        if options.request_log_format == "csv":
            name = rundir.REQUEST_LOG if worker == "local" else rundir.WORKER_REQUEST_LOG.format(worker=worker)
            RUN.request_log = CsvRequestLog(Path(options.run_dir) / name, worker)
        else:
            RUN.request_log = RequestLog(Path(options.run_dir), worker)


@events.request.add_listener
def on_request(request_type: str, name: str, response_time: float, response_length: int,
               exception: Any = None, context: dict | None = None, start_time: float | None = None,
               **_: Any) -> None:
    persona = context.get("persona", "") if context else ""
    _persona_stats.record(persona, request_type, response_time, response_length, exception)
    if start_time is None:
        start_time = time.time() - response_time / 1000.0
    _live_window.feed(request_type, name, response_time, exception is None, persona, start_time)
    if RUN.request_log is not None:
        RUN.request_log.write(request_type, name, response_time, response_length, exception, persona, start_time)
        first_request(context, request_type, name, response_time, response_length, exception, start_time)


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    RUN.end = now_iso()
    _live_window.stop()
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        drain_workers(runner)
        return
    end_of_schedule()
    if RUN.request_log is not None:
        RUN.request_log.flush()


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    """Close the request log; on the master: verdict, run.json, exit code (0 PASS/WARN, 1 FAIL)."""
    if RUN.request_log is not None:
        RUN.request_log.close()
        RUN.request_log = None
    compact_shipped()
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or RUN.scenario is None or environment.parsed_options is None:
        return
    result = verdict(RUN.scenario.thresholds, runner.stats, RUN.personas)
    for row in result["thresholds"]:
        if row["status"] not in ("PASS", "NO_DATA"):
            log.warning("THRESHOLD %s: %s", row["status"], row["reason"])
    if RUN.scenario.thresholds:
        environment.process_exit_code = 1 if result["status"] == FAIL else 0
    if environment.parsed_options.run_dir and not RUN.closed:  # a web UI's STOP wrote it already
        write_run_json(environment, result, *how_it_ended())
