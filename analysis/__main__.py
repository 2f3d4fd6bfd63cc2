"""`python -m analysis RUN_DIR`: the same as `careerload report RUN_DIR`, same options and exit codes."""

import argparse
import sys

from analysis.cli import add_arguments, run
from foundation.errors import UsageError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except UsageError as exc:
        print(f"careerload: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
