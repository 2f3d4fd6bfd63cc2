"""`careerload run SCENARIO --host URL`: play a scenario with Locust and print its verdict."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from careerload.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="play a scenario against a host and print the verdict",
        description=(
            "Play a scenario (a built-in name, see `careerload scenarios`, or a .toml file) with Locust, "
            "headless by default, write the run directory, print the verdict. "
            "Exit 0 on PASS or WARN, 1 on FAIL, 2 on a usage or environment error."
        ),
    )
    parser.add_argument("scenario", help="built-in scenario name or path to a scenario .toml file")
    parser.add_argument("--host", required=True, help="base URL of the backend, e.g. http://127.0.0.1:8000")
    parser.add_argument("--time-scale", type=float, default=1.0, metavar="F",
                        help="multiply every duration (0.1 plays the scenario ten times faster); default 1")
    parser.add_argument("--users", type=int, default=None, metavar="N",
                        help="rescale the scenario so its peak is N users (arrival rate: the pool size)")
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="run a Locust master plus N local worker processes; default 0 (one process)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="run directory; default results/<scenario>-<UTC timestamp>")
    parser.add_argument("--web", action="store_true", help="Locust's web UI instead of headless, scenario preselected")
    parser.add_argument("--web-port", type=int, default=8089, help="port of the web UI on 127.0.0.1; default 8089")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="PostgreSQL URL: user and job id pools, and the database persona (default $DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""),
                        help="Redis URL: snapshot INFO stats (hits, misses, evictions, memory) during the run "
                             "(default $REDIS_URL)")
    parser.add_argument("--snapshot-interval", type=float, default=5.0, metavar="S",
                        help="seconds between server-side snapshots (Redis, pg_stat_statements, backend process); "
                             "default 5")
    parser.add_argument("--seed-users", type=int, default=None, metavar="N",
                        help="without --database-url: log in as user1..userN@careerload.test (default 100)")
    parser.add_argument("--think-time-scale", type=float, default=None, metavar="F",
                        help="multiply the personas' think times (0 = none)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from careerload.runner import RunError, RunOptions, run

    options = RunOptions(
        scenario=args.scenario, host=args.host, time_scale=args.time_scale, users=args.users, workers=args.workers,
        out=args.out, web=args.web, web_port=args.web_port, database_url=args.database_url,
        redis_url=args.redis_url, snapshot_interval=args.snapshot_interval,
        seed_users=args.seed_users, think_time_scale=args.think_time_scale,
    )
    try:
        return run(options)
    except RunError as exc:
        raise UsageError(str(exc)) from None
