"""`python -m seed_data`: the same as `careerload seed`, without the careerload CLI."""

from __future__ import annotations

import argparse
import sys

from seed_data.cli import add_arguments, run
from seed_data.loader import SeedError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed_data", description="Seed PostgreSQL with production-like careerload data.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args)
    except SeedError as exc:
        print(f"seed_data: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seed_data: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
