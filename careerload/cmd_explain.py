"""`careerload explain`: EXPLAIN (ANALYZE, BUFFERS) of a run's top statements, as Markdown."""

from __future__ import annotations

import argparse
from pathlib import Path

from foundation.errors import UsageError
from foundation.rundir import SERVER_DIR
from careerload.stack import check_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "explain", help="EXPLAIN (ANALYZE, BUFFERS) the top statements of a run, with index hints",
        description="For the statements that took the most database time during a run (from the run's "
                    "pg_stat_statements snapshots), run EXPLAIN (ANALYZE, BUFFERS) with representative "
                    "parameters in a rolled-back transaction, summarise the plan (sequential scans on large "
                    "tables, estimates off by 10x or more) and suggest missing indexes. Writes RUN_DIR/explain.md.")
    parser.add_argument("--database-url", required=True, help="the database the run loaded")
    parser.add_argument("--run", type=Path, help="run directory (default: the newest under --results)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="where runs live (default: results)")
    parser.add_argument("--top", type=int, default=10, help="how many statements (default: 10)")
    parser.set_defaults(func=run)


def latest_run(results: Path) -> Path:
    """The newest run directory that has pg_stat_statements snapshots."""
    runs = sorted((p.parent.parent for p in results.glob(f"*/{SERVER_DIR}/pg_statements.csv")),
                  key=lambda p: p.stat().st_mtime)
    if not runs:
        raise UsageError(f"no run with database snapshots under {results}/; run `careerload run ... --database-url URL` "
                         "first or give --run DIR")
    return runs[-1]


def run(args: argparse.Namespace) -> int:
    from analysis.explain import write_explain

    run_dir = args.run or latest_run(args.results)
    if not (run_dir / SERVER_DIR / "pg_statements.csv").is_file():
        raise UsageError(f"{run_dir} has no {SERVER_DIR}/pg_statements.csv; the run needs --database-url to snapshot statements")
    if args.top <= 0:
        raise UsageError("--top must be a positive number")
    check_database(args.database_url)
    path = write_explain(run_dir, args.database_url, args.top)
    print(path)
    return 0
