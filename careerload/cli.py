"""The `careerload` command line: one sub-command per module, registered here.

Each command module exposes `register(subparsers)`, which adds its parser and
sets `func` (a callable taking the parsed namespace and returning an exit code).
The work lives in the packages (`target_api`, `seed_data`, `locustfiles`,
`scenarios`, `analysis`); the command modules only translate options.

Exit codes across all commands: 0 success (PASS or WARN for a verdict),
1 a FAIL verdict or a regression, 2 a usage or environment error, printed as
one line starting with "careerload: error:".
"""

from __future__ import annotations

import argparse
import importlib
import sys

from foundation.errors import UsageError

# Command modules, in the order `careerload --help` lists them.
COMMAND_MODULES = (
    "careerload.cmd_up",
    "careerload.cmd_demo",
    "careerload.cmd_target",
    "careerload.cmd_seed",
    "careerload.cmd_scenarios",
    "careerload.cmd_run",
    "careerload.cmd_capacity",
    "careerload.cmd_profile",
    "careerload.cmd_worker",
    "careerload.cmd_report",
    "careerload.cmd_compare",
    "careerload.cmd_explain",
    "careerload.cmd_import",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careerload",
        description="Locust-based load testing for career-platform backends (FastAPI + PostgreSQL + Redis).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"careerload: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("careerload: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
