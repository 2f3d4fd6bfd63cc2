"""Benchmark: `careerload seed` against `pgbench -i` on the same server, in the same script.

Question it answers: is seeding limited by PostgreSQL rather than by Python?
Budget (issue 4): at scale 10, under 60 s end to end, and bytes loaded per
second (heap + TOAST + indexes of all tables, from pg_total_relation_size,
divided by the wall time) at least 0.7× those of `pgbench -i -s 10`.

How: one embedded PostgreSQL (no Redis, no backend). Each run creates fresh
databases and times, one after the other, `pgbench -i -s SCALE` (client-side
generation, its vacuum and primary keys), the seed with its builds on one
connection (`--jobs 1`), and the seed with --jobs connections (default: one
per core). The machine is shared, so the figures are medians over --runs runs.

It also prints where the time goes, and the ceiling set by the longest single
statement: PostgreSQL 15 builds a GIN index on one core, so the full-text
index of jobs alone bounds the seed's wall time from below, whatever Python
or the other connections do.

    .venv/bin/python benchmarks/seed.py [--scale 10] [--runs 3] [--seed 1] [--jobs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from careerload.stack import Stack  # noqa: E402
from seed_data.loader import DEFAULT_JOBS, Summary, seed  # noqa: E402

BUDGET_S = 60.0
BUDGET_RATIO = 0.7


def pgbench_init(stack: Stack, dbname: str, scale: float) -> tuple[float, int, int]:
    """(seconds, bytes, rows) of `pgbench -i -s scale` into a fresh database."""
    binary = stack.pg_bindir / "pgbench" if stack.pg_bindir else None
    executable = str(binary) if binary and binary.exists() else shutil.which("pgbench")
    if executable is None:
        raise SystemExit("pgbench not found next to the server binaries nor on PATH")
    began = time.perf_counter()
    subprocess.run([executable, "-i", "-q", "-s", f"{scale:g}", stack.admin_url(dbname)], check=True, capture_output=True)
    seconds = time.perf_counter() - began
    with psycopg.connect(stack.admin_url(dbname)) as conn:
        size, rows = conn.execute(
            """SELECT sum(pg_total_relation_size(c.oid))::bigint, sum(c.reltuples)::bigint FROM pg_class c
               WHERE c.relkind = 'r' AND c.relname LIKE 'pgbench%'"""
        ).fetchone()
    return seconds, size, rows


def seed_figures(summary: Summary, prefix: str) -> dict[str, float]:
    rows = sum(summary.rows.values())
    longest = max(summary.statement_seconds.values())
    return {
        f"{prefix}_s": summary.total_seconds, f"{prefix}_mb_s": summary.total_bytes / 1e6 / summary.total_seconds,
        f"{prefix}_rows_s": rows / summary.total_seconds, f"{prefix}_mb": summary.total_bytes / 1e6,
        f"{prefix}_longest_s": longest,
        **{f"{prefix}_step_{step}": secs for step, secs in summary.seconds.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="an integer, as pgbench -s wants")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help=f"build connections (default: {DEFAULT_JOBS})")
    args = parser.parse_args()

    results: list[dict[str, float]] = []
    longest_name = ""
    with Stack(redis_server=False, target=False, apply_schema=False, from_env=False) as stack:
        with psycopg.connect(stack.admin_url(), autocommit=True) as admin:
            for run in range(args.runs):
                names = (f"pgb{run}", f"serial{run}", f"parallel{run}")
                for name in names:
                    admin.execute(f"CREATE DATABASE {name}")
                pg_seconds, pg_bytes, pg_rows = pgbench_init(stack, names[0], args.scale)
                serial = seed(stack.admin_url(names[1]), args.scale, args.seed, "careerload", jobs=1)
                parallel = seed(stack.admin_url(names[2]), args.scale, args.seed, "careerload", jobs=args.jobs)
                longest_name = max(parallel.statement_seconds, key=parallel.statement_seconds.__getitem__)
                result = {
                    "pgbench_s": pg_seconds, "pgbench_mb_s": pg_bytes / 1e6 / pg_seconds,
                    "pgbench_rows_s": pg_rows / pg_seconds, "pgbench_mb": pg_bytes / 1e6,
                    **seed_figures(serial, "serial"), **seed_figures(parallel, "seed"),
                }
                result["ratio"] = result["seed_mb_s"] / result["pgbench_mb_s"]
                result["speedup"] = result["serial_s"] / result["seed_s"]
                results.append(result)
                print(f"run {run + 1}: pgbench -i {pg_seconds:.1f} s ({result['pgbench_mb_s']:.0f} MB/s) · "
                      f"--jobs 1 {serial.total_seconds:.1f} s · --jobs {args.jobs} {parallel.line()} · "
                      f"ratio {result['ratio']:.2f}", flush=True)
                for name in names:
                    admin.execute(f"DROP DATABASE {name}")

    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    steps = ", ".join(f"{key[10:]} {value:.1f} s" for key, value in median.items() if key.startswith("seed_step_"))
    ceiling = median["seed_mb"] / median["seed_longest_s"] / median["pgbench_mb_s"]
    print(f"\nmedians over {args.runs} runs at scale {args.scale:g}:")
    print(f"  pgbench -i   : {median['pgbench_s']:6.1f} s  {median['pgbench_rows_s']:>11,.0f} rows/s  "
          f"{median['pgbench_mb_s']:6.1f} MB/s  ({median['pgbench_mb']:.0f} MB)")
    for prefix, label in (("serial", "seed -j 1   "), ("seed", f"seed -j {args.jobs:<4d}")):
        print(f"  {label} : {median[f'{prefix}_s']:6.1f} s  {median[f'{prefix}_rows_s']:>11,.0f} rows/s  "
              f"{median[f'{prefix}_mb_s']:6.1f} MB/s  ({median[f'{prefix}_mb']:.0f} MB)")
    print(f"  parallel builds: {median['speedup']:.2f}x faster than --jobs 1")
    print(f"  seed -j {args.jobs} time split (Python: generate; server, summed over connections: the rest): {steps}")
    print(f"  longest statement: {longest_name} {median['seed_longest_s']:.1f} s on one core; "
          f"alone it caps the ratio at {ceiling:.2f}")
    print(f"  ratio (seed MB/s ÷ pgbench MB/s): {median['ratio']:.2f}  (budget ≥ {BUDGET_RATIO})")
    ok = median["seed_s"] < BUDGET_S and median["ratio"] >= BUDGET_RATIO
    print(f"  verdict: {'PASS' if ok else 'FAIL'} (seed {median['seed_s']:.1f} s vs {BUDGET_S:.0f} s budget)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
