"""`careerload target`: serve the reference backend (target_api) alone with uvicorn.

Configuration comes from the environment (DATABASE_URL, REDIS_URL, CACHE_ENABLED,
... see target_api/settings.py); this command only checks what a user can get
wrong before uvicorn would turn it into a traceback: bad settings, a port in
use, a database that does not answer or has no schema.
"""

from __future__ import annotations

import argparse
import os
import sys

import pydantic

from foundation.errors import UsageError
from careerload.stack import check_database, ensure_port_free


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "target",
        help="serve the reference backend (FastAPI + PostgreSQL + Redis) with uvicorn",
        description="Serve target_api.main:app. Configure it with environment variables: DATABASE_URL, "
        "REDIS_URL, CACHE_ENABLED, CACHE_DEFAULT_EXPIRE, SCRAPING_MAX_CONCURRENT, SCRAPING_DELAY_MS, "
        "AI_MAX_CONCURRENT, AI_LATENCY_MEDIAN_MS, AI_LATENCY_SIGMA, DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE, "
        "TOKEN_SECRET (the default is public: development and load tests only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: %(default)s)")
    parser.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    parser.set_defaults(func=run)


def _check_database(url: str) -> None:
    # a StackError is a UsageError: one line, exit 2
    has_schema = check_database(url, timeout=5, probe="SELECT to_regclass('jobs') IS NOT NULL", what="at DATABASE_URL")
    if not has_schema:
        raise UsageError("the database at DATABASE_URL has no careerload schema; run `careerload up` or `careerload seed`")


def run(args: argparse.Namespace) -> int:
    from target_api.settings import get_settings

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    try:
        settings = get_settings()
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid backend setting: {problems}") from None
    ensure_port_free(args.port, "--port", args.host)
    _check_database(settings.database_url)

    argv = [sys.executable, "-m", "uvicorn", "target_api.main:app", "--host", args.host, "--port", str(args.port),
            "--workers", str(args.workers), "--log-level", "info"]
    if not args.access_log:
        argv.append("--no-access-log")
    print(f"careerload: serving the reference backend on http://{args.host}:{args.port}/api/v1", file=sys.stderr)
    sys.stderr.flush()
    # exec rather than uvicorn.run(): the process keeps its PID (whoever started it
    # can stop it by PID) and uvicorn's spawned workers re-import uvicorn's own
    # guarded __main__, not whichever script launched careerload.
    os.execv(sys.executable, argv)
    return 0  # not reached
