"""The master's live watch: every second, the abort_on_fail thresholds, the workers, the status line.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner

from foundation.rundir import STATUS_PREFIX
from locustfiles._distributed import track_workers
from locustfiles._run_state import RUN
from locustfiles._verdict import observe
from scenarios.loader import Scenario
from scenarios.thresholds import FAIL

log = logging.getLogger("careerload")


# A critical limit counts as "clearly broken" once it fails this many checks in a row.
ABORT_CONSECUTIVE_FAILS = 2
WATCH_INTERVAL_S = 1.0


def watch(environment: Environment) -> None:
    """Every second: judge abort_on_fail thresholds, track workers, print the status line."""
    runner = environment.runner
    options = environment.parsed_options
    started = time.monotonic()
    fails: Counter[str] = Counter()
    while runner.state not in ("stopped", "stopping") or time.monotonic() - started < 2:
        gevent.sleep(WATCH_INTERVAL_S)
        elapsed = time.monotonic() - started
        if isinstance(runner, MasterRunner):
            track_workers(runner)
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
