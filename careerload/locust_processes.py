"""Locust as child processes: their command lines, environment, start and stop.

Locust runs as children (`python -m locust -f locustfiles ...`), not in the
command's process: Locust monkey-patches the interpreter with gevent when
imported, which must happen before anything else is imported, and would change
every other command sharing this process (threads, subprocess, the embedded
stack). As children, `careerload run` and `locust -f locustfiles --scenario
NAME` play exactly the same code, and `--workers N` is simply a master plus N
worker processes. Every child runs in its own session (a terminal's Ctrl-C
reaches only the command, which stops them in order) and dies with the command
(PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from careerload.run_options import RunOptions
from foundation import rundir
from foundation.options import PASSED_TO_LOCUST
from foundation.processes import die_with_parent, free_port
from scenarios.loader import Scenario, builtin_name


REPO_ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILES = REPO_ROOT / "locustfiles"
DEFAULT_MASTER_PORT = 5557  # Locust's; what remote workers and firewalls expect
# After Ctrl-C or the end of the master, how long workers get to flush and exit.
WORKER_EXIT_TIMEOUT_S = 15.0
# How long the master gets after Ctrl-C to stop users and write its reports.
MASTER_EXIT_TIMEOUT_S = 30.0


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
    # A built-in goes by name, a file by its absolute path: the web UI's scenario picker preselects either.
    source = ["--scenario", builtin_name(scenario.path) or str(Path(scenario.path).resolve())]
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
        cmd += ["--web-login"] if options.web_login else []
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


def ended_how(returncode: int) -> str:
    """A child's end in words: "was killed by SIGKILL", "exited with code 3"."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"
