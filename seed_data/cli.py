"""The seed's options, shared by `careerload seed` and `python -m seed_data`.

Each option has one definition here: command line, then environment
(DATABASE_URL, CAREERLOAD_SEED_PASSWORD), then default.
"""

from __future__ import annotations

import argparse
import os
import sys

from seed_data.loader import DEFAULT_JOBS, SeedError, Summary, seed
from foundation.logins import DEFAULT_PASSWORD, seed_password
from seed_data.progress import ProgressBar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL to seed (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0,
        help="size like pgbench -s: 1 = 1,000 users, 50,000 jobs, 20,000 applications, "
             "100,000 activity logs, 3,000 content generations, 200 scrape tasks (default: 1; may be fractional)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data (default: 1)")
    parser.add_argument("--reset", action="store_true", help="drop an already-seeded schema and seed again")
    parser.add_argument(
        "--without-composite-indexes", action="store_true",
        help="leave out the audit's composite indexes, to measure what they buy",
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=DEFAULT_JOBS,
        help="connections building keys and indexes side by side, like pg_restore -j "
             f"(default: one per CPU core, at most 8; here {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--password", default=seed_password(),
        help="login password of every seeded user user{N}@careerload.test "
             f"(default: $CAREERLOAD_SEED_PASSWORD or {DEFAULT_PASSWORD!r}); stored hashed only",
    )


def run(args: argparse.Namespace) -> Summary:
    """Seed as the options say and print the summary line; raises SeedError for user errors."""
    if not args.database_url:
        raise SeedError("no database given: pass --database-url or set DATABASE_URL")
    bar = ProgressBar()
    try:
        summary = seed(
            args.database_url, args.scale, args.seed, args.password,
            reset=args.reset, composite_indexes=not args.without_composite_indexes, jobs=args.jobs,
            progress=bar,
        )
    finally:
        bar.close()
    print(summary.line(), file=sys.stderr)
    return summary
