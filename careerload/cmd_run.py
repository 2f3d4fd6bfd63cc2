"""`careerload run SCENARIO --host URL`: play a scenario with Locust and print its verdict."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from foundation.errors import UsageError


def worker_count(text: str) -> int:
    """`--workers`/`--processes`: a number, or `auto` for one per core (os.cpu_count())."""
    if text == "auto":
        return os.cpu_count() or 1
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None


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
    parser.add_argument("--workers", type=worker_count, default=0, metavar="N|auto",
                        help="run a Locust master plus N local worker processes (auto: one per core); "
                             "default 0 (one process)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="run directory; default results/<scenario>-<UTC timestamp>")
    parser.add_argument("--web", action="store_true", help="Locust's web UI instead of headless, scenario preselected")
    parser.add_argument("--web-port", type=int, default=8089, help="port of the web UI; default 8089")
    parser.add_argument("--web-host", default="127.0.0.1",
                        help="interface of the web UI; default 127.0.0.1 (0.0.0.0 inside a container or on a VM "
                             "whose port 8089 you open to yourself)")
    dist = parser.add_argument_group(
        "distributed runs",
        "Locust's master/worker protocol. Remote workers run `careerload worker --master-host THIS_HOST`.",
    )
    dist.add_argument("--master", action="store_true",
                      help="be a Locust master even without --workers or --expect-workers (web UI with workers "
                           "that come and go, as in docker-compose.loadtest.yml)")
    dist.add_argument("--expect-workers", type=int, default=None, metavar="N",
                      help="wait for N workers in all (local --workers plus remote ones) before starting the shape; "
                           "default: the --workers count")
    dist.add_argument("--expect-workers-timeout", type=float, default=60.0, metavar="S",
                      help="give up (exit 2, one line) when the workers have not all connected within S seconds; "
                           "default 60")
    dist.add_argument("--master-bind-host", default="127.0.0.1",
                      help="interface the master listens on for workers; default 127.0.0.1 (local workers only). "
                           "0.0.0.0 for workers on other hosts: open --master-port to them, and only to them")
    dist.add_argument("--master-port", type=int, default=None, metavar="P",
                      help="TCP port for workers; default 5557 when remote workers are expected, "
                           "otherwise a free port")
    dist.add_argument("--on-worker-loss", choices=("continue", "stop"), default="continue",
                      help="a worker that stops answering mid-run: carry on with the others (default) or stop "
                           "the run (report written, then exit 2); either way run.json and the report name it")
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
        seed_users=args.seed_users, think_time_scale=args.think_time_scale, web_host=args.web_host,
        master=args.master, expect_workers=args.expect_workers, expect_workers_timeout=args.expect_workers_timeout,
        master_bind_host=args.master_bind_host, master_port=args.master_port, on_worker_loss=args.on_worker_loss,
    )
    try:
        return run(options)
    except RunError as exc:
        raise UsageError(str(exc)) from None
