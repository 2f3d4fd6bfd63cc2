"""The report's options and verdict line, shared by `careerload report` and `python -m analysis`.

Writes summary.json, report.md, report.html, junit.xml and charts/ into the run
directory (or --out), prints every missed threshold (and every one without data,
which counts as WARN) on its own line, then exits once: 0 PASS or WARN, 1 FAIL
(--strict: WARN too; 99 with --k6-exit-codes, as k6), 2 when the input is unusable or a report cannot be written
(exit 1 would tell CI the load test failed).
A run that did not complete (its master or `careerload run` died) is analysed
from what it measured, its per-process raw logs merged here; every report is
marked incomplete and the note is printed first; the exit code is as usual.
The work is in `analysis.report`; this module only translates options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from foundation.errors import K6_THRESHOLDS_FAILED, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", metavar="RUN_DIR", help="a run directory written by `careerload run`")
    parser.add_argument("--locust-csv", metavar="PREFIX",
                        help="analyse plain Locust CSVs instead: the files of `locust --csv PREFIX --csv-full-history`")
    parser.add_argument("--k6-json", metavar="FILE",
                        help="analyse a k6 run instead: the file of `k6 run --out json=FILE`, made a run directory "
                             "(--out, default FILE without its suffix) judged by the script's thresholds")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--thresholds", metavar="FILE",
                        help="judge against the [[thresholds]] tables of this TOML file instead of run.json's")
    source.add_argument("--scenario", metavar="NAME",
                        help="judge against this scenario's thresholds (a built-in name or a scenario file)")
    parser.add_argument("--strict", action="store_true", help="a WARN verdict fails too (exit 1)")
    parser.add_argument("--k6-exit-codes", action="store_true", help="exit 99 on FAIL instead of 1, as k6 does")
    parser.add_argument("--out", metavar="DIR",
                        help="write the reports here (default: the run directory, or the directory of PREFIX)")
    add_engine_argument(parser)


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    """--engine, for `report` and `compare` (the choices are analysis.load.ENGINES, not imported here: see run)."""
    parser.add_argument("--engine", choices=("duckdb", "memory"), default="duckdb",
                        help="read the raw log out of core with DuckDB (default: memory stays flat however many rows) "
                             "or all into memory (the reference engine; same figures to the last digit)")


def run(args: argparse.Namespace) -> int:
    # pandas and matplotlib load here, not when `careerload --help` builds its parsers.
    from analysis.load import RunDirError
    from analysis.report import report
    from analysis.verdict import missed_lines
    from scenarios.thresholds import FAIL, ScenarioError

    if sum(map(bool, (args.run_dir, args.locust_csv, args.k6_json))) != 1:
        raise UsageError("give either RUN_DIR or --locust-csv PREFIX or --k6-json FILE (exactly one)")
    try:
        if args.k6_json:
            from analysis.k6_json import convert

            args.run_dir = convert(args.k6_json, args.out or Path(args.k6_json).with_suffix(""))
        result = report(args.run_dir, locust_csv=args.locust_csv, thresholds_file=args.thresholds,
                        scenario=args.scenario, strict=args.strict, out_dir=args.out,
                        engine=args.engine)
    except (RunDirError, ScenarioError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # a report file or charts/ cannot be written (--out on a read-only or missing mount)
        raise UsageError(f"cannot write {exc.filename or args.out or args.run_dir}: {exc.strerror or exc}") from exc
    except ImportError as exc:
        if not args.scenario:
            raise
        raise UsageError(f"--scenario needs the scenario loader, which cannot be imported ({exc}); "
                         "use --thresholds FILE") from exc
    summary = result.summary
    if summary.incomplete:
        print(f"note: {summary.incomplete['note']}")
    for line in missed_lines(summary.thresholds):
        print(line)
    agg = summary.aggregate
    html = next(path for path in result.files if path.name.endswith(".html"))
    print(f"verdict: {summary.verdict} ({agg['requests']:,} requests, percentiles from the "
          f"{summary.percentile_source}) report: {html}")
    sys.stdout.flush()
    return K6_THRESHOLDS_FAILED if args.k6_exit_codes and summary.verdict == FAIL else result.exit_code
