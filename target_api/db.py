"""The PostgreSQL connection pool (psycopg 3, async).

Connections are autocommit: single reads need no transaction round trips, and
writes open an explicit `conn.transaction()` so their commit point is visible in
the code (cache invalidation happens after it). Rows come back as dicts, ready
for orjson.
"""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from target_api.settings import Settings


def create_pool(settings: Settings) -> AsyncConnectionPool:
    """A closed pool; open it with `await pool.open(wait=True)` in the lifespan."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.db_pool_min_size,
        max_size=max(settings.db_pool_max_size, settings.db_pool_min_size),
        kwargs={"autocommit": True, "row_factory": dict_row},
        # Fail a request after 10 s of waiting for a connection rather than the
        # default 30 s, so an exhausted pool shows up as errors in the load test.
        timeout=10.0,
        open=False,
        name="target_api",
    )
