"""`careerload demo`: the main job on a fresh machine, start to verdict.

Embedded stack → seed at a small scale → the mixed scenario compressed to about
a minute → analysis (summary.json, report.html/.md, junit.xml, charts) → verdict.
Each step prints one line; the run directory's path is printed at the end.
Exit code: the run's (0 PASS or WARN, 1 FAIL, 2 environment error).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

from careerload.cmd_up import add_stack_options, stack_from_args

# The demo's defaults: small enough for a 2-core laptop running the backend and the
# load generator side by side, large enough for indexes and caches to matter.
DEMO_SCALE = 0.2          # 200 users, 10,000 jobs
DEMO_SCENARIO = "mixed"   # 40/30/20/10 browsing, writes, AI, scraping
DEMO_SECONDS = 60         # the mixed scenario's 15 minutes, compressed
DEMO_USERS = 40           # its peak of 200 users, scaled to one machine
# The backend's simulated LLM answers in ~3 s median; a demo wants the AI path
# exercised, not a minute of waiting on it.
DEMO_TARGET_ENV = {"AI_LATENCY_MEDIAN_MS": "1500", "SCRAPING_DELAY_MS": "200"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="stack, seed, a short mixed run, report and verdict, in one go",
                            description=__doc__.split("\n\n")[1])
    add_stack_options(parser)
    parser.add_argument("--scale", type=float, default=DEMO_SCALE, help=f"seed scale (default {DEMO_SCALE})")
    parser.add_argument("--scenario", default=DEMO_SCENARIO, help=f"scenario to play (default {DEMO_SCENARIO})")
    parser.add_argument("--seconds", type=float, default=DEMO_SECONDS,
                        help=f"compress the scenario to about this many seconds (default {DEMO_SECONDS})")
    parser.add_argument("--users", type=int, default=DEMO_USERS, help=f"peak users (default {DEMO_USERS})")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default results/<scenario>-<UTC time>)")
    parser.set_defaults(func=run)


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(args: argparse.Namespace) -> int:
    from careerload.run_options import RunOptions
    from careerload.run_errors import RunError
    from careerload.runner import run as run_scenario
    from careerload.stack import StackError
    from scenarios.loader import load_scenario
    from scenarios.thresholds import ScenarioError
    from seed_data.loader import SeedError, seed
    from foundation.logins import seed_password

    started = time.monotonic()
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        raise StackError(str(exc)) from None
    _step("starting the embedded stack (PostgreSQL, Redis, reference backend)")
    stack = stack_from_args(args)
    stack.target_env.update(DEMO_TARGET_ENV)
    with stack:
        stack.describe(sys.stdout)
        with urllib.request.urlopen(f"{stack.target_url}/api/v1/health", timeout=5) as response:
            _step(f"backend health: {json.load(response)}")
        _step(f"seeding scale {args.scale}")
        try:
            summary = seed(stack.database_url, args.scale, 1, seed_password(), reset=True)
        except SeedError as exc:
            raise StackError(str(exc)) from None
        print(summary.line(), flush=True)
        time_scale = args.seconds / scenario.duration_s
        _step(f"playing {scenario.name} compressed x{time_scale:.3f} (~{args.seconds:.0f} s, peak {args.users} users)")
        options = RunOptions(scenario=args.scenario, host=stack.target_url, time_scale=time_scale, peak_users=args.users,
                             out=args.out, database_url=stack.database_url, redis_url=stack.redis_url or "",
                             snapshot_interval=5.0)
        try:
            code = run_scenario(options)
        except RunError as exc:
            raise StackError(str(exc)) from None
    _step(f"stack stopped; demo took {time.monotonic() - started:.0f} s")
    return code
