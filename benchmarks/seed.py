"""Benchmark: `careerload seed` against its own floor and `pgbench -i`, on the same server, in the same script.

Question it answers: how much does generating the data in Python cost the
seed, beyond what PostgreSQL must do anyway for this schema? Budget (issue 12):
at scale 10, seed wall ≤ 1.3× the floor's (median of the per-run ratios) and
under 30 s.

The floor is the seed without Python: the same rows, written to COPY files
before the runs (untimed), loaded by the server itself (`COPY … FROM 'file'
WITH (FREEZE)`, no client in the way), with the same staging, index, ANALYZE,
constraint and publish statements on the same number of build connections:
it goes through the loader's own `build_and_publish`, only the load step
differs. `pgbench -i -s SCALE` (4 tables, 4 primary keys) is printed beside
them as the familiar reference, not as a target: this schema has 24 indexes.

How: one embedded PostgreSQL (no Redis, no backend), autovacuum off. Each run
creates fresh databases and times pgbench, the floor and the seed; floor and
seed alternate which goes first, and each starts after a CHECKPOINT and a sync
(without the sync, the kernel's write-back of the previous load's pages was
charged to the next load: runs with the seed first gave 1.61 and 1.64, runs
with the floor first 1.19-1.32, for the same code). Besides
wall time it measures CPU time: the server's (the postmaster, its reaped
connections and its live ones) and the client's (this process, all threads,
for the seed and the floor; the pgbench child for pgbench). The first run also
checks that the floor and the seed loaded the same bytes. The machine may be
shared, so the figures are medians over --runs runs.

    .venv/bin/python benchmarks/seed.py [--scale 10] [--runs 3] [--seed 1] [--jobs N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from careerload.stack import Stack  # noqa: E402
from seed_data import schema  # noqa: E402
from seed_data.generators import generate  # noqa: E402
from seed_data.loader import CHUNK_ROWS, DEFAULT_JOBS, Summary, build_and_publish, password_hash, seed  # noqa: E402

BUDGET_S = 30.0
BUDGET_RATIO = 1.3
PASSWORD = "careerload"
CORES = len(os.sched_getaffinity(0))
T = TypeVar("T")


@dataclass(frozen=True)
class CopyFile:
    """One table's rows as COPY text on disk, as the seed would have sent them."""

    table: str
    columns: tuple[str, ...]
    rows: int
    path: Path


def write_files(directory: Path, scale: float, seed_value: int) -> list[CopyFile]:
    """The seed's rows, in its table order, one file per table the server can read."""
    directory.chmod(0o755)  # the server runs as another user when we are root
    files = []
    for table in generate(scale, seed_value, password_hash(PASSWORD, seed_value)):
        path = directory / f"{table.name}.copy"
        with path.open("wb") as out:
            for _, data in table.chunks(CHUNK_ROWS):
                out.write(data)
        path.chmod(0o644)
        files.append(CopyFile(table.name, table.columns, table.rows, path))
    return files


def floor(database_url: str, files: list[CopyFile], scale: float, seed_value: int, jobs: int) -> Summary:
    """The seed's steps with the generate + COPY step replaced by server-side COPY of the files."""
    summary = Summary(scale=scale, seed=seed_value, jobs=jobs)

    def load(conn: psycopg.Connection, loaded: Callable[[str], None], check: Callable[[], None]) -> None:
        began = time.perf_counter()
        for file in files:
            name = sql.Identifier(file.table)
            with conn.transaction():
                conn.execute(sql.SQL("TRUNCATE {}").format(name))  # in this transaction, so COPY may FREEZE
                conn.execute(sql.SQL("COPY {} ({}) FROM {} WITH (FREEZE)").format(
                    name, sql.SQL(", ").join(map(sql.Identifier, file.columns)), sql.Literal(str(file.path))))
            check()
            summary.rows[file.table] = file.rows
            loaded(file.table)
        summary.seconds["copy"] = time.perf_counter() - began

    total = sum(file.rows for file in files)
    build_and_publish(database_url, load, summary, reset=False, composite_indexes=True,
                      report=lambda step, done, all_rows: None, total=total)
    return summary


def table_checksums(database_url: str) -> dict[str, str]:
    """md5 over each table's rows (every column) in primary-key order."""
    with psycopg.connect(database_url) as conn:
        return {name: conn.execute(sql.SQL(
            "SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id {})) FROM {} t").format(
                sql.SQL('COLLATE "C"' if name == "scrape_tasks" else ""), sql.Identifier(name))).fetchone()[0]
            for name in schema.TABLES}


def server_cpu(postmaster: psutil.Process) -> float:
    """CPU seconds used so far by PostgreSQL: the postmaster, its reaped children and its live ones."""
    times = postmaster.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in postmaster.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            live = child.cpu_times()
            total += live.user + live.system
    return total


def client_cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def wait_reaped(postmaster: psutil.Process, before: set[int], timeout: float = 30.0) -> None:
    """Wait until the connections opened since `before` have ended and been reaped by the postmaster.

    Only then is their CPU time in the postmaster's children_user/system: read
    earlier, it would be missed here and counted in the next measurement.
    """
    deadline = time.monotonic() + timeout
    while {child.pid for child in postmaster.children()} - before:
        if time.monotonic() > deadline:
            raise SystemExit("the loader's connections did not end within 30 s")
        time.sleep(0.05)


def measured(postmaster: psutil.Process, client: int, action: Callable[[], T]) -> tuple[T, float, float, float]:
    """(result, wall seconds, server CPU seconds, client CPU seconds) of `action`."""
    before = {child.pid for child in postmaster.children()}
    server, own, began = server_cpu(postmaster), client_cpu(client), time.perf_counter()
    result = action()
    wall, own = time.perf_counter() - began, client_cpu(client) - own
    wait_reaped(postmaster, before)
    return result, wall, server_cpu(postmaster) - server, own


def pgbench_init(stack: Stack, dbname: str, scale: float) -> tuple[int, int]:
    """(bytes, rows) after `pgbench -i -s scale` into a fresh database."""
    binary = stack.pg_bindir / "pgbench" if stack.pg_bindir else None
    executable = str(binary) if binary and binary.exists() else shutil.which("pgbench")
    if executable is None:
        raise SystemExit("pgbench not found next to the server binaries nor on PATH")
    subprocess.run([executable, "-i", "-q", "-s", f"{scale:g}", stack.admin_url(dbname)], check=True, capture_output=True)
    with psycopg.connect(stack.admin_url(dbname)) as conn:
        size, rows = conn.execute(
            """SELECT sum(pg_total_relation_size(c.oid))::bigint, sum(c.reltuples)::bigint FROM pg_class c
               WHERE c.relkind = 'r' AND c.relname LIKE 'pgbench%'"""
        ).fetchone()
    return size, rows


def figures(prefix: str, wall: float, server: float, client: float, mb: float) -> dict[str, float]:
    return {
        f"{prefix}_s": wall, f"{prefix}_mb": mb, f"{prefix}_mb_s": mb / wall,
        f"{prefix}_cpu_server": server, f"{prefix}_cpu_client": client, f"{prefix}_cpu": server + client,
    }


def load_figures(prefix: str, summary: Summary, wall: float, server: float, client: float) -> dict[str, float]:
    return {
        **figures(prefix, wall, server, client, summary.total_bytes / 1e6),
        f"{prefix}_longest_s": max(summary.statement_seconds.values()),
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
    with tempfile.TemporaryDirectory(prefix="careerload-floor-") as directory, \
            Stack(redis_server=False, target=False, apply_schema=False, from_env=False) as stack:
        began = time.perf_counter()
        files = write_files(Path(directory), args.scale, args.seed)
        print(f"floor files: {sum(f.path.stat().st_size for f in files) / 1e6:.0f} MB of COPY text "
              f"written in {time.perf_counter() - began:.1f} s (not timed below)", flush=True)
        postmaster = psutil.Process(stack.children["postgres"].pid)
        with psycopg.connect(stack.admin_url(), autocommit=True) as admin:
            # No background work charged to whichever loader is being measured.
            admin.execute("ALTER SYSTEM SET autovacuum = off")
            admin.execute("SELECT pg_reload_conf()")

            def timed(action: Callable[[], T], client: int) -> tuple[T, float, float, float]:
                # The previous load's dirty buffers and pages are written out before this one is timed.
                admin.execute("CHECKPOINT")
                os.sync()
                return measured(postmaster, client, action)

            for run in range(args.runs):
                names = (f"pgb{run}", f"floor{run}", f"seed{run}")
                for name in names:
                    admin.execute(f"CREATE DATABASE {name}")
                (pg_bytes, _), *pg_cost = timed(lambda: pgbench_init(stack, names[0], args.scale), resource.RUSAGE_CHILDREN)
                loads = {
                    "floor": lambda: floor(stack.admin_url(names[1]), files, args.scale, args.seed, args.jobs),
                    "seed": lambda: seed(stack.admin_url(names[2]), args.scale, args.seed, PASSWORD, jobs=args.jobs),
                }
                order = ("floor", "seed") if run % 2 == 0 else ("seed", "floor")
                done = {which: timed(loads[which], resource.RUSAGE_SELF) for which in order}
                (floor_summary, *floor_cost), (seed_summary, *seed_cost) = done["floor"], done["seed"]
                if run == 0 and table_checksums(stack.admin_url(names[1])) != table_checksums(stack.admin_url(names[2])):
                    raise SystemExit("the floor did not load the same rows as the seed")
                longest_name = max(seed_summary.statement_seconds, key=seed_summary.statement_seconds.__getitem__)
                result = {
                    **figures("pgbench", *pg_cost, pg_bytes / 1e6),
                    **load_figures("floor", floor_summary, *floor_cost), **load_figures("seed", seed_summary, *seed_cost),
                }
                result["ratio"] = result["seed_s"] / result["floor_s"]
                results.append(result)
                print(f"run {run + 1} ({' then '.join(order)}): pgbench -i {result['pgbench_s']:.1f} s "
                      f"({result['pgbench_cpu']:.1f} CPU-s) · floor {result['floor_s']:.1f} s "
                      f"({result['floor_cpu']:.1f} CPU-s) · seed {result['seed_s']:.1f} s "
                      f"({result['seed_cpu']:.1f} CPU-s) · seed/floor {result['ratio']:.2f}", flush=True)
                print(f"  {seed_summary.line()}", flush=True)
                for name in names:
                    admin.execute(f"DROP DATABASE {name}")

    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print(f"\nmedians over {args.runs} runs at scale {args.scale:g} ({CORES} cores, --jobs {args.jobs}):")
    print("                wall   CPU-s (server + client)      MB    MB/s")
    for prefix, label in (("pgbench", "pgbench -i"), ("floor", "floor"), ("seed", "seed")):
        m = {key[len(prefix) + 1:]: value for key, value in median.items() if key.startswith(prefix + "_")}
        print(f"  {label:<12}{m['s']:6.1f} s {m['cpu']:7.1f} ({m['cpu_server']:5.1f} + {m['cpu_client']:4.1f}) "
              f"{m['mb']:11.0f} {m['mb_s']:7.1f}")
    print("  time split (generate: the seed's generating thread, overlapping the rest; "
          "the rest: the server, summed over connections):")
    for prefix in ("floor", "seed"):
        steps = ", ".join(f"{key[len(prefix) + 6:]} {value:.1f} s" for key, value in median.items()
                          if key.startswith(f"{prefix}_step_"))
        print(f"    {prefix}: {steps}")
    print(f"  longest statement: {longest_name} {median['seed_longest_s']:.1f} s in the seed, "
          f"{median['floor_longest_s']:.1f} s in the floor")
    print(f"  extra CPU of the seed over the floor: {median['seed_cpu'] - median['floor_cpu']:.1f} CPU-s "
          f"(client {median['seed_cpu_client'] - median['floor_cpu_client']:+.1f}, "
          f"server {median['seed_cpu_server'] - median['floor_cpu_server']:+.1f})")
    ratios = ", ".join(f"{r['ratio']:.2f}" for r in results)
    print(f"  seed wall / floor wall: {median['ratio']:.2f} (median of the runs' ratios; "
          f"runs: {ratios}; budget ≤ {BUDGET_RATIO})")
    ok = median["seed_s"] < BUDGET_S and median["ratio"] <= BUDGET_RATIO
    print(f"  verdict: {'PASS' if ok else 'FAIL'} (seed {median['seed_s']:.1f} s vs {BUDGET_S:.0f} s budget, "
          f"ratio {median['ratio']:.2f} vs {BUDGET_RATIO})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
