"""/applications: the user's applications, each tied to one of the user's jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response

from target_api import cache as ttl
from target_api.activity import log_activity
from target_api.cache import user_key
from target_api.deps import CacheDep, Conn, CurrentUser, PageNumber, PageSize, Pool
from target_api.responses import cached_json, fetch_page, json_response
from target_api.schemas import ApplicationCreate, ApplicationStatus

router = APIRouter(prefix="/applications", tags=["applications"])

COLUMNS = "a.id, a.user_id, a.job_id, a.status, a.notes, a.applied_at, a.updated_at, j.company, j.title"


@router.get("")
async def list_applications(
    user_id: CurrentUser,
    pool: Pool,
    cache: CacheDep,
    status: ApplicationStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Response:
    """Newest first; the (user_id, status) index serves the status filter."""

    async def produce() -> dict[str, Any]:
        condition = "a.user_id = %(user_id)s" + (" AND a.status = %(status)s" if status else "")
        return await fetch_page(
            pool,
            f"SELECT count(*) AS n FROM applications a WHERE {condition}",
            f"SELECT {COLUMNS} FROM applications a JOIN jobs j ON j.id = a.job_id WHERE {condition} "
            "ORDER BY a.applied_at DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {"user_id": user_id, "status": status}, page, page_size,
        )

    field = f"applications:{status}:{page}:{page_size}"
    return await cached_json(cache, user_key(user_id), ttl.TTL_APPLICATIONS, produce, field)


@router.post("", status_code=201)
async def create_application(body: ApplicationCreate, user_id: CurrentUser, conn: Conn, cache: CacheDep) -> Response:
    """Apply to one of the user's own jobs (404 for anyone else's); the job moves to 'applied'."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE jobs SET status = CASE WHEN status = 'not_applied' THEN 'applied' ELSE status END, "
            "date_applied = coalesce(date_applied, current_date), updated_at = now() "
            "WHERE id = %s AND user_id = %s RETURNING company, title",
            (body.job_id, user_id),
        )
        job = await cur.fetchone()
        if job is None:
            raise HTTPException(404, "job not found")
        cur = await conn.execute(
            "INSERT INTO applications (user_id, job_id, status, notes) VALUES (%s, %s, %s, %s) "
            "RETURNING id, job_id, status, notes, applied_at, updated_at",
            (user_id, body.job_id, body.status, body.notes),
        )
        application = {**await cur.fetchone(), "company": job["company"], "title": job["title"]}
        await log_activity(conn, user_id, "apply", "application", application["id"], f"job {body.job_id}")
    await cache.invalidate_user(user_id)
    return json_response(application, 201)
