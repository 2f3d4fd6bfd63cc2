"""The schema as pgbench-style steps: tables, keys, constraints, indexes, composite indexes.

Split so that a seed can load bare tables with COPY and build keys and indexes
afterwards (much faster than maintaining them row by row), and run the builds
of different tables side by side, while `careerload up` applies every step at
once to a fresh database. Every name is unqualified: the steps apply to the
connection's current schema.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql as pgsql

TABLES = ("users", "jobs", "applications", "activity_logs", "content_generations", "scrape_tasks")
STEPS = ("tables", "keys", "constraints", "indexes", "composite_indexes")
# Steps made of CREATE INDEX statements, one table each, that a seed runs in parallel.
BUILD_STEPS = ("keys", "indexes", "composite_indexes")


@dataclass(frozen=True)
class Statement:
    """One CREATE INDEX of a build step."""

    step: str
    table: str
    name: str  # the index it creates
    text: str


@functools.cache
def sql(step: str) -> str:
    """The SQL text of one schema step (read once per process)."""
    if step not in STEPS:
        raise ValueError(f"unknown schema step {step!r}; expected one of {', '.join(STEPS)}")
    return resources.files(__package__).joinpath(f"{step}.sql").read_text()


_CREATE_INDEX = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\w+)\s+ON\s+(\w+)")


@functools.cache
def statements(step: str) -> tuple[Statement, ...]:
    """The statements of a build step, in file order (comment lines dropped)."""
    if step not in BUILD_STEPS:
        raise ValueError(f"{step!r} is not one of the build steps {', '.join(BUILD_STEPS)}")
    result = []
    code = "\n".join(line for line in sql(step).splitlines() if not line.lstrip().startswith("--"))
    for text in filter(None, (part.strip() for part in code.split(";"))):
        match = _CREATE_INDEX.match(text)
        if not match:
            raise ValueError(f"{step}.sql: expected only CREATE INDEX statements, got {text!r}")
        result.append(Statement(step, match[2], match[1], text))
    return tuple(result)


def apply(conn: psycopg.Connection, steps: tuple[str, ...] = STEPS) -> None:
    """Run the given steps, in order, on an open connection (caller commits)."""
    for step in steps:
        conn.execute(sql(step))
        if step == "constraints":
            for _, validation in validations(conn):
                conn.execute(validation)


def validations(conn: psycopg.Connection) -> list[tuple[str, pgsql.Composed]]:
    """(table, `ALTER TABLE … VALIDATE CONSTRAINT …`) per careerload table with NOT VALID constraints.

    One statement validates all of a table's constraints: two statements on the
    same table would wait for each other (SHARE UPDATE EXCLUSIVE conflicts with itself).
    """
    rows = conn.execute(
        """SELECT c.relname, array_agg(k.conname ORDER BY k.conname) FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           WHERE NOT k.convalidated AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)
           GROUP BY c.relname ORDER BY c.relname""",
        (list(TABLES),),
    ).fetchall()
    return [
        (table, pgsql.SQL("ALTER TABLE {} {}").format(pgsql.Identifier(table), pgsql.SQL(", ").join(
            pgsql.SQL("VALIDATE CONSTRAINT {}").format(pgsql.Identifier(name)) for name in names)))
        for table, names in rows
    ]


def drop(conn: psycopg.Connection) -> None:
    """Drop every careerload table (caller commits)."""
    conn.execute("DROP TABLE IF EXISTS " + ", ".join(TABLES) + " CASCADE")


def exists(conn: psycopg.Connection) -> bool:
    """True when the jobs table is present in the current schema."""
    row = conn.execute("SELECT to_regclass('jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])
