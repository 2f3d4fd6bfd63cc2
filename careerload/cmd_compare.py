"""`careerload compare BASE_DIR CANDIDATE_DIR`: is the candidate slower than the baseline, beyond noise?

Per endpoint, the change in p50/p95/p99 (bootstrap interval from the raw
samples) and throughput; writes comparison.md, comparison.json and
charts/comparison.png into the candidate directory (or --out); exit 1 when any
change is a regression beyond --tolerance, 2 when a directory is unusable or
the comparison cannot be written.
"""

from __future__ import annotations

import argparse

from foundation.errors import UsageError

HELP = "compare a candidate run with a baseline: regression, improvement or noise per endpoint"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), e.g. 0.05 for 5 %, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from analysis.cli import add_engine_argument
    from analysis.compare import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_TOLERANCE

    parser.add_argument("base", metavar="BASE_DIR", help="the baseline run directory")
    parser.add_argument("candidate", metavar="CANDIDATE_DIR", help="the run directory to judge")
    parser.add_argument("--tolerance", type=_fraction, metavar="F", default=DEFAULT_TOLERANCE,
                        help="a regression needs the whole interval of the relative change beyond this "
                             f"(fraction; default {DEFAULT_TOLERANCE} = {DEFAULT_TOLERANCE * 100:g} %%)")
    parser.add_argument("--confidence", type=_fraction, metavar="F", default=DEFAULT_CONFIDENCE,
                        help=f"confidence of the bootstrap interval (default {DEFAULT_CONFIDENCE})")
    parser.add_argument("--resamples", type=int, metavar="N", default=DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples per percentile (default {DEFAULT_RESAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap random seed (default 0): same runs, same answer")
    parser.add_argument("--out", metavar="DIR", help="write the comparison here (default: CANDIDATE_DIR)")
    add_engine_argument(parser)


def run(args: argparse.Namespace) -> int:
    from analysis.compare_report import run_compare
    from analysis.load import RunDirError

    if args.resamples < 100:
        raise UsageError(f"--resamples must be at least 100, got {args.resamples}")
    try:
        result, files = run_compare(args.base, args.candidate, out_dir=args.out, tolerance=args.tolerance,
                                    confidence=args.confidence, resamples=args.resamples, seed=args.seed,
                                    engine=args.engine)
    except RunDirError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # the comparison cannot be written: exit 2, not 1 (which CI reads as a regression)
        raise UsageError(f"cannot write {exc.filename or args.out or args.candidate}: {exc.strerror or exc}") from exc
    for regression in result["regressions"]:
        print(f"REGRESSION {regression}")
    md = next(path for path in files if path.suffix == ".md")
    print(f"compare: {len(result['regressions'])} regression(s) beyond {args.tolerance * 100:g} % "
          f"across {len(result['endpoints'])} rows; see {md}")
    return 1 if result["regressions"] else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help=HELP, description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run)
