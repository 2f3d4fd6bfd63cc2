"""GET /analytics/dashboard: one CTE aggregating jobs, applications and the activity log.

One statement, one round trip: each CTE reads one table through its user_id
index, and the final SELECT glues the single-row aggregates together.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from target_api import cache as ttl
from target_api.cache import user_key
from target_api.deps import CacheDep, CurrentUser, Pool
from target_api.responses import cached_json

router = APIRouter(prefix="/analytics", tags=["analytics"])

QUERY = """
WITH my_jobs AS (
    SELECT status, company, remote, salary_min, salary_max, created_at
    FROM jobs WHERE user_id = %(user_id)s
),
job_totals AS (
    SELECT count(*) AS total_jobs,
           count(*) FILTER (WHERE created_at >= now() - interval '30 days') AS jobs_last_30_days,
           count(*) FILTER (WHERE remote) AS remote_jobs,
           round(avg(salary_min))::int AS avg_salary_min,
           round(avg(salary_max))::int AS avg_salary_max
    FROM my_jobs
),
by_status AS (
    SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS jobs_by_status
    FROM (SELECT status, count(*) AS n FROM my_jobs GROUP BY status) s
),
top_companies AS (
    SELECT coalesce(jsonb_agg(jsonb_build_object('company', company, 'jobs', n) ORDER BY n DESC, company), '[]'::jsonb)
           AS top_companies
    FROM (SELECT company, count(*) AS n FROM my_jobs GROUP BY company ORDER BY n DESC, company LIMIT 5) c
),
app_totals AS (
    SELECT count(*) AS total_applications,
           count(*) FILTER (WHERE status IN ('interview', 'offer')) AS applications_progressing,
           count(*) FILTER (WHERE status = 'offer') AS offers
    FROM applications WHERE user_id = %(user_id)s
),
activity AS (
    SELECT count(*) FILTER (WHERE created_at >= now() - interval '7 days') AS actions_last_7_days,
           max(created_at) AS last_activity_at
    FROM activity_logs WHERE user_id = %(user_id)s
)
SELECT job_totals.*, by_status.*, top_companies.*, app_totals.*, activity.*,
       CASE WHEN total_jobs > 0 THEN round(total_applications::numeric / total_jobs, 4)::float8 ELSE 0 END
           AS application_rate
FROM job_totals, by_status, top_companies, app_totals, activity
"""


@router.get("/dashboard")
async def dashboard(user_id: CurrentUser, pool: Pool, cache: CacheDep) -> Response:
    async def produce() -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute(QUERY, {"user_id": user_id})
            return await cur.fetchone()

    return await cached_json(cache, user_key(user_id), ttl.TTL_DASHBOARD, produce, "dashboard")
