"""Simulated job-board scraping, run as background asyncio tasks.

Honest in the parts a load test exercises: each source "fetches" with its own
delay (sources in parallel), then the batch is deduplicated by
`job_fingerprint` against the user's stored jobs and within itself, and only
new postings are inserted. Boards re-list the same postings, so 40-60 % of each
batch (drawn per task) are re-posts: of jobs the user already tracks, or of
postings seen on another board in the same batch.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from target_api.activity import log_activity
from target_api.cache import Cache
from foundation.fingerprint import job_fingerprint
from target_api.limits import SlotLimit
from target_api.schemas import ScrapeIn
from target_api.settings import Settings

log = logging.getLogger(__name__)

# Source → multiple of SCRAPING_DELAY_MS (boards differ in how slow they are to page through).
SOURCES = {"linkedin": 1.0, "indeed": 0.7, "glassdoor": 1.4}
DUPLICATE_RATIO = (0.4, 0.6)
COMPANIES = (
    "Acme Analytics", "Northwind Labs", "Globex", "Initech", "Umbrella Health", "Hooli", "Stark Robotics",
    "Wayne Fintech", "Cyberdyne AI", "Soylent Foods", "Tyrell Systems", "Massive Dynamic", "Aperture Cloud",
    "Vandelay Logistics", "Pied Piper", "Wonka Retail", "Oscorp Energy", "Gringotts Pay", "Monarch Media",
    "Blue Sun Mobility",
)
LEVELS = ("junior", "mid", "senior", "lead")
TEAMS = ("Platform", "Payments", "Growth", "Data", "Search", "Infrastructure", "Mobile", "Core", "Identity", "Billing")
STACKS = (
    ("python", "fastapi", "postgresql", "redis"),
    ("python", "django", "celery", "aws"),
    ("typescript", "react", "node.js", "graphql"),
    ("go", "kubernetes", "grpc", "postgresql"),
    ("java", "spring", "kafka", "aws"),
    ("python", "pandas", "spark", "airflow"),
)


@dataclass(frozen=True)
class Posting:
    company: str
    title: str
    location: str | None
    source: str

    @property
    def fingerprint(self) -> str:
        return job_fingerprint(self.company, self.title, self.location)


def generate_postings(
    keywords: str, location: str | None, count: int, known: list[tuple[str, str, str | None]], rng: random.Random
) -> list[Posting]:
    """`count` postings across SOURCES; a drawn share re-lists `known` or earlier postings of the batch."""
    duplicate_ratio = rng.uniform(*DUPLICATE_RATIO)
    batch: list[Posting] = []
    for index in range(count):
        source = list(SOURCES)[index % len(SOURCES)]
        reposts = known + [(p.company, p.title, p.location) for p in batch]
        if reposts and rng.random() < duplicate_ratio:
            company, title, where = rng.choice(reposts)
        else:
            company = rng.choice(COMPANIES)
            title = f"{rng.choice(LEVELS).title()} {keywords} ({rng.choice(TEAMS)})"
            where = location
        batch.append(Posting(company, title, where, source))
    return batch


def _job_row(user_id: int, posting: Posting, rng: random.Random) -> dict[str, Any]:
    level = posting.title.split(" ", 1)[0].lower()
    salary_min = int(rng.lognormvariate(11.4, 0.3)) // 1000 * 1000
    return {
        "user_id": user_id,
        "company": posting.company,
        "title": posting.title,
        "location": posting.location,
        "description": f"{posting.company} is hiring: {posting.title}. Found on {posting.source}.",
        "tech_stack": list(rng.choice(STACKS)),
        "salary_min": salary_min,
        "salary_max": salary_min + rng.randrange(10, 60) * 1000,
        "source": posting.source,
        "job_fingerprint": posting.fingerprint,
        "experience_level": level if level in LEVELS else None,
        "remote": posting.location is None or rng.random() < 0.3,
    }


class Scraper:
    """Owns the background tasks; at most SCRAPING_MAX_CONCURRENT run per worker process."""

    def __init__(self, pool: AsyncConnectionPool, cache: Cache, settings: Settings) -> None:
        self._pool = pool
        self._cache = cache
        self._delay_s = settings.scraping_delay_ms / 1000
        self.slots = SlotLimit(settings.scraping_max_concurrent)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def retry_after_s(self) -> int:
        """About how long one task takes: the slowest source's delay."""
        return max(1, round(self._delay_s * max(SOURCES.values())))

    async def submit(self, user_id: int, request: ScrapeIn) -> str:
        """Record a queued task and start it; the caller has acquired a slot."""
        task_id = uuid.uuid4().hex
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO scrape_tasks (id, user_id, keywords, location, max_results) VALUES (%s, %s, %s, %s, %s)",
                    (task_id, user_id, request.keywords, request.location, request.max_results),
                )
        except BaseException:
            self.slots.release()
            raise
        self._tasks[task_id] = asyncio.create_task(self._run(task_id, user_id, request), name=f"scrape-{task_id}")
        return task_id

    async def _run(self, task_id: str, user_id: int, request: ScrapeIn) -> None:
        try:
            await self._scrape(task_id, user_id, request)
        except Exception as exc:
            log.exception("scrape task %s failed", task_id)
            await self._finish_failed(task_id, f"{type(exc).__name__}: {exc}")
        finally:
            self.slots.release()
            self._tasks.pop(task_id, None)

    async def _scrape(self, task_id: str, user_id: int, request: ScrapeIn) -> None:
        rng = random.Random()
        async with self._pool.connection() as conn:
            await conn.execute("UPDATE scrape_tasks SET status = 'running', started_at = now() WHERE id = %s", (task_id,))
            cur = await conn.execute(
                "SELECT company, title, location FROM jobs WHERE user_id = %s ORDER BY random() LIMIT %s",
                (user_id, request.max_results),
            )
            known = [(row["company"], row["title"], row["location"]) for row in await cur.fetchall()]
        # The "fetch": every board in parallel, each at its own pace; no connection held meanwhile.
        await asyncio.gather(*(asyncio.sleep(self._delay_s * factor * rng.uniform(0.5, 1.5)) for factor in SOURCES.values()))
        postings = generate_postings(request.keywords, request.location, request.max_results, known, rng)

        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT DISTINCT job_fingerprint FROM jobs WHERE user_id = %s AND job_fingerprint = ANY(%s)",
                (user_id, list({p.fingerprint for p in postings})),
            )
            seen = {row["job_fingerprint"] for row in await cur.fetchall()}
            new_rows = []
            for posting in postings:
                if posting.fingerprint not in seen:
                    seen.add(posting.fingerprint)
                    new_rows.append(_job_row(user_id, posting, rng))
            if new_rows:
                async with conn.cursor() as insert:
                    await insert.executemany(
                        "INSERT INTO jobs (user_id, company, title, location, description, tech_stack, salary_min, "
                        "salary_max, source, job_fingerprint, experience_level, remote) VALUES (%(user_id)s, "
                        "%(company)s, %(title)s, %(location)s, %(description)s, %(tech_stack)s, %(salary_min)s, "
                        "%(salary_max)s, %(source)s, %(job_fingerprint)s, %(experience_level)s, %(remote)s)",
                        new_rows,
                    )
            await conn.execute(
                "UPDATE scrape_tasks SET status = 'done', jobs_scraped = %s, jobs_added = %s, jobs_deduplicated = %s, "
                "finished_at = now() WHERE id = %s",
                (len(postings), len(new_rows), len(postings) - len(new_rows), task_id),
            )
            await log_activity(
                conn, user_id, "scrape", "scrape_task", None,
                f"{task_id}: {len(new_rows)} added, {len(postings) - len(new_rows)} duplicates",
            )
        await self._cache.invalidate_user(user_id)

    async def _finish_failed(self, task_id: str, error: str) -> None:
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "UPDATE scrape_tasks SET status = 'failed', error = %s, finished_at = now() WHERE id = %s",
                    (error[:500], task_id),
                )
        except Exception:
            log.exception("could not mark scrape task %s failed", task_id)

    async def shutdown(self) -> None:
        """Cancel running tasks and mark them failed, so no task stays 'running' forever."""
        tasks = dict(self._tasks)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for task_id in tasks:
            await self._finish_failed(task_id, "server shut down before the task finished")
