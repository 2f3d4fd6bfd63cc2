"""POST /jobs/scrape (202 + task id) and GET /tasks/{task_id} (the user's own tasks only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from target_api.deps import Conn, CurrentUser
from target_api.responses import json_response
from target_api.schemas import ScrapeIn
from target_api.scraping import Scraper

router = APIRouter(tags=["scraping"])


@router.post("/jobs/scrape", status_code=202)
async def start_scrape(body: ScrapeIn, user_id: CurrentUser, request: Request) -> Response:
    scraper: Scraper = request.app.state.scraper
    if not scraper.slots.try_acquire():
        return json_response(
            {"detail": f"{scraper.slots.capacity} scraping tasks already running; retry later"},
            429,
            {"Retry-After": str(scraper.retry_after_s())},
        )
    task_id = await scraper.submit(user_id, body)
    return json_response({"task_id": task_id, "status": "queued"}, 202, {"Location": f"/api/v1/tasks/{task_id}"})


@router.get("/tasks/{task_id}")
async def get_task(task_id: str, user_id: CurrentUser, conn: Conn) -> Response:
    cur = await conn.execute(
        "SELECT id AS task_id, status, keywords, location, max_results, jobs_scraped, jobs_added, "
        "jobs_deduplicated, error, created_at, started_at, finished_at FROM scrape_tasks WHERE id = %s AND user_id = %s",
        (task_id, user_id),
    )
    task = await cur.fetchone()
    if task is None:
        raise HTTPException(404, "task not found")
    return json_response(task)
