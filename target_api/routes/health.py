"""GET /health: is the database reachable, is Redis? (no auth, no cache)

The database is required (503 without it); Redis is optional (200 "degraded"),
because every cached route falls back to PostgreSQL.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from psycopg import Error as PgError
from psycopg_pool import PoolTimeout

from target_api.deps import CacheDep, Pool
from target_api.responses import json_response

router = APIRouter(tags=["health"])


async def _database_ok(pool: Pool) -> bool:
    try:
        async with asyncio.timeout(3):
            async with pool.connection(timeout=3) as conn:
                await conn.execute("SELECT 1")
        return True
    except (PgError, PoolTimeout, TimeoutError):
        return False


@router.get("/health")
async def health(pool: Pool, cache: CacheDep) -> Response:
    database_ok, redis_ok = await asyncio.gather(_database_ok(pool), cache.ping())
    redis_state = ("ok" if redis_ok else "down") if cache.enabled else "disabled"
    if not database_ok:
        status, code = "down", 503
    elif redis_state == "down":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return json_response({"status": status, "database": "ok" if database_ok else "down", "redis": redis_state}, code)
