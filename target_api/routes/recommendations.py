"""GET /recommendations: postings from every user's jobs that match the user's skills.

Deliberately expensive, as the contract asks, and honestly so: no index covers
`tech_stack && skills`, so PostgreSQL scans every job, scores the overlap,
folds re-posts together by fingerprint and excludes postings the user already
tracks. No sleep anywhere; the 30-minute cache is what makes it affordable.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from target_api import cache as ttl
from target_api.cache import user_key
from target_api.deps import CacheDep, CurrentUser, Pool
from target_api.responses import cached_json

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

QUERY = """
WITH me AS (SELECT skills FROM users WHERE id = %(user_id)s),
candidates AS (
    SELECT DISTINCT ON (coalesce(j.job_fingerprint, j.id::text))
           j.id, j.company, j.title, j.location, j.tech_stack, j.salary_min, j.salary_max,
           j.remote, j.experience_level, j.created_at,
           cardinality(ARRAY(SELECT unnest(j.tech_stack) INTERSECT SELECT unnest(me.skills))) AS score
    FROM jobs j, me
    WHERE j.user_id <> %(user_id)s
      AND j.tech_stack && me.skills
      AND NOT EXISTS (
          SELECT 1 FROM jobs mine
          WHERE mine.user_id = %(user_id)s AND mine.job_fingerprint = j.job_fingerprint)
    ORDER BY coalesce(j.job_fingerprint, j.id::text), j.created_at DESC
)
SELECT * FROM candidates ORDER BY score DESC, created_at DESC LIMIT %(limit)s
"""


@router.get("")
async def recommendations(
    user_id: CurrentUser, pool: Pool, cache: CacheDep, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> Response:
    async def produce() -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute(QUERY, {"user_id": user_id, "limit": limit})
            items = await cur.fetchall()
        return {"items": items, "count": len(items)}

    return await cached_json(cache, user_key(user_id), ttl.TTL_RECOMMENDATIONS, produce, f"recommendations:{limit}")
