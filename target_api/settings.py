"""The backend's configuration: one `Settings` object read from the environment.

Every knob the load tests turn lives here (cache switch and TTLs, concurrency
limits, simulated latencies, pool size), so a scenario changes the backend's
behaviour with environment variables only, and no module reads `os.environ`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Fixed so that several uvicorn workers (separate processes) accept each other's
# tokens. It is public, so it is for development and load tests only: set
# TOKEN_SECRET for anything reachable from outside the machine.
DEV_TOKEN_SECRET = "careerload-dev-only-token-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    db_pool_min_size: int = Field(2, ge=1)
    db_pool_max_size: int = Field(10, ge=1)

    cache_enabled: bool = True
    # TTL for entries the contract's cache table does not name (cover letters).
    cache_default_expire: int = Field(3600, ge=1)
    # A dead Redis must cost a request at most this much before it is skipped.
    redis_timeout_ms: int = Field(250, ge=1)
    # After a Redis failure, go straight to PostgreSQL for this long before retrying.
    redis_retry_after_ms: int = Field(1000, ge=0)

    token_secret: str = DEV_TOKEN_SECRET
    token_ttl_s: int = Field(24 * 3600, ge=1)

    scraping_max_concurrent: int = Field(5, ge=1)
    # Median simulated fetch delay per source; each source scales it (see scraping.SOURCES).
    scraping_delay_ms: int = Field(1500, ge=0)

    ai_max_concurrent: int = Field(10, ge=1)
    # Log-normal LLM latency: median and sigma of the underlying normal.
    # 3 s and 0.25 put ~95 % of calls between 1.8 s and 4.9 s.
    ai_latency_median_ms: int = Field(3000, ge=0)
    ai_latency_sigma: float = Field(0.25, ge=0)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once (raises pydantic.ValidationError on bad values)."""
    return Settings()
