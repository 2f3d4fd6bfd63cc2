"""Benchmark: `careerload seed` against `pgbench -i` on the same server, in the same script.

Question it answers: is seeding limited by PostgreSQL rather than by Python?
Budget (issue 4): at scale 10, under 60 s end to end, and bytes loaded per
second (heap + TOAST + indexes of all tables, from pg_total_relation_size,
divided by the wall time) at least 0.7× those of `pgbench -i -s 10`.

How: one embedded PostgreSQL (no Redis, no backend). Each run creates two fresh
databases, times `pgbench -i -s SCALE` in one (client-side generation, its
vacuum and primary keys) and the seed in the other (its own one-transaction
path: tables, generate + COPY, keys, indexes, composite indexes, ANALYZE).
The machine is shared, so the figures are medians over --runs runs.

    .venv/bin/python benchmarks/seed.py [--scale 10] [--runs 3] [--seed 1]
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
from seed_data.loader import seed  # noqa: E402

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="an integer, as pgbench -s wants")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    results: list[dict[str, float]] = []
    with Stack(redis_server=False, target=False, apply_schema=False, from_env=False) as stack:
        with psycopg.connect(stack.admin_url(), autocommit=True) as admin:
            for run in range(args.runs):
                for name in (f"pgb{run}", f"seed{run}"):
                    admin.execute(f"CREATE DATABASE {name}")
                pg_seconds, pg_bytes, pg_rows = pgbench_init(stack, f"pgb{run}", args.scale)
                summary = seed(stack.admin_url(f"seed{run}"), args.scale, args.seed, "careerload")
                rows = sum(summary.rows.values())
                result = {
                    "pgbench_s": pg_seconds, "pgbench_mb_s": pg_bytes / 1e6 / pg_seconds,
                    "pgbench_rows_s": pg_rows / pg_seconds, "pgbench_mb": pg_bytes / 1e6,
                    "seed_s": summary.total_seconds, "seed_mb_s": summary.total_bytes / 1e6 / summary.total_seconds,
                    "seed_rows_s": rows / summary.total_seconds, "seed_mb": summary.total_bytes / 1e6,
                    **{f"step_{step}": secs for step, secs in summary.seconds.items()},
                }
                result["ratio"] = result["seed_mb_s"] / result["pgbench_mb_s"]
                results.append(result)
                print(f"run {run + 1}: pgbench -i {pg_seconds:.1f} s ({result['pgbench_mb_s']:.0f} MB/s) · "
                      f"{summary.line()} · ratio {result['ratio']:.2f}", flush=True)
                for name in (f"pgb{run}", f"seed{run}"):
                    admin.execute(f"DROP DATABASE {name}")

    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    steps = ", ".join(f"{key[5:]} {value:.1f} s" for key, value in median.items() if key.startswith("step_"))
    print(f"\nmedians over {args.runs} runs at scale {args.scale:g}:")
    print(f"  pgbench -i : {median['pgbench_s']:6.1f} s  {median['pgbench_rows_s']:>11,.0f} rows/s  "
          f"{median['pgbench_mb_s']:6.1f} MB/s  ({median['pgbench_mb']:.0f} MB)")
    print(f"  seed       : {median['seed_s']:6.1f} s  {median['seed_rows_s']:>11,.0f} rows/s  "
          f"{median['seed_mb_s']:6.1f} MB/s  ({median['seed_mb']:.0f} MB)")
    print(f"  seed time split: {steps}  (generate = Python sampling and formatting; copy = waiting for the server's COPY)")
    print(f"  ratio (seed MB/s ÷ pgbench MB/s): {median['ratio']:.2f}  (budget ≥ {BUDGET_RATIO})")
    ok = median["seed_s"] < BUDGET_S and median["ratio"] >= BUDGET_RATIO
    print(f"  verdict: {'PASS' if ok else 'FAIL'} (seed {median['seed_s']:.1f} s vs {BUDGET_S:.0f} s budget)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
