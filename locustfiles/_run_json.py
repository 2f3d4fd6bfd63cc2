"""run.json, as foundation.rundir describes it: written when the load starts and again when Locust quits.

A master whose parent died first (`careerload run` killed: its children get
SIGTERM) writes `"status": "incomplete"`, reason "interrupted", for the report
to say. Every write is atomic (rundir.write_json): a kill at any moment leaves
the old document or the new one.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import locust
from locust.env import Environment
from locust.runners import MasterRunner

from foundation import rundir
from foundation.urls import redact
from locustfiles._run_state import RUN, now_iso


def how_it_ended() -> tuple[str, dict[str, str] | None]:
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
            "scenario": options.scenario, "time_scale": options.time_scale,
            "peak_users": options.peak_users or None, "think_time_scale": options.think_time_scale,
            "seed_users": options.seed_users, "database_url": redact(options.database_url),
            "headless": bool(options.headless), "master": bool(options.master),
            "expect_workers": options.expect_workers if options.master else 0,
            "on_worker_loss": options.on_worker_loss,
            "max_lateness": options.max_lateness, "live_window": options.live_window,
        },
        "thresholds": [t.to_dict() for t in scenario.thresholds],
        "versions": _versions(),
        "start": RUN.start,
        "end": None if status == rundir.RUNNING else RUN.end or now_iso(),
        "git_revision": _git_revision(),
        "workers": workers,
        "worker_nodes": dict(sorted(RUN.nodes.items())),  # worker id -> Locust client id (its host name first)
        "lost_workers": RUN.lost_workers,
        "aborted": RUN.aborted,
        "abort": RUN.abort,
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
