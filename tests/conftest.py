"""Shared fixtures: one real embedded stack per test session.

PostgreSQL, Redis and the reference backend run as real processes on loopback
ports; tests that need an empty database get a scratch one on the same server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import psycopg
import pytest

from careerload.stack import Stack

# Fast simulated latencies so the backend's scraping and LLM paths finish in test time.
TARGET_TEST_ENV = {
    "SCRAPING_DELAY_MS": "50",
    "AI_LATENCY_MEDIAN_MS": "200",
    "AI_LATENCY_SIGMA": "0.3",
    "SCRAPING_MAX_CONCURRENT": "3",
    "AI_MAX_CONCURRENT": "3",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with Stack(target_env=TARGET_TEST_ENV, from_env=False) as running:
        yield running


@pytest.fixture(scope="session")
def database_url(stack: Stack) -> str:
    return stack.database_url


@pytest.fixture(scope="session")
def redis_url(stack: Stack) -> str:
    return stack.redis_url


@pytest.fixture(scope="session")
def target_url(stack: Stack) -> str:
    return stack.target_url


@pytest.fixture
def fresh_database_url(stack: Stack) -> Iterator[str]:
    """An empty database (no schema) on the session's server, dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(stack.admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield stack.admin_url(name)
    with psycopg.connect(stack.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def stalling_target(target_url: str) -> Iterator[Callable[[float, float], str]]:
    """A factory: the session's backend behind a proxy that stalls all traffic S s every P s (tests/stalling_proxy)."""
    from stalling_proxy import stalling_proxy

    with ExitStack() as proxies:
        yield lambda stall_s, every_s: proxies.enter_context(stalling_proxy(target_url, stall_s, every_s))
