"""`careerload run`: pre-flight, Locust processes, run directory, verdict.

Locust runs as child processes (`python -m locust -f locustfiles ...`), not in
this process: Locust monkey-patches the interpreter with gevent when imported,
which must happen before anything else is imported, and would change every
other command sharing this process (threads, subprocess, the embedded stack).
As children, `careerload run` and `locust -f locustfiles --scenario NAME` play
exactly the same code, and `--workers N` is simply a master plus N worker
processes. This process only waits, relays the status line, forwards Ctrl-C,
merges the per-worker request logs and prints the verdict.

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

Exit codes: 0 PASS or WARN, 1 FAIL, 2 usage or environment error (UsageError).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from foundation import rundir
from foundation.rundir import STATUS_PREFIX
from foundation.options import PASSED_TO_LOCUST
from foundation.processes import die_with_parent, free_port
from careerload.run_options import RunOptions
from foundation.rawlog import merge_request_logs
from careerload.snapshots import ServerSnapshots, login_token
from scenarios.loader import Scenario, builtin_name, load_scenario
from scenarios.thresholds import COUNTS_AS, FAIL, PASS, ScenarioError

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILES = REPO_ROOT / "locustfiles"
LOCUST_LOG = "locust.log"  # the master's own output (and workers' in locust-w<N>.log)
PREFLIGHT_TIMEOUT_S = 3.0
DEFAULT_MASTER_PORT = 5557  # Locust's; what remote workers and firewalls expect
# Locust's line when --expect-workers-max-wait runs out, and the plugin's waiting status line.
GAVE_UP_WAITING = "Gave up waiting for workers to connect"
WAITING_FOR_WORKERS = re.compile(r"waiting for workers: (\d+) of (\d+) connected")
# After Ctrl-C or the end of the master, how long workers get to flush and exit.
WORKER_EXIT_TIMEOUT_S = 15.0
# How long the master gets after Ctrl-C to stop users and write its reports.
MASTER_EXIT_TIMEOUT_S = 30.0
# Without a terminal (CI logs) print the status line at most this often.
STATUS_EVERY_S_NO_TTY = 5.0


class RunError(Exception):
    """An environment or usage problem found before or while starting the run (exit 2)."""


class MasterLost(RunError):
    """The Locust master died after the load started; the message says how (exit 2, after a partial report)."""


# ---------------------------------------------------------------------------- pre-flight


def preflight(host: str, scenario: Scenario, options: RunOptions) -> None:
    """Fail in seconds, with one sentence, when the target or the database cannot serve this run."""
    needs_http = any(p != "DatabaseUser" for p, w in scenario.personas.items() if w)
    if needs_http:
        url = host.rstrip("/") + "/api/v1/health"
        try:
            with urllib.request.urlopen(url, timeout=PREFLIGHT_TIMEOUT_S) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                body = exc.read()[:200].decode(errors="replace")
                raise RunError(f"{url} answered {exc.code}: the target is unhealthy ({body.strip()})") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RunError(f"cannot reach {host}: {reason} (GET {url})") from None
    if "DatabaseUser" in scenario.personas and not options.database_url:
        raise RunError(f"scenario {scenario.name} runs DatabaseUser: give --database-url (or DATABASE_URL)")
    if options.database_url:
        from careerload.stack import StackError, check_database

        try:
            users = check_database(options.database_url, timeout=int(PREFLIGHT_TIMEOUT_S),
                                   probe="SELECT count(*) FROM users", what="at --database-url")
        except StackError as exc:
            raise RunError(str(exc)) from None
        if users == 0:
            raise RunError("the database has no users: seed it first (careerload seed)")


# ---------------------------------------------------------------------------- run directory


def make_run_dir(out: Path | None, scenario: str) -> Path:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path("results") / f"{scenario}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------------------- Locust processes


def worker_command(master_host: str, master_port: int, request_log_to: str,
                   unsent_dir: str | None = None) -> list[str]:
    """A Locust worker of careerload's locustfiles; everything else comes from the master at spawn.

    `request_log_to`: "run-dir" for workers sharing the master's file system (they
    write requests-<worker>.csv themselves), "master" for remote ones (rows travel
    to the master, which writes the same file; rows it never confirms go to
    `unsent_dir`, absolute because the worker runs in the repository's directory).
    """
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILES), "--worker", "--master-host", master_host,
           "--master-port", str(master_port), "--request-log-to", request_log_to]
    return cmd + ["--unsent-dir", str(Path(unsent_dir).resolve())] if unsent_dir is not None else cmd


def locust_command(options: RunOptions, scenario: Scenario, run_dir: Path, role: str, master_port: int) -> list[str]:
    """The `python -m locust` command line for the master/local process or a local worker."""
    if role == "worker":
        return worker_command("127.0.0.1", master_port, "run-dir")
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILES)]
    # A built-in goes by name, so the web UI's scenario picker shows it; a file by its path.
    builtin = builtin_name(scenario.path)
    source = ["--scenario", builtin] if builtin else ["--scenario-file", str(scenario.path)]
    cmd += [
        "--host", options.host,
        *source,
        "--run-dir", str(run_dir),
        "--csv", str(run_dir / rundir.CSV_PREFIX), "--csv-full-history",
        "--html", str(run_dir / rundir.LOCUST_HTML),
        "--json-file", str(run_dir / "locust_stats"),
        "--exit-code-on-error", "0",
        "--only-summary",
        "--status-line",
    ]
    for option in PASSED_TO_LOCUST:  # secrets travel in child_env's environment instead
        cmd += option.locust_argv(getattr(options, option.dest))
    if options.web:
        cmd += ["--web-host", options.web_host, "--web-port", str(options.web_port)]
    else:
        cmd += ["--headless"]
    if options.distributed:
        cmd += ["--master", "--master-bind-host", options.master_bind_host, "--master-bind-port", str(master_port)]
        if options.expected_workers:
            cmd += ["--expect-workers", str(options.expected_workers),
                    "--expect-workers-max-wait", str(math.ceil(options.expect_workers_timeout))]
    return cmd


def child_env(options: RunOptions | None = None) -> dict[str, str]:
    """The environment of a Locust child: unbuffered output, and the secret options (the database URL).

    Secrets travel by environment, not argv, so `ps` does not show a password; one
    not given is removed, so the child cannot pick up a stale one of ours.
    """
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    for option in PASSED_TO_LOCUST:
        if option.secret and option.env:
            value = getattr(options, option.dest) if options is not None else ""
            if value:
                env[option.env] = value
            else:
                env.pop(option.env, None)
    return env


class StatusRelay(threading.Thread):
    """Copies the master's output into locust.log and shows its status lines on the terminal."""

    def __init__(self, stream: TextIO, log_path: Path, terminal: TextIO) -> None:
        super().__init__(daemon=True)
        self.stream, self.log_path, self.terminal = stream, log_path, terminal
        self.tty = terminal.isatty()
        self.last_shown = 0.0
        self.last_lines: list[str] = []  # the master's last words, for a one-line error
        self.workers_connected: int | None = None  # from the master's "waiting for workers" lines
        self.gave_up_waiting = False  # Locust's --expect-workers-max-wait ran out

    def run(self) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            for line in self.stream:
                log.write(line)
                log.flush()
                if line.startswith(STATUS_PREFIX):
                    waiting = WAITING_FOR_WORKERS.search(line)
                    if waiting:
                        self.workers_connected = int(waiting.group(1))
                    self.show(line[len(STATUS_PREFIX):].rstrip())
                elif line.strip():
                    if GAVE_UP_WAITING in line:
                        self.gave_up_waiting = True
                    self.last_lines = [*self.last_lines[-2:], line.strip()]
        if self.tty:
            self.terminal.write("\n")

    def show(self, status: str) -> None:
        if self.tty:
            self.terminal.write("\r" + status[: os.get_terminal_size(self.terminal.fileno()).columns - 1].ljust(60))
            self.terminal.flush()
        elif time.monotonic() - self.last_shown >= STATUS_EVERY_S_NO_TTY:
            self.last_shown = time.monotonic()
            print(status, file=self.terminal, flush=True)


def start_child(cmd: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen:
    """A Locust child in its own session that dies with this process (see `play`)."""
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent,
                            **kwargs)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within: SIGTERM (`docker stop`, systemd, kill PID) ends the wait like Ctrl-C, so children stop cleanly."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_child(proc: subprocess.Popen, timeout: float) -> None:
    """Wait for a child; escalate to SIGTERM, then SIGKILL, by its PID."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            timeout = 5.0


def master_port_for(options: RunOptions) -> int:
    if options.master_port:
        return options.master_port
    return DEFAULT_MASTER_PORT if options.remote_workers else free_port()


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
            interrupted = True
            print("\ncareerload: Ctrl-C: stopping the load, writing the run directory...", file=sys.stderr, flush=True)
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


def load_started(run_dir: Path) -> bool:
    """Whether the master had started the load and not finished it: its run.json still says "running"."""
    path = run_dir / rundir.RUN_JSON
    return path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("status") == rundir.RUNNING


def ended_how(returncode: int) -> str:
    """A child's end in words: "was killed by SIGKILL", "exited with code 3"."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def amend_run_json(run_dir: Path, options: RunOptions, scenario: Scenario, interrupted: bool,
                   lost: str | None = None) -> dict[str, Any]:
    """Add the command's own options to the master's run.json (or write a minimal one if it has none).

    `lost`: how the master died mid-run; the run is then incomplete ("master
    lost"). A run.json the master left "running" for another reason (killed
    while it stopped after Ctrl-C) is incomplete too ("interrupted").
    """
    path = run_dir / rundir.RUN_JSON
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {
        "scenario": scenario.name, "scenario_file": str(scenario.path), "host": options.host, "options": {},
        "thresholds": [t.to_dict() for t in scenario.thresholds], "versions": {}, "start": None, "end": None,
        "git_revision": None, "workers": [], "lost_workers": [], "aborted": None, "status": rundir.COMPLETE,
        "incomplete": None,
    }
    document["options"] = {**document.get("options", {}), "careerload_run": options.recorded()}
    if interrupted and not document.get("aborted"):
        document["aborted"] = "interrupted (Ctrl-C)"
    if lost:
        document["status"], document["incomplete"] = rundir.INCOMPLETE, {"reason": rundir.MASTER_LOST, "detail": lost}
    elif document.get("status") == rundir.RUNNING:
        document["status"], document["incomplete"] = rundir.INCOMPLETE, {
            "reason": rundir.INTERRUPTED, "detail": "the Locust master was stopped before it could finish run.json"}
    rundir.write_json(path, document)
    return document


# ---------------------------------------------------------------------------- server-side evidence


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


# ---------------------------------------------------------------------------- verdict


def analyse(run_dir: Path) -> dict[str, Any] | None:
    """The run's verdict, {"status", "thresholds": [rows]}, from the analysis of the run directory.

    `careerload report` computes it from the raw request log (exact percentiles,
    server-side metrics from the snapshots) and writes every report file. When the
    directory cannot be analysed (a run interrupted before any request, say) or the
    analysis fails, the verdict falls back to the one the master computed from
    Locust's statistics, and the run directory stays complete for a later report.
    """
    from analysis.load import RunDirError
    from analysis.report import report

    try:
        summary = report(run_dir).summary
    except Exception as exc:  # noqa: BLE001 - a failed analysis must not lose a finished run
        why = str(exc) if isinstance(exc, RunDirError) else f"the analysis failed: {type(exc).__name__}: {exc}"
        print(f"careerload: warning: no report ({why}); verdict from Locust's own statistics; "
              f"`careerload report {run_dir}` retries", file=sys.stderr)
        path = run_dir / rundir.RUN_JSON
        return json.loads(path.read_text(encoding="utf-8")).get("verdict") if path.exists() else None
    return {"status": summary.verdict, "thresholds": summary.thresholds,
            "incomplete": summary.incomplete["note"] if summary.incomplete else None}


def verdict_table(result: dict[str, Any]) -> list[str]:
    from analysis.formatting import metric_value

    rows = [("STATUS", "METRIC", "SCOPE", "OBSERVED", "TARGET", "CRITICAL")]
    for row in result["thresholds"]:
        metric = row["metric"]
        rows.append((row["status"], metric, row["scope"], metric_value(metric, row["observed"]),
                     metric_value(metric, row["target"]), metric_value(metric, row["critical"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def run(options: RunOptions) -> int:
    """The whole command: 0 PASS/WARN, 1 FAIL; RunError for exit 2."""
    try:
        scenario = load_scenario(options.scenario).scaled(options.time_scale, options.peak_users or None)
    except ScenarioError as exc:
        raise RunError(str(exc)) from None
    if options.workers < 0:
        raise RunError(f"--workers: expected 0 or more, got {options.workers}")
    if options.expect_workers is not None and options.expect_workers < options.workers:
        raise RunError(f"--expect-workers {options.expect_workers} is fewer than the {options.workers} local "
                       "--workers; it counts local and remote workers together")
    if options.expect_workers_timeout <= 0:
        raise RunError(f"--expect-workers-timeout: expected a positive number of seconds, "
                       f"got {options.expect_workers_timeout}")
    if options.on_worker_loss not in ("continue", "stop"):
        raise RunError(f"--on-worker-loss: expected continue or stop, got {options.on_worker_loss!r}")
    if options.snapshot_interval <= 0:
        raise RunError(f"--snapshot-interval: expected a positive number of seconds, got {options.snapshot_interval}")
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
        print(f"careerload: web UI on http://{options.web_host}:{options.web_port} (Ctrl-C to end)", flush=True)
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
    return 1 if result["status"] == FAIL else 0
