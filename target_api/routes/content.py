"""POST /content/generate/cover-letter: a simulated LLM call, cached per (user, job, style).

The cache key includes the job's updated_at, so editing the job yields a fresh
letter without any explicit invalidation. The 429 check comes after the cache:
a cached letter is served even when every model slot is busy.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, HTTPException, Request, Response

from target_api.activity import log_activity
from target_api.deps import CacheDep, CurrentUser, Pool, SettingsDep
from target_api.llm import CoverLetterWriter
from target_api.responses import JSON, json_response
from target_api.schemas import CoverLetterIn

router = APIRouter(prefix="/content", tags=["content"])


@router.post("/generate/cover-letter")
async def cover_letter(
    body: CoverLetterIn, user_id: CurrentUser, pool: Pool, cache: CacheDep, settings: SettingsDep, request: Request
) -> Response:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, company, title, location, tech_stack, updated_at FROM jobs WHERE id = %s AND user_id = %s",
            (body.job_id, user_id),
        )
        job = await cur.fetchone()
    if job is None:
        raise HTTPException(404, "job not found")
    key = f"cl:cover:{user_id}:{body.job_id}:{body.style}:{job['updated_at'].timestamp()}"
    cached = await cache.get(key)
    if cached is not None:
        return Response(cached, media_type=JSON, headers={"X-Cache": "HIT"})

    writer: CoverLetterWriter = request.app.state.writer
    if not writer.slots.try_acquire():
        return json_response(
            {"detail": f"{writer.slots.capacity} generations already running; retry later"},
            429,
            {"Retry-After": str(writer.retry_after_s())},
        )
    try:
        letter = await writer.write(job, body.style)
    finally:
        writer.slots.release()

    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "INSERT INTO content_generations (user_id, job_id, content_type, style, content, tokens, latency_ms) "
            "VALUES (%s, %s, 'cover_letter', %s, %s, %s, %s) RETURNING id",
            (user_id, body.job_id, body.style, letter["content"], letter["tokens"], letter["latency_ms"]),
        )
        generation_id = (await cur.fetchone())["id"]
        await log_activity(conn, user_id, "generate", "cover_letter", generation_id, f"job {body.job_id}, {body.style}")
    await cache.invalidate_user(user_id)
    payload = orjson.dumps({"generation_id": generation_id, "job_id": body.job_id, "style": body.style, **letter})
    await cache.set(key, payload, settings.cache_default_expire)
    return Response(payload, media_type=JSON, headers={"X-Cache": "MISS"})
