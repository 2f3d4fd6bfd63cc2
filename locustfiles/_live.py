"""The master's live watch: every second, the abort_on_fail thresholds, the workers, the status line.

The abort_on_fail thresholds are judged with the same `Threshold.judge` the
report uses, over the live window (scenarios.sliding_window: the raw requests
of the last `--live-window` seconds, fed by locustfiles._live_window), not over
Locust's statistics since the start. A threshold the window cannot judge
(server-side, counters, time-scoped) is left to the report.

A critical level counts as clearly broken once it fails ABORT_CONSECUTIVE_FAILS
checks in a row, one second apart. Two consecutive windows share all but one
second of their rows, so the second check is no independent confirmation of a
slow window: what it guards against is a single check that judged a window
edge (the first rows after a quiet spell, a worker's late batch landing at
once). The run then stops, and run.json's `abort` says which figure of which
window (epoch seconds) triggered it, for the report to set beside the raw log's.
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
from scenarios.loader import Scenario
from scenarios.sliding_window import Observation
from scenarios.thresholds import FAIL, Threshold

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
        window = RUN.window
        for threshold in scenario.thresholds if window is not None else ():
            if not threshold.abort_on_fail or elapsed < threshold.grace_s or not window.judges(threshold):
                continue
            observed = window.observe(threshold, time.time())
            fails[threshold.label] = fails[threshold.label] + 1 if threshold.judge(observed.value) == FAIL else 0
            if fails[threshold.label] >= ABORT_CONSECUTIVE_FAILS and RUN.aborted is None:
                RUN.aborted = f"threshold abort at {elapsed:.0f}s: {threshold.reason(observed.value)} " \
                              f"(the last {observed.window_end - observed.window_start:.0f} s)"
                RUN.abort = abort_evidence(threshold, observed)
                log.error("aborting: %s", RUN.aborted)
                gevent.spawn(runner.stop if not options.headless else runner.quit)
                return
        if options.status_line:
            _print_status(runner, scenario, elapsed)
        if runner.state == "stopped":
            return


def abort_evidence(threshold: Threshold, observed: Observation) -> dict[str, Any]:
    """run.json's `abort` (see foundation.rundir): the figure that triggered the abort and its window."""
    return {
        "metric": threshold.metric, "scope": threshold.scope, "observed": observed.value, "level": threshold.critical,
        "window_start": observed.window_start, "window_end": observed.window_end,
    }


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
