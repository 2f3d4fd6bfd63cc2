"""GET /cache/metrics and GET /database/performance: the server-side view a load test snapshots."""

from __future__ import annotations

from fastapi import APIRouter, Response
from psycopg import Error as PgError

from target_api.deps import CacheDep, Conn, CurrentUser, Pool
from target_api.responses import json_response

router = APIRouter(tags=["metrics"])

TOP_STATEMENTS = """
SELECT left(query, 300) AS query, calls, round(total_exec_time::numeric, 2)::float8 AS total_ms,
       round(mean_exec_time::numeric, 3)::float8 AS mean_ms, round(max_exec_time::numeric, 3)::float8 AS max_ms, rows
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT %s
"""
CACHE_HIT_RATIO = """
SELECT round(blks_hit::numeric / nullif(blks_hit + blks_read, 0), 4)::float8 AS buffer_hit_ratio,
       numbackends AS connections, xact_commit AS commits, xact_rollback AS rollbacks
FROM pg_stat_database WHERE datname = current_database()
"""


@router.get("/cache/metrics")
async def cache_metrics(_user: CurrentUser, cache: CacheDep) -> Response:
    return json_response(await cache.metrics())


@router.get("/database/performance")
async def database_performance(_user: CurrentUser, pool: Pool, conn: Conn) -> Response:
    """Pool counters, database-wide counters and the top statements by total time."""
    cur = await conn.execute(CACHE_HIT_RATIO)
    report = {"pool": pool.get_stats(), "database": await cur.fetchone()}
    cur = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if await cur.fetchone() is None:
        report["statements"] = {"available": False, "reason": "pg_stat_statements extension is not installed"}
        return json_response(report)
    try:
        cur = await conn.execute(TOP_STATEMENTS, (10,))
        report["statements"] = {"available": True, "top": await cur.fetchall()}
    except PgError as exc:
        report["statements"] = {"available": False, "reason": str(exc).splitlines()[0]}
    return json_response(report)
