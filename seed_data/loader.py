"""Load a seed the pgbench way, its index builds in parallel, made visible in one transaction.

Steps: tables → generate + COPY, table by table → the unique and plain
indexes of each table as soon as it is loaded, then its ANALYZE →
constraints (primary keys adopt their indexes; foreign keys validated in
parallel) → identity sequences → publish.

Where the data goes until it is complete: a staging schema (STAGING). Each
table is loaded in a transaction of its own that truncates it first, so COPY
can use FREEZE (no hint-bit rewrite or vacuum afterwards) and, with
wal_level=minimal, skip the WAL. Keys and indexes are built by a pool of
`jobs` connections (seed_data.builder) while Python generates the next table.
The last step moves the finished tables into the target schema (dropping the
old ones with --reset) in one short transaction, so a failure or Ctrl-C at any
point before it leaves the target exactly as it was; the staging schema is
dropped on the way out, and by the next seed if the process was killed.

`pg_restore` makes you choose between -j and --single-transaction; here the
work is parallel and what readers see still changes in one transaction, which
is what issue 4's "one transaction per run" was for.

COPY goes through a queued writer thread: while the server parses one chunk,
Python formats the next one (the socket wait releases the GIL).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg.pq import TransactionStatus

from foundation.errors import first_line
from seed_data import schema
from seed_data.builder import Builder
from seed_data.generators import generate, row_counts
from target_api.security import hash_password

CHUNK_ROWS = 50_000
CONNECT_TIMEOUT_S = 5
# Where tables are loaded and indexed before they are published.
STAGING = "careerload_seed_staging"
# Build connections by default: one per core (index builds are CPU-bound), at
# most 8: jobs, the largest table, has 10 indexes, the longest of which sets the pace.
DEFAULT_JOBS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)
# A constant key so two seeds of the same database queue (without a time limit) instead of racing.
ADVISORY_LOCK_KEY = 0x5EED_CA5E
# Index builds are the longest server-side step: give them memory. The build
# connections are the parallelism; parallel workers inside each build on top of
# them oversubscribe the cores (scale 10 on 2 cores, --jobs 2: 16.4 s without
# them, 19.4 s with the server's default of 2).
SESSION_SETTINGS = {"maintenance_work_mem": "1GB", "synchronous_commit": "off", "max_parallel_maintenance_workers": "0"}
# On the main connection only, so a --reset behind a busy backend fails instead of
# hanging; build connections wait for each other without a limit.
LOCK_TIMEOUT = "10s"
# How long a failed seed waits for its own stuck connection to be terminated (PostgreSQL ≥ 14).
TERMINATE_TIMEOUT_MS = 5_000

# Called with (step name, rows loaded so far, total rows) after each chunk and step.
Progress = Callable[[str, int, int], None]


class SeedError(Exception):
    """A problem the user can fix (bad scale, unreachable or already seeded database)."""


@dataclass
class Summary:
    """What a run loaded and where the time went."""

    scale: float
    seed: int
    jobs: int = 1
    rows: dict[str, int] = field(default_factory=dict)
    # Per step: Python's time (generate) and the server's, summed over the build
    # connections (keys, indexes, …): these overlap, so they add up to more than the total.
    seconds: dict[str, float] = field(default_factory=dict)
    statement_seconds: dict[str, float] = field(default_factory=dict)  # per index, key and ANALYZE
    total_seconds: float = 0.0
    total_bytes: int = 0  # heap + TOAST + indexes of all tables

    def line(self) -> str:
        """The one-line report printed at the end of a seed."""
        rows = sum(self.rows.values())
        tables = " · ".join(f"{name} {self.rows[name]:,}" for name in schema.TABLES if name in self.rows)
        steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        mb = self.total_bytes / 1e6
        return (
            f"seeded scale {self.scale:g} (seed {self.seed}): {tables} = {rows:,} rows, {mb:,.1f} MB in "
            f"{self.total_seconds:.1f} s ({rows / self.total_seconds:,.0f} rows/s, {mb / self.total_seconds:,.1f} MB/s; "
            f"{steps}; overlapping, builds on {self.jobs} connection{'s' if self.jobs > 1 else ''})"
        )


def check_scale(scale: float) -> None:
    if not (scale > 0 and math.isfinite(scale)):
        raise SeedError(f"--scale must be a finite number greater than 0 (got {scale:g})")


def check_jobs(jobs: int) -> None:
    if jobs < 1:
        raise SeedError(f"--jobs must be at least 1 (got {jobs})")


def connect(database_url: str) -> psycopg.Connection:
    """Open an autocommit connection with the seed's settings, turning any failure into one sentence."""
    try:
        conn = psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.Error as exc:
        reason = first_line(exc).removeprefix("connection failed: ")
        raise SeedError(f"cannot connect to the database: {reason}") from None
    for name, value in SESSION_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    return conn


def _staging_connection(database_url: str) -> psycopg.Connection:
    conn = connect(database_url)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(STAGING)))
    return conn


def _present(conn: psycopg.Connection) -> list[str]:
    """The careerload tables the connection's search_path finds."""
    return [name for name in schema.TABLES if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]]


def _is_seeded(conn: psycopg.Connection) -> bool:
    """True when any careerload table holds rows (an empty schema from `careerload up` is not)."""
    return any(
        conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name))).fetchone()[0]
        for name in _present(conn)
    )


def _check_target(conn: psycopg.Connection, reset: bool) -> None:
    if not reset and schema.exists(conn) and _is_seeded(conn):
        raise SeedError("the database is already seeded; pass --reset to drop it and seed again")


@contextlib.contextmanager
def _target_locks() -> Iterator[None]:
    """Turn waiting too long for the target's tables (or a deadlock over them) into a SeedError."""
    try:
        yield
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
        raise SeedError(f"the tables stayed locked by another session for {LOCK_TIMEOUT} "
                        "(a busy backend?); nothing was changed, retry when it is idle") from None


def build_statements(composite_indexes: bool) -> dict[str, list[schema.Statement]]:
    """Each table's keys and indexes, GIN first: a full-text build is the longest, so it starts first."""
    steps = schema.BUILD_STEPS if composite_indexes else tuple(s for s in schema.BUILD_STEPS if s != "composite_indexes")
    every = [statement for step in steps for statement in schema.statements(step)]
    return {
        table: sorted((s for s in every if s.table == table), key=lambda s: "USING gin" not in s.text)
        for table in schema.TABLES
    }


def seed(
    database_url: str,
    scale: float,
    seed: int,
    password: str,
    *,
    reset: bool = False,
    composite_indexes: bool = True,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
) -> Summary:
    """Seed the database at `database_url`; returns the summary once published."""
    check_scale(scale)
    check_jobs(jobs)
    report = progress or (lambda step, done, total: None)
    total = sum(row_counts(scale).values())
    summary = Summary(scale=scale, seed=seed, jobs=jobs)
    statements = build_statements(composite_indexes)
    started = time.perf_counter()
    with connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))  # until the connection closes
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (LOCK_TIMEOUT,))
        target = conn.execute("SELECT current_schema()").fetchone()[0]
        if target is None:
            raise SeedError("the connection's search_path names no existing schema to seed into")
        with _target_locks():
            _check_target(conn, reset)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}").format(sql.Identifier(STAGING)))
        try:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(STAGING)))
            schema.apply(conn, ("tables",))
            with Builder(lambda: _staging_connection(database_url), jobs) as builder:
                loaded = lambda table: builder.table_loaded(table, statements[table])  # noqa: E731
                _load(conn, scale, seed, password_hash(password, seed), summary, report, total, loaded, builder.check)
                builder.wait(lambda pending: report(f"indexes, {pending} left", total, total))
                report("constraints", total, total)
                conn.execute(schema.sql("constraints"))
                for table, validation in schema.validations(conn):
                    builder.run("constraints", f"foreign keys of {table}", validation)
                builder.wait(lambda pending: report(f"foreign keys, {pending} left", total, total))
            summary.seconds.update(builder.seconds)
            summary.statement_seconds = builder.statement_seconds
            report("publishing", total, total)
            summary.total_bytes = _publish(conn, target, reset)
        except BaseException:
            _drop_staging(conn, database_url)
            raise
    summary.total_seconds = time.perf_counter() - started
    return summary


def password_hash(password: str, seed: int) -> str:
    """The one hash every seeded user shares, computed once (PBKDF2 per user would dominate small seeds).

    The salt derives from the seed so the same seed gives byte-identical users;
    the password is synthetic and documented, so a shared salt costs nothing.
    """
    return hash_password(password, salt=hashlib.sha256(f"careerload-seed-{seed}".encode()).digest()[:16])


def _load(
    conn: psycopg.Connection, scale: float, seed: int, password_hash: str,
    summary: Summary, report: Progress, total: int, loaded: Callable[[str], None], check: Callable[[], None],
) -> None:
    """Stream every generated table into COPY, one transaction each, timing Python's share and the server's wait apart.

    `loaded` hands a committed table to the builder; `check` raises a build's
    failure, so a failed index stops the load at the next chunk.
    """
    done = 0
    generating = waiting = 0.0
    tables = generate(scale, seed, password_hash)
    while True:
        began = time.perf_counter()
        table = next(tables, None)
        generating += time.perf_counter() - began
        if table is None:
            break
        name = sql.Identifier(table.name)
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
            name, sql.SQL(", ").join(map(sql.Identifier, table.columns))
        )
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("TRUNCATE {}").format(name))  # in this transaction, so COPY may FREEZE
            with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                chunks = table.chunks(CHUNK_ROWS)
                while True:
                    began = time.perf_counter()
                    item = next(chunks, None)
                    generating += time.perf_counter() - began
                    if item is None:
                        break
                    rows, data = item
                    check()
                    began = time.perf_counter()
                    copy.write(data)
                    waiting += time.perf_counter() - began
                    done += rows
                    report(table.name, done, total)
                began = time.perf_counter()
            waiting += time.perf_counter() - began  # the writer drains its queue on exit
        summary.rows[table.name] = table.rows
        loaded(table.name)
    summary.seconds["generate"] = generating
    summary.seconds["copy"] = waiting


def _publish(conn: psycopg.Connection, target: str, reset: bool) -> int:
    """Move identity sequences past the loaded ids, then the tables into `target`, atomically; returns their bytes.

    The target's tables are locked before they are checked, so the check and
    the drop see the same state and no application transaction can slip in
    between (nor deadlock against a lock upgrade).
    """
    for name in schema.TABLES:
        if name != "scrape_tasks":  # text ids, no sequence
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({name}, 'id'), max(id)) FROM {table}").format(
                    name=sql.Literal(name), table=sql.Identifier(name)
                )
            )
    with _target_locks(), conn.transaction():
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(target)))
        if existing := _present(conn):
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(map(sql.Identifier, existing))))
        _check_target(conn, reset)
        schema.drop(conn)
        for name in schema.TABLES:
            conn.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                sql.Identifier(STAGING), sql.Identifier(name), sql.Identifier(target)))
        conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(STAGING)))
        return conn.execute(
            "SELECT sum(pg_total_relation_size(to_regclass(name)))::bigint FROM unnest(%s::text[]) AS name",
            (list(schema.TABLES),),
        ).fetchone()[0]


def _drop_staging(conn: psycopg.Connection, database_url: str) -> None:
    """Best effort, on the way out of a failed seed: the target was never touched, only staging is left.

    A Ctrl-C can stop the main connection mid-protocol, inside a COPY whose
    transaction still locks the staging table it was loading: a DROP from
    another connection would wait for that lock forever. So a connection that
    cannot roll back is terminated from a new one (the same role may do so),
    which also frees the advisory lock; if another seed queued on that lock
    gets it first, staging is its business and left alone.
    """
    drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(STAGING))
    if not conn.closed and conn.info.transaction_status != TransactionStatus.ACTIVE:  # not mid-command
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
            conn.execute(drop)
            return
    with contextlib.suppress(psycopg.Error, SeedError), connect(database_url) as other:
        other.execute("SELECT set_config('lock_timeout', %s, false)", (LOCK_TIMEOUT,))
        if not conn.closed:  # else the server ends it by itself
            other.execute("SELECT pg_terminate_backend(%s, %s)", (conn.info.backend_pid, TERMINATE_TIMEOUT_MS))
        if other.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]:
            other.execute(drop)  # the next seed drops it otherwise
