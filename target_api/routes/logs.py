"""GET /logs: the user's activity log, newest first (index activity_logs(user_id, created_at))."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from target_api import cache as ttl
from target_api.cache import user_key
from target_api.deps import CacheDep, CurrentUser, PageNumber, PageSize, Pool
from target_api.responses import cached_json, fetch_page

router = APIRouter(prefix="/logs", tags=["logs"])


@router.get("")
async def list_logs(
    user_id: CurrentUser, pool: Pool, cache: CacheDep, page: PageNumber = 1, page_size: PageSize = 50
) -> Response:
    async def produce() -> dict[str, Any]:
        return await fetch_page(
            pool,
            "SELECT count(*) AS n FROM activity_logs WHERE user_id = %(user_id)s",
            "SELECT id, user_id, action, entity_type, entity_id, details, created_at FROM activity_logs "
            "WHERE user_id = %(user_id)s ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {"user_id": user_id}, page, page_size,
        )

    return await cached_json(cache, user_key(user_id), ttl.TTL_LOGS, produce, f"logs:{page}:{page_size}")
