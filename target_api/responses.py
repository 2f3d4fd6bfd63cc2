"""JSON responses encoded once with orjson, and the read-through cache around them.

A cache hit returns the stored bytes as they are: one Redis round trip, no
database connection, no decoding or re-encoding. `X-Cache: HIT|MISS` tells
load tests which path served a request.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Response
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from target_api.cache import Cache

JSON = "application/json"


def json_response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type=JSON, headers=headers)


async def cached_json(
    cache: Cache, key: str, ttl_s: int, produce: Callable[[], Awaitable[Any]], field: str = ""
) -> Response:
    """The cached body for (key, field), or `produce()` encoded, stored and returned."""
    body = await cache.get(key, field)
    if body is not None:
        return Response(body, media_type=JSON, headers={"X-Cache": "HIT"})
    body = orjson.dumps(await produce())
    await cache.set(key, body, ttl_s, field)
    return Response(body, media_type=JSON, headers={"X-Cache": "MISS"})


def page_envelope(items: list[Any], total: int, page: int, page_size: int) -> dict[str, Any]:
    """The contract's pagination envelope."""
    total_pages = math.ceil(total / page_size) if total else 0
    return {
        "items": items,
        "total": total,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
        "has_next": page < total_pages,
        "has_prev": page > 1,
    }


async def fetch_page(pool: AsyncConnectionPool, count_query: str | sql.Composed, page_query: str | sql.Composed,
                     params: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
    """One page and the total in one pipelined round trip, as the pagination envelope.

    `count_query` selects `count(*) AS n`; `page_query` ends with
    `LIMIT %(limit)s OFFSET %(offset)s`, filled in here from page and page_size.
    """
    params = {**params, "limit": page_size, "offset": (page - 1) * page_size}
    async with pool.connection() as conn, conn.pipeline():
        count_cur = await conn.execute(count_query, params)
        page_cur = await conn.execute(page_query, params)
        total = (await count_cur.fetchone())["n"]
        items = await page_cur.fetchall()
    return page_envelope(items, total, page, page_size)
