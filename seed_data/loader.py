"""Load a seed into PostgreSQL the pgbench way, in one transaction.

Steps: (drop) → tables → generate + COPY → keys → indexes → composite indexes →
identity sequences → ANALYZE. Everything runs inside a single transaction, so a
failure or Ctrl-C at any point leaves the database exactly as it was, and since
the tables are created in that same transaction COPY can use FREEZE (no hint-bit
rewrite or vacuum needed afterwards). VACUUM cannot run in a transaction block
and is not needed after a frozen load, so unlike pgbench there is no vacuum step.

COPY goes through a queued writer thread: while the server parses one chunk,
Python formats the next one (the socket wait releases the GIL).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from seed_data import schema
from seed_data.generators import generate, row_counts
from target_api.security import hash_password

CHUNK_ROWS = 50_000
CONNECT_TIMEOUT_S = 5
# A constant key so two seeds of the same database queue instead of racing.
ADVISORY_LOCK_KEY = 0x5EED_CA5E
# Index builds are the longest server-side step; give them memory and a worker.
SESSION_SETTINGS = {
    "maintenance_work_mem": "1GB",
    "max_parallel_maintenance_workers": "2",
    "synchronous_commit": "off",
    "lock_timeout": "10s",  # a --reset behind a busy backend fails instead of hanging
}

# Called with (step name, rows loaded so far, total rows) after each chunk and step.
Progress = Callable[[str, int, int], None]


class SeedError(Exception):
    """A problem the user can fix (bad scale, unreachable or already seeded database)."""


@dataclass
class Summary:
    """What a run loaded and where the time went."""

    scale: float
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per step
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
            f"{steps})"
        )


def check_scale(scale: float) -> None:
    if not (scale > 0 and math.isfinite(scale)):
        raise SeedError(f"--scale must be a finite number greater than 0 (got {scale:g})")


def connect(database_url: str) -> psycopg.Connection:
    """Open a connection, turning any failure into one readable sentence."""
    try:
        return psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix("connection failed: ")
        raise SeedError(f"cannot connect to the database: {reason}") from None


def _is_seeded(conn: psycopg.Connection) -> bool:
    """True when any careerload table holds rows (an empty schema from `careerload up` is not)."""
    present = [name for name in schema.TABLES if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]]
    return any(
        conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name))).fetchone()[0]
        for name in present
    )


def seed(
    database_url: str,
    scale: float,
    seed: int,
    password: str,
    *,
    reset: bool = False,
    composite_indexes: bool = True,
    progress: Progress | None = None,
) -> Summary:
    """Seed the database at `database_url`; returns the summary once committed."""
    check_scale(scale)
    report = progress or (lambda step, done, total: None)
    total = sum(row_counts(scale).values())
    summary = Summary(scale=scale, seed=seed)
    started = time.perf_counter()
    with connect(database_url) as conn:
        with conn.transaction():
            for name, value in SESSION_SETTINGS.items():
                conn.execute("SELECT set_config(%s, %s, true)", (name, value))
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            if schema.exists(conn):
                if _is_seeded(conn) and not reset:
                    raise SeedError("the database is already seeded; pass --reset to drop it and seed again")
                schema.drop(conn)
            schema.apply(conn, ("tables",))
            _load(conn, scale, seed, password_hash(password, seed), summary, report, total)
            steps = ("keys", "indexes", *(("composite_indexes",) if composite_indexes else ()))
            for step in steps:
                report(step, total, total)
                _timed(summary, step, lambda step=step: schema.apply(conn, (step,)))
            report("analyze", total, total)
            _timed(summary, "analyze", lambda: _finish(conn))
            summary.total_bytes = conn.execute(
                "SELECT sum(pg_total_relation_size(to_regclass(name)))::bigint FROM unnest(%s::text[]) AS name",
                (list(schema.TABLES),),
            ).fetchone()[0]
    summary.total_seconds = time.perf_counter() - started
    return summary


def password_hash(password: str, seed: int) -> str:
    """The one hash every seeded user shares, computed once (PBKDF2 per user would dominate small seeds).

    The salt derives from the seed so the same seed gives byte-identical users;
    the password is synthetic and documented, so a shared salt costs nothing.
    """
    return hash_password(password, salt=hashlib.sha256(f"careerload-seed-{seed}".encode()).digest()[:16])


def _timed(summary: Summary, step: str, action: Callable[[], None]) -> None:
    began = time.perf_counter()
    action()
    summary.seconds[step] = summary.seconds.get(step, 0.0) + time.perf_counter() - began


def _load(
    conn: psycopg.Connection, scale: float, seed: int, password_hash: str,
    summary: Summary, report: Progress, total: int,
) -> None:
    """Stream every generated table into COPY, timing Python's share and the server's wait apart."""
    done = 0
    generating = waiting = 0.0
    tables = generate(scale, seed, password_hash)
    while True:
        began = time.perf_counter()
        table = next(tables, None)
        generating += time.perf_counter() - began
        if table is None:
            break
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
        )
        with conn.cursor() as cur:
            with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                chunks = table.chunks(CHUNK_ROWS)
                while True:
                    began = time.perf_counter()
                    item = next(chunks, None)
                    generating += time.perf_counter() - began
                    if item is None:
                        break
                    rows, data = item
                    began = time.perf_counter()
                    copy.write(data)
                    waiting += time.perf_counter() - began
                    done += rows
                    report(table.name, done, total)
                began = time.perf_counter()
            waiting += time.perf_counter() - began  # the writer drains its queue on exit
        summary.rows[table.name] = table.rows
    summary.seconds["generate"] = generating
    summary.seconds["copy"] = waiting


def _finish(conn: psycopg.Connection) -> None:
    """Move identity sequences past the loaded ids, then ANALYZE every table."""
    for name in schema.TABLES:
        if name != "scrape_tasks":  # text ids, no sequence
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({name}, 'id'), max(id)) FROM {table}").format(
                    name=sql.Literal(name), table=sql.Identifier(name)
                )
            )
    conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, schema.TABLES))))
