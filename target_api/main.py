"""The FastAPI application: `uvicorn target_api.main:app`.

The lifespan opens the PostgreSQL pool (waiting until the database answers, so
a worker never accepts requests it cannot serve) and the Redis client (not
waited for: Redis is optional), and on shutdown stops background scraping
before closing both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from target_api.cache import Cache
from target_api.db import create_pool
from target_api.llm import CoverLetterWriter
from target_api.routes import analytics, applications, auth, content, health, jobs, logs, metrics, recommendations, scraping
from target_api.scraping import Scraper
from target_api.settings import get_settings

API_PREFIX = "/api/v1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    pool = create_pool(settings)
    await pool.open(wait=True, timeout=30)
    cache = Cache(settings)
    app.state.pool = pool
    app.state.cache = cache
    app.state.scraper = Scraper(pool, cache, settings)
    app.state.writer = CoverLetterWriter(settings)
    try:
        yield
    finally:
        await app.state.scraper.shutdown()
        await cache.close()
        await pool.close()


def create_app() -> FastAPI:
    app = FastAPI(title="careerload reference backend", version="1.0", lifespan=lifespan)
    # scraping first: its /jobs/scrape must win over /jobs/{job_id}; inside the
    # jobs router the fixed paths (stats, search, export, bulk) precede {job_id}.
    for module in (health, auth, scraping, jobs, applications, recommendations, analytics, logs, content, metrics):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


app = create_app()
