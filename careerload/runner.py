"""`careerload run`, from start to verdict: the order of the steps, each in its own module.

    preflight          options, target and database checked in seconds
    run_directory      the run directory made, run.json amended afterwards
    locust_processes   the Locust master and workers as child processes (see why there)
    status_relay       the master's output to locust.log and the terminal
    snapshots          server-side evidence during the run
    foundation.rawlog  the per-worker raw logs merged
    verdict            the analysis, and the verdict table printed

This process only waits, relays the status line, forwards Ctrl-C, merges the
per-worker request logs and prints the verdict.

Distributed runs use Locust's own master/worker protocol. The master binds
`--master-bind-host:--master-port`; `--expect-workers N` makes it wait for N
workers in all (local ones from `--workers` plus remote `careerload worker`
processes) for at most `--expect-workers-timeout` seconds. Local workers write
their raw request log straight into the run directory; remote workers send
theirs to the master in batches (see locustfiles._distributed), which writes
`requests-<worker>.csv` the same way. A worker lost mid-run is recorded in
run.json `lost_workers` and, with `--on-worker-loss stop`, ends the run (exit 2
after the report is written).

A master that dies once the load has started (run.json says "running") is not
the end of what was measured: run.json is marked incomplete ("master lost"), the
analysis merges the workers' logs itself and writes a partial report, and only
then does the command exit 2.

Exit codes: 0 PASS or WARN, 1 FAIL (99 with --k6-exit-codes, as k6), 2 usage or environment error (UsageError).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from careerload.locust_processes import (
    MASTER_EXIT_TIMEOUT_S, WORKER_EXIT_TIMEOUT_S, child_env, ended_how, locust_command, master_port_for, start_child,
    sigterm_as_interrupt, stop_child,
)
from careerload.preflight import check_options, preflight
from careerload.run_directory import amend_run_json, load_started, make_run_dir, run_written
from careerload.run_errors import MasterLost, RunError
from careerload.run_options import RunOptions
from careerload.snapshots import ServerSnapshots, login_token
from careerload.status_relay import StatusRelay
from careerload.verdict import analyse, verdict_table
from foundation import rundir
from foundation.errors import K6_THRESHOLDS_FAILED
from foundation.rawlog import merge_request_logs
from scenarios.loader import Scenario, load_scenario
from scenarios.thresholds import COUNTS_AS, FAIL, PASS, ScenarioError

LOCUST_LOG = "locust.log"  # the master's own output (and workers' in locust-w<N>.log)


def play(options: RunOptions, scenario: Scenario, run_dir: Path, master_port: int = 0) -> tuple[int, bool]:
    """Run Locust (master/local plus workers) to the end; returns (master exit code, interrupted)."""
    env = child_env(options)
    # Own sessions: a terminal's Ctrl-C reaches only this process, which then stops
    # the master cleanly (SIGINT), and the master stops its workers.
    master = start_child(locust_command(options, scenario, run_dir, "master", master_port), env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = []
    for i in range(options.workers):
        log = open(run_dir / f"locust-w{i}.log", "w", encoding="utf-8")
        workers.append(start_child(locust_command(options, scenario, run_dir, "worker", master_port), env,
                                   stdout=log, stderr=subprocess.STDOUT))
        log.close()
    relay = StatusRelay(master.stdout, run_dir / LOCUST_LOG, sys.stdout)
    relay.start()
    interrupted = False
    try:
        try:
            with sigterm_as_interrupt():
                master.wait()
        except KeyboardInterrupt:
            # After a web UI's STOP the run is written: Ctrl-C only closes the UI, it interrupts nothing.
            interrupted = not run_written(run_dir)
            doing = "stopping the load, writing the run directory" if interrupted else "closing the web UI"
            print(f"\ncareerload: Ctrl-C: {doing}...", file=sys.stderr, flush=True)
            master.send_signal(signal.SIGINT)
            stop_child(master, MASTER_EXIT_TIMEOUT_S)
    finally:
        if master.poll() is not None:
            relay.join(timeout=5)
        # A master that ended normally told its workers to quit; one that failed or gave up
        # waiting may have left some that never connected: those get only a moment.
        failed = master.returncode not in (0, 1) or relay.gave_up_waiting
        for proc in workers:
            stop_child(proc, 2.0 if failed else WORKER_EXIT_TIMEOUT_S)
        if master.poll() is None:
            stop_child(master, 1.0)
        relay.join(timeout=5)
    if relay.gave_up_waiting and not interrupted:
        connected = "none" if not relay.workers_connected else f"only {relay.workers_connected}"
        where = (f"careerload worker --master-host <this host> --master-port {master_port}"
                 if options.remote_workers else "see the locust-w*.log files")
        raise RunError(f"expected {options.expected_workers} workers, {connected} connected within "
                       f"{options.expect_workers_timeout:g} s (--expect-workers-timeout); start the missing ones "
                       f"({where}) or lower --expect-workers")
    if master.returncode not in (0, 1) and not interrupted:
        if load_started(run_dir):
            raise MasterLost(f"the Locust master (pid {master.pid}) {ended_how(master.returncode)} mid-run")
        last = relay.last_lines[-1] if relay.last_lines else "no output"
        raise RunError(f"Locust exited with code {master.returncode}: {last} (see {run_dir / LOCUST_LOG})")
    return master.returncode, interrupted


def server_snapshots(options: RunOptions, scenario: Scenario, run_dir: Path) -> ServerSnapshots:
    """Snapshots of Redis, pg_stat_statements and the backend during the run (see careerload.snapshots).

    The backend's /cache/metrics is read when the scenario talks HTTP; it needs a
    token, obtained by logging in as the first seeded user.
    """
    http = any(p != "DatabaseUser" for p, w in scenario.personas.items() if w)
    token = login_token(options.host) if http else None
    return ServerSnapshots(run_dir, database_url=options.database_url or None, redis_url=options.redis_url or None,
                           target_url=options.host if http else None, auth_token=token,
                           interval_s=options.snapshot_interval)


def measure(options: RunOptions, scenario: Scenario, run_dir: Path,
            master_port: int = 0) -> tuple[dict[str, Any], str | None]:
    """Play the scenario into `run_dir` with the server snapshots, amend run.json, merge the raw logs.

    Everything of a run but the analysis: `careerload capacity` plays each of its
    steps through here and judges the step itself. Returns run.json as amended
    and, when the master died mid-run, how (the run is then incomplete).
    """
    snapshots = server_snapshots(options, scenario, run_dir)
    snapshots.start()
    master_lost: str | None = None
    try:
        _, interrupted = play(options, scenario, run_dir, master_port)
    except MasterLost as exc:
        master_lost, interrupted = str(exc), False
    finally:
        snapshots.stop()
    document = amend_run_json(run_dir, options, scenario, interrupted, master_lost)
    if rundir.incomplete_of(document) is None:  # an incomplete run's logs are merged by the analysis
        torn = merge_request_logs(run_dir).torn
        if torn:
            print(f"careerload: warning: {torn} torn request-log rows left out (a worker died mid-write)",
                  file=sys.stderr)
    return document, master_lost


def run(options: RunOptions) -> int:
    """The whole command: 0 PASS/WARN, 1 FAIL; RunError for exit 2."""
    try:
        scenario = load_scenario(options.scenario).scaled(options.time_scale, options.peak_users or None)
    except ScenarioError as exc:
        raise RunError(str(exc)) from None
    check_options(options)
    preflight(options.host, scenario, options)
    run_dir = make_run_dir(options.out, scenario.name)
    master_port = master_port_for(options) if options.distributed else 0
    if not options.distributed:
        mode = "1 process"
    elif options.remote_workers:
        mode = (f"master on {options.master_bind_host}:{master_port} expecting {options.expected_workers} workers "
                f"({options.workers} local) within {options.expect_workers_timeout:g} s")
    else:
        mode = f"{options.workers} workers"
    print(f"careerload: {scenario.name}: {scenario.question}", flush=True)
    print(f"careerload: {scenario.duration_s:.0f}s, peak {scenario.peak_users} users, {mode}, "
          f"host {options.host}, run directory {run_dir}", flush=True)
    if options.web:
        print(f"careerload: web UI on http://{options.web_host}:{options.web_port}: START plays the scenario the "
              "picker names; STOP writes the run directory and the report; Ctrl-C ends", flush=True)
    document, master_lost = measure(options, scenario, run_dir, master_port)
    result = analyse(run_dir)
    if result is None:
        if master_lost:
            raise RunError(f"{master_lost}; nothing it measured could be analysed (see {run_dir / LOCUST_LOG})")
        raise RunError(f"the run left no verdict (see {run_dir / LOCUST_LOG})")
    for lost in document.get("lost_workers") or []:
        print(f"careerload: worker {lost['worker']} lost at {lost['at']} ({lost.get('reason', 'lost')}); "
              + ("the run stopped" if options.on_worker_loss == "stop" else "the run carried on with the others"))
    if document.get("aborted"):
        print(f"careerload: run ended early: {document['aborted']}")
    for line in verdict_table(result):
        print(line)
    for row in result["thresholds"]:
        if COUNTS_AS[row["status"]] != PASS:  # NO_DATA counts as WARN: a threshold that judged nothing
            print(f"{COUNTS_AS[row['status']]}: {row['reason']}")
    if result.get("incomplete"):
        print(f"careerload: {result['incomplete']}")
    report_html = run_dir / rundir.REPORT_HTML
    if report_html.exists():
        print(f"careerload: report {report_html}")
    print(f"careerload: verdict {result['status']} - {run_dir}")
    if master_lost:
        raise RunError(f"{master_lost}; the run is incomplete: partial report {report_html} "
                       f"(see {run_dir / LOCUST_LOG})")
    if options.on_worker_loss == "stop" and document.get("lost_workers"):
        lost = document["lost_workers"][0]
        raise RunError(f"worker {lost['worker']} lost at {lost['at']}; the run was stopped (--on-worker-loss stop), "
                       f"partial results in {run_dir}")
    return (K6_THRESHOLDS_FAILED if options.k6_exit_codes else 1) if result["status"] == FAIL else 0
