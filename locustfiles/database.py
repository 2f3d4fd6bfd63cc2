"""DatabaseUser: the audit's job queries straight through psycopg, like `pgbench -f`.

Each query is timed and fired into Locust's request event (type SQL, name the
query's label), so database latency sits in the same statistics, raw log and
thresholds as the HTTP endpoints. One autocommit connection per user, as
pgbench's one connection per client; parameters come from the pool read from
the database at test start (seeded users and their job ids), never invented.
psycopg detects gevent's monkey-patching and waits cooperatively.
"""

from __future__ import annotations

import random
import time
from typing import Any

import psycopg
from locust import User, events

from locustfiles._plugin import RUN
from locustfiles.browsing import JOB_STATUSES, SEARCH_TERMS

APPLICATION_STATUSES = ("submitted", "under_review", "interviewing", "offer", "rejected", "withdrawn")

# label -> (weight, SQL). The audit's job queries: the list page, its status
# filter (served by the composite (user_id, status, created_at) index), the
# stats, detail, full-text search (GIN), company+status, and the two
# per-user side tables. Weights follow the API's read mix (BrowsingUser).
QUERIES: dict[str, tuple[int, str]] = {
    "jobs by user, newest first": (25, (
        "SELECT id, company, title, status, created_at FROM jobs WHERE user_id = %(user_id)s "
        "ORDER BY created_at DESC, id DESC LIMIT 20")),
    "jobs by user and status": (15, (
        "SELECT id, company, title, status, created_at FROM jobs WHERE user_id = %(user_id)s AND status = %(status)s "
        "ORDER BY created_at DESC, id DESC LIMIT 20")),
    "job counts by status": (10, "SELECT status, count(*) FROM jobs WHERE user_id = %(user_id)s GROUP BY status"),
    "job by id": (20, "SELECT * FROM jobs WHERE id = %(job_id)s AND user_id = %(user_id)s"),
    "full-text search": (8, (
        "SELECT id, title, company FROM jobs WHERE to_tsvector('english', title || ' ' || coalesce(description, '')) "
        "@@ websearch_to_tsquery('english', %(q)s) ORDER BY created_at DESC, id DESC LIMIT 20")),
    "jobs by company and status": (7, (
        "SELECT count(*) FROM jobs WHERE company = (SELECT company FROM jobs WHERE id = %(job_id)s) "
        "AND status = %(status)s")),
    "applications by user and status": (8, (
        "SELECT id, job_id, status, applied_at FROM applications WHERE user_id = %(user_id)s "
        "AND status = %(app_status)s ORDER BY applied_at DESC LIMIT 20")),
    "recent activity": (7, (
        "SELECT id, action, entity_type, created_at FROM activity_logs WHERE user_id = %(user_id)s "
        "ORDER BY created_at DESC LIMIT 20")),
}


class DatabaseUser(User):
    # pgbench has no think time: the database scenario paces iterations by
    # arrival rate (open model). In a closed-model scenario, a short pause.
    think_time = (0.0, 0.1)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = {"persona": type(self).__name__}
        self.conn: psycopg.Connection | None = None
        self._labels = list(QUERIES)
        self._weights = [QUERIES[label][0] for label in self._labels]

    def context(self) -> dict[str, str]:
        return self._context

    def wait_time(self) -> float:
        if RUN.pacer is not None:
            return RUN.pacer.delay()
        return random.uniform(*self.think_time)

    def on_start(self) -> None:
        self.conn = psycopg.connect(self.environment.parsed_options.database_url, autocommit=True, connect_timeout=5)

    def on_stop(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def params(self) -> dict[str, Any]:
        accounts = [a for a in RUN.pool.accounts if a.job_ids] or RUN.pool.accounts
        account = random.choice(accounts)
        return {
            "user_id": account.user_id, "job_id": random.choice(account.job_ids) if account.job_ids else 0,
            "status": random.choice(JOB_STATUSES), "app_status": random.choice(APPLICATION_STATUSES),
            "q": random.choice(SEARCH_TERMS),
        }

    def query(self) -> None:
        label = random.choices(self._labels, self._weights)[0]
        started, start_perf = time.time(), time.perf_counter()
        rows, error = 0, None
        try:
            rows = len(self.conn.execute(QUERIES[label][1], self.params()).fetchall())
        except psycopg.Error as exc:
            error = exc
        events.request.fire(
            request_type="SQL", name=label, response_time=(time.perf_counter() - start_perf) * 1000.0,
            response_length=rows, exception=error, context=self._context, start_time=started, response=None, url=None,
        )

    tasks = [query]
