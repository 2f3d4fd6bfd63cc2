"""`careerload seed`: fill PostgreSQL with production-like data (see seed_data)."""

from __future__ import annotations

import argparse

from foundation.errors import UsageError
from seed_data.cli import add_arguments, run
from seed_data.loader import SeedError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="seed PostgreSQL with production-like data at a pgbench-like scale",
        description="Create the careerload schema and load deterministic, production-like data with COPY, "
                    "build keys and indexes on parallel connections, and publish the result in one "
                    "transaction (a failure or Ctrl-C leaves the database as it was).",
    )
    add_arguments(parser)
    parser.set_defaults(func=_seed)


def _seed(args: argparse.Namespace) -> int:
    try:
        run(args)
    except SeedError as exc:
        raise UsageError(str(exc)) from None
    return 0
