"""DatabaseUser: the audit's job queries straight through psycopg, like `pgbench -f`.

Each query is timed and fired into Locust's request event (type SQL, name the
query's label), so database latency sits in the same statistics, raw log and
thresholds as the HTTP endpoints. One autocommit connection per user, as
pgbench's one connection per client; parameters come from the pool read from
the database at test start (seeded users and their job ids), never invented.
psycopg detects gevent's monkey-patching and waits cooperatively.

A connection the server dropped (restart, failover, idle kill) is closed and
replaced before the next query, and the reconnect is its own request (type
SQL, name "reconnect"): a backend restart shows as a few failed queries and
reconnects, not as thousands of instant failures on a dead socket.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
import psycopg
from locust import User, events

from locustfiles._iterations import Paced
from locustfiles._run_state import RUN
from locustfiles._statuses import application_status, job_status
from locustfiles.browsing import SEARCH_TERMS

CONNECT_TIMEOUT_S = 5
# After a failed reconnect, wait 0.5 s, doubling up to 5 s: while the server is down a
# user tries a few times per second at most, instead of one refused connection per slot.
RECONNECT_BACKOFF_S, RECONNECT_BACKOFF_MAX_S = 0.5, 5.0
APPLICATION_NAME = "careerload DatabaseUser"

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


class DatabaseUser(Paced, User):
    # pgbench has no think time: the database scenario paces iterations by
    # arrival rate (open model). In a closed-model scenario, a short pause.
    think_time = (0.0, 0.1)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = self.paced_context()
        self.conn: psycopg.Connection | None = None
        self.failed_reconnects = 0  # in a row, for the back-off
        self._labels = list(QUERIES)
        self._weights = [QUERIES[label][0] for label in self._labels]

    def context(self) -> dict[str, str]:
        return self._context

    def think(self) -> float:
        return random.uniform(*self.think_time)

    def on_start(self) -> None:
        # Connecting is not an iteration: the first query waits for its slot after it (locustfiles._iterations).
        self.conn = self.connect()

    def on_stop(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def connect(self) -> psycopg.Connection:
        """Named in pg_stat_activity, so the persona's sessions can be told from the backend's pool."""
        return psycopg.connect(self.environment.parsed_options.database_url, autocommit=True,
                               connect_timeout=CONNECT_TIMEOUT_S, application_name=APPLICATION_NAME)

    def usable(self) -> bool:
        """A working connection, reconnecting first when the last one was lost (timed as SQL "reconnect")."""
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return True
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        started, start_perf = time.time(), time.perf_counter()
        error = None
        try:
            self.conn = self.connect()
        except psycopg.Error as exc:
            error = exc
        self.fire("reconnect", start_perf, started, 0, error)
        if error is None:
            self.failed_reconnects = 0
            return True
        self.failed_reconnects += 1
        gevent.sleep(min(RECONNECT_BACKOFF_S * 2 ** (self.failed_reconnects - 1), RECONNECT_BACKOFF_MAX_S))
        return False

    def params(self) -> dict[str, Any]:
        accounts = [a for a in RUN.pool.accounts if a.job_ids] or RUN.pool.accounts
        account = random.choice(accounts)
        return {
            "user_id": account.user_id, "job_id": random.choice(account.job_ids) if account.job_ids else 0,
            "status": job_status(), "app_status": application_status(),
            "q": random.choice(SEARCH_TERMS),
        }

    def query(self) -> None:
        if not self.usable():
            return
        label = random.choices(self._labels, self._weights)[0]
        started, start_perf = time.time(), time.perf_counter()
        rows, error = 0, None
        try:
            rows = len(self.conn.execute(QUERIES[label][1], self.params()).fetchall())
        except psycopg.OperationalError as exc:
            error = exc
            self.conn.close()  # lost or unusable: the next iteration reconnects
        except psycopg.Error as exc:
            error = exc
        self.fire(label, start_perf, started, rows, error)

    def fire(self, name: str, start_perf: float, started: float, rows: int, error: Exception | None) -> None:
        events.request.fire(
            request_type="SQL", name=name, response_time=(time.perf_counter() - start_perf) * 1000.0,
            response_length=rows, exception=error, context=self._context, start_time=started, response=None, url=None,
        )

    tasks = [query]
