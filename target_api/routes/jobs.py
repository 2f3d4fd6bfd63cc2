"""/jobs: the user's tracked jobs: list, detail, stats, search, export and writes.

Reads go through the per-user cache hash (see cache.py); every write commits,
then drops that hash. Search is over all users' jobs and is cached globally by
query, so it may lag writes by up to its 15-minute TTL, as the contract allows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import StreamingResponse
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from target_api import cache as ttl
from target_api.activity import log_activity
from target_api.cache import user_key
from target_api.deps import CacheDep, Conn, CurrentUser, PageNumber, PageSize, Pool
from foundation.fingerprint import job_fingerprint
from target_api.responses import cached_json, fetch_page, json_response
from target_api.schemas import JobBulkCreate, JobCreate, JobStatus, JobUpdate

router = APIRouter(prefix="/jobs", tags=["jobs"])

# The list leaves out the description (the long column) to keep pages small; it keeps
# user_id so a client can verify that every row of its page is its own.
LIST_COLUMNS = (
    "id, user_id, company, title, location, tech_stack, salary_min, salary_max, status, source, "
    "experience_level, remote, created_at, updated_at, date_applied"
)
DETAIL_COLUMNS = (
    "id, user_id, company, title, location, description, tech_stack, salary_min, salary_max, status, "
    "source, job_fingerprint, experience_level, funding_stage, job_language, remote, created_at, "
    "updated_at, date_applied"
)
# The expression of the GIN index jobs_fts_idx, verbatim, so the planner uses it.
FTS_DOCUMENT = "to_tsvector('english', title || ' ' || coalesce(description, ''))"
EXPORT_COLUMNS = (
    "id", "company", "title", "location", "status", "source", "salary_min", "salary_max",
    "experience_level", "remote", "tech_stack", "created_at", "date_applied",
)
EXPORT_BATCH_ROWS = 500

Text = Annotated[str | None, Query(max_length=200)]


@router.get("")
async def list_jobs(
    user_id: CurrentUser,
    pool: Pool,
    cache: CacheDep,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    status: JobStatus | None = None,
    company: Text = None,
    location: Text = None,
) -> Response:
    """Newest first. With a status filter the (user_id, status, created_at) index serves rows in order."""

    async def produce() -> dict[str, Any]:
        where = [sql.SQL("user_id = %(user_id)s")]
        params: dict[str, Any] = {"user_id": user_id}
        for name, value in (("status", status), ("company", company), ("location", location)):
            if value is not None:
                where.append(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)))
                params[name] = value
        condition = sql.SQL(" AND ").join(where)
        return await fetch_page(
            pool,
            sql.SQL("SELECT count(*) AS n FROM jobs WHERE {}").format(condition),
            sql.SQL(
                "SELECT " + LIST_COLUMNS + " FROM jobs WHERE {} "
                "ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
            ).format(condition),
            params, page, page_size,
        )

    field = f"jobs:list:{page}:{page_size}:{status}:{company}:{location}"
    return await cached_json(cache, user_key(user_id), ttl.TTL_JOB_LIST, produce, field)


@router.get("/stats")
async def job_stats(user_id: CurrentUser, pool: Pool, cache: CacheDep) -> Response:
    async def produce() -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status, count(*) AS n FROM jobs WHERE user_id = %s GROUP BY status ORDER BY status", (user_id,)
            )
            by_status = {row["status"]: row["n"] for row in await cur.fetchall()}
        return {"total": sum(by_status.values()), "by_status": by_status}

    return await cached_json(cache, user_key(user_id), ttl.TTL_JOB_STATS, produce, "jobs:stats")


@router.get("/search")
async def search_jobs(
    user_id: CurrentUser,
    pool: Pool,
    cache: CacheDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Response:
    """Full-text over every user's jobs through the GIN index; newest matches first.

    Ordered by created_at rather than ts_rank: ranking would recompute the
    tsvector of every matching row, which for a common word is most of the table.
    """

    async def produce() -> dict[str, Any]:
        match = f"{FTS_DOCUMENT} @@ websearch_to_tsquery('english', %(q)s)"
        envelope = await fetch_page(
            pool,
            f"SELECT count(*) AS n FROM jobs WHERE {match}",
            f"SELECT id, company, title, location, status, remote, salary_min, salary_max, created_at "
            f"FROM jobs WHERE {match} ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {"q": q}, page, page_size,
        )
        return {"query": q, **envelope}

    digest = hashlib.sha1(f"{q}\x00{page}\x00{page_size}".encode()).hexdigest()
    return await cached_json(cache, f"cl:search:{digest}", ttl.TTL_SEARCH, produce)


async def _csv_rows(pool: AsyncConnectionPool, user_id: int) -> AsyncIterator[str]:
    """CSV text in chunks of EXPORT_BATCH_ROWS rows, read through a server-side cursor.

    The connection is borrowed here, not from a dependency, because the body is
    produced after the endpoint function has returned.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    async with pool.connection() as conn, conn.transaction():
        cursor = conn.cursor(name="jobs_export")
        await cursor.execute(
            f"SELECT {', '.join(EXPORT_COLUMNS)} FROM jobs WHERE user_id = %s ORDER BY created_at DESC, id DESC",
            (user_id,),
        )
        while rows := await cursor.fetchmany(EXPORT_BATCH_ROWS):
            for row in rows:
                record = [row[name] for name in EXPORT_COLUMNS]
                record[EXPORT_COLUMNS.index("tech_stack")] = ";".join(row["tech_stack"])
                writer.writerow(record)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        await cursor.close()
    if buffer.tell():
        yield buffer.getvalue()


@router.get("/export")
async def export_jobs(user_id: CurrentUser, pool: Pool, format: Literal["csv"] = "csv") -> StreamingResponse:
    """All the user's jobs as CSV, streamed batch by batch (memory stays flat for 10k+ rows)."""
    return StreamingResponse(
        _csv_rows(pool, user_id),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="jobs.csv"'},
    )


_INSERT = (
    "INSERT INTO jobs (user_id, company, title, location, description, tech_stack, salary_min, salary_max, "
    "status, source, job_fingerprint, experience_level, funding_stage, job_language, remote, date_applied) "
    "VALUES (%(user_id)s, %(company)s, %(title)s, %(location)s, %(description)s, %(tech_stack)s, %(salary_min)s, "
    "%(salary_max)s, %(status)s, %(source)s, %(job_fingerprint)s, %(experience_level)s, %(funding_stage)s, "
    "%(job_language)s, %(remote)s, %(date_applied)s) RETURNING "
)


def _insert_params(user_id: int, job: JobCreate) -> dict[str, Any]:
    return {
        **job.model_dump(),
        "user_id": user_id,
        "job_fingerprint": job_fingerprint(job.company, job.title, job.location),
    }


@router.post("", status_code=201)
async def create_job(body: JobCreate, user_id: CurrentUser, conn: Conn, cache: CacheDep) -> Response:
    async with conn.transaction():
        cur = await conn.execute(_INSERT + DETAIL_COLUMNS, _insert_params(user_id, body))
        job = await cur.fetchone()
        await log_activity(conn, user_id, "create", "job", job["id"], f"{body.company}: {body.title}")
    await cache.invalidate_user(user_id)
    return json_response(job, 201)


@router.post("/bulk", status_code=201)
async def create_jobs_bulk(body: JobBulkCreate, user_id: CurrentUser, conn: Conn, cache: CacheDep) -> Response:
    async with conn.transaction():
        cur = conn.cursor()
        await cur.executemany(
            _INSERT + "id",
            [_insert_params(user_id, job) for job in body.jobs],
            returning=True,
        )
        ids = []
        while True:
            ids.append((await cur.fetchone())["id"])
            if not cur.nextset():
                break
        await log_activity(conn, user_id, "bulk_create", "job", None, f"{len(ids)} jobs")
    await cache.invalidate_user(user_id)
    return json_response({"created": len(ids), "ids": ids}, 201)


@router.get("/{job_id}")
async def get_job(job_id: int, user_id: CurrentUser, pool: Pool, cache: CacheDep) -> Response:
    async def produce() -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {DETAIL_COLUMNS} FROM jobs WHERE id = %s AND user_id = %s", (job_id, user_id)
            )
            job = await cur.fetchone()
        if job is None:
            raise HTTPException(404, "job not found")
        return job

    return await cached_json(cache, user_key(user_id), ttl.TTL_JOB_DETAIL, produce, f"jobs:detail:{job_id}")


@router.put("/{job_id}")
async def update_job(job_id: int, body: JobUpdate, user_id: CurrentUser, conn: Conn, cache: CacheDep) -> Response:
    changes = body.model_dump(exclude_unset=True)
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in changes]
    assignments.append(sql.SQL("updated_at = now()"))
    if {"company", "title", "location"} & changes.keys():
        assignments.append(sql.SQL("job_fingerprint = %(job_fingerprint)s"))
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT company, title, location, salary_min, salary_max FROM jobs WHERE id = %s AND user_id = %s FOR UPDATE",
            (job_id, user_id),
        )
        current = await cur.fetchone()
        if current is None:
            raise HTTPException(404, "job not found")
        merged = {**current, **changes}
        low, high = merged["salary_min"], merged["salary_max"]
        if low is not None and high is not None and low > high:
            raise HTTPException(422, "salary_min must not exceed salary_max")
        params = {**changes, "job_fingerprint": job_fingerprint(merged["company"], merged["title"], merged["location"])}
        params.update(job_id=job_id, user_id=user_id)
        cur = await conn.execute(
            sql.SQL("UPDATE jobs SET {} WHERE id = %(job_id)s AND user_id = %(user_id)s RETURNING " + DETAIL_COLUMNS).format(
                sql.SQL(", ").join(assignments)
            ),
            params,
        )
        job = await cur.fetchone()
        await log_activity(conn, user_id, "update", "job", job_id, ", ".join(sorted(changes)))
    await cache.invalidate_user(user_id)
    return json_response(job)


@router.delete("/{job_id}", status_code=204)
async def delete_job(job_id: int, user_id: CurrentUser, conn: Conn, cache: CacheDep) -> Response:
    async with conn.transaction():
        cur = await conn.execute("DELETE FROM jobs WHERE id = %s AND user_id = %s RETURNING id", (job_id, user_id))
        if await cur.fetchone() is None:
            raise HTTPException(404, "job not found")
        await log_activity(conn, user_id, "delete", "job", job_id)
    await cache.invalidate_user(user_id)
    return Response(status_code=204)
