"""Server-side evidence during a run: Redis, pg_stat_statements, connections, backend process.

A background thread snapshots, at the start, every `interval_s` and at the end:

    server/redis.csv          ts, keyspace_hits, keyspace_misses, evicted_keys, ops_per_sec,
                              used_memory, app_hits, app_misses, app_errors
    server/pg_statements.csv  ts, queryid, query, calls, total_ms, mean_ms, rows,
                              shared_blks_hit, shared_blks_read   (all statements of the database
                              but our own pg_stat_* reads)
    server/pg_connections.csv ts, total, active, idle, idle_in_transaction
    server/process.csv        ts, pids, cpu_percent, rss_bytes   (the backend's processes, when local)

Counters are cumulative as the servers report them: the analysis takes the
deltas over the run window (last snapshot minus first). `app_*` come from the
backend's `/api/v1/cache/metrics` (the application's own hit/miss count; it
needs a bearer token, which the run obtains by logging in as a persona), the
rest from Redis INFO. A source that cannot be reached is skipped with one
warning, never failing the run: the evidence is extra, the load is the point.
"""

from __future__ import annotations

import csv
import json
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
import psycopg
import redis

from foundation.errors import first_line
from foundation.rundir import (
    CONNECTION_COLUMNS, CONNECTIONS_CSV, PROCESS_COLUMNS, PROCESS_CSV, REDIS_COLUMNS, REDIS_CSV, SERVER_DIR,
    STATEMENT_COLUMNS, STATEMENTS_CSV,
)


STATEMENTS_SQL = """
SELECT s.queryid, left(s.query, 2000), s.calls, s.total_exec_time, s.mean_exec_time, s.rows,
       s.shared_blks_hit, s.shared_blks_read
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_%'
"""
CONNECTIONS_SQL = """
SELECT count(*), count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE state = 'idle'),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%')
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def local_listener_pids(url: str) -> list[int]:
    """PIDs of the processes (and their children) serving `url`, when it is on this machine."""
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return []
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        owners = {c.pid for c in psutil.net_connections("tcp")
                  if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid}
    except psutil.AccessDenied:
        return []
    pids = set(owners)
    for pid in owners:
        try:
            pids.update(child.pid for child in psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return sorted(pids)


class _CsvLog:
    """One append-only CSV in the run directory's server/ folder."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.file = open(path, "w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(columns)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self.writer.writerows(rows)
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class ServerSnapshots:
    """Collects snapshots on a background thread between `start()` and `stop()`."""

    def __init__(self, run_dir: Path, *, database_url: str | None = None, redis_url: str | None = None,
                 target_url: str | None = None, auth_token: str | None = None, interval_s: float = 5.0) -> None:
        self.dir = Path(run_dir) / SERVER_DIR
        self.database_url, self.redis_url, self.target_url = database_url, redis_url, target_url
        self.auth_token = auth_token
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        self._logs: dict[str, _CsvLog] = {}
        self._pids: list[int] = []
        self._processes: dict[int, psutil.Process] = {}
        self._redis: redis.Redis | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.database_url or self.redis_url or self.target_url)

    def start(self) -> None:
        if not self.enabled:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.redis_url or self.target_url:
            self._logs["redis"] = _CsvLog(self.dir / REDIS_CSV, REDIS_COLUMNS)
        if self.redis_url:
            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        if self.database_url:
            self._logs["statements"] = _CsvLog(self.dir / STATEMENTS_CSV, STATEMENT_COLUMNS)
            self._logs["connections"] = _CsvLog(self.dir / CONNECTIONS_CSV, CONNECTION_COLUMNS)
        if self.target_url:
            self._pids = local_listener_pids(self.target_url)
            if self._pids:
                self._logs["process"] = _CsvLog(self.dir / PROCESS_CSV, PROCESS_COLUMNS)
        self.snapshot()
        self._thread = threading.Thread(target=self._loop, name="server-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take the final snapshot and close the files; safe to call twice."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 10)
        self._thread = None
        self.snapshot()
        for log in self._logs.values():
            log.close()
        self._logs.clear()
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.snapshot()

    def _warn(self, source: str, exc: Exception) -> None:
        if source not in self._warned:
            self._warned.add(source)
            print(f"careerload: warning: no {source} snapshots ({first_line(exc)})", file=sys.stderr)

    def snapshot(self) -> None:
        """One snapshot of every source; each failure is a warning, once per source."""
        ts = round(time.time(), 3)
        if "redis" in self._logs:
            self._logs["redis"].write([(ts, *self._redis_row())])
        if "statements" in self._logs:
            try:
                with psycopg.connect(self.database_url, connect_timeout=3) as conn:
                    statements = conn.execute(STATEMENTS_SQL).fetchall()
                    connections = conn.execute(CONNECTIONS_SQL).fetchone()
                self._logs["statements"].write([(ts, *row) for row in statements])
                self._logs["connections"].write([(ts, *connections)])
            except psycopg.Error as exc:
                self._warn("pg_stat_statements", exc)
        if "process" in self._logs:
            self._logs["process"].write([(ts, *self._process_row())])

    def _redis_row(self) -> tuple[Any, ...]:
        info: dict[str, Any] = {}
        if self._redis is not None:
            try:
                info = {**self._redis.info("stats"), **self._redis.info("memory")}
            except redis.RedisError as exc:
                self._warn("Redis INFO", exc)
        app: dict[str, Any] = {}
        if self.target_url:
            try:
                request = urllib.request.Request(f"{self.target_url.rstrip('/')}/api/v1/cache/metrics")
                if self.auth_token:
                    request.add_header("Authorization", f"Bearer {self.auth_token}")
                with urllib.request.urlopen(request, timeout=3) as resp:
                    app = json.load(resp)
            except (OSError, ValueError) as exc:
                self._warn("/cache/metrics", exc)
        return (info.get("keyspace_hits", ""), info.get("keyspace_misses", ""), info.get("evicted_keys", ""),
                info.get("instantaneous_ops_per_sec", ""), info.get("used_memory", ""),
                app.get("hits", ""), app.get("misses", ""), app.get("errors", ""))

    def _process_row(self) -> tuple[Any, ...]:
        cpu, rss, alive = 0.0, 0, []
        for pid in self._pids:
            try:
                proc = self._processes.setdefault(pid, psutil.Process(pid))
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
                alive.append(str(pid))
            except psutil.Error:
                continue
        return (" ".join(alive), round(cpu, 1), rss)


def login_token(target_url: str, email: str | None = None, password: str | None = None) -> str | None:
    """A bearer token for the backend's metrics endpoints; None when the login fails.

    By default the first seeded user's (`user1@careerload.test`, the seed's
    password): the account every persona pool starts from.
    """
    from foundation.logins import seed_email, seed_password

    email = email or seed_email(1)
    password = password if password is not None else seed_password()
    request = urllib.request.Request(
        f"{target_url.rstrip('/')}/api/v1/auth/login", method="POST",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response).get("access_token")
    except (OSError, ValueError):
        return None
