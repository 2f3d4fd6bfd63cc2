"""The schema as pgbench-style steps: tables, keys, indexes, composite indexes.

Split so that a seed can load bare tables with COPY and build keys and indexes
afterwards (much faster than maintaining them row by row), while `careerload up`
applies every step at once to a fresh database.
"""

from __future__ import annotations

import functools
from importlib import resources

import psycopg

TABLES = ("users", "jobs", "applications", "activity_logs", "content_generations", "scrape_tasks")
STEPS = ("tables", "keys", "indexes", "composite_indexes")


@functools.cache
def sql(step: str) -> str:
    """The SQL text of one schema step (read once per process)."""
    if step not in STEPS:
        raise ValueError(f"unknown schema step {step!r}; expected one of {', '.join(STEPS)}")
    return resources.files(__package__).joinpath(f"{step}.sql").read_text()


def apply(conn: psycopg.Connection, steps: tuple[str, ...] = STEPS) -> None:
    """Run the given steps, in order, on an open connection (caller commits)."""
    for step in steps:
        conn.execute(sql(step))


def drop(conn: psycopg.Connection) -> None:
    """Drop every careerload table (caller commits)."""
    conn.execute("DROP TABLE IF EXISTS " + ", ".join(TABLES) + " CASCADE")


def exists(conn: psycopg.Connection) -> bool:
    """True when the jobs table is present in the current schema."""
    row = conn.execute("SELECT to_regclass('jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])
