"""Build indexes, ANALYZE and constraint validations on several connections at once, like `pg_restore -j`.

Index builds are the longest part of a seed, and one CREATE INDEX uses one
core. Two builds on the same table can run side by side (CREATE INDEX takes a
SHARE lock, which does not conflict with itself), so the seed hands every
statement to a pool of connections as soon as its table is loaded: the server
builds jobs' indexes while Python is still generating the next tables. When
all of a table's statements are done, its ANALYZE runs (it needs the
expression indexes to exist to gather their statistics). Statements start in
the order they were queued, and finish in whatever order they finish.

Each statement runs in its own transaction on a staging schema; the loader
makes the result visible in one final transaction (see loader.py).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from queue import SimpleQueue
from types import TracebackType

import psycopg
from psycopg import sql

from seed_data.schema import BUILD_STEPS, Statement

Work = tuple[str, str, str, str | sql.Composable]  # (step, table, name, SQL)
CANCEL_TIMEOUT_S = 5.0


class Builder:
    """A pool of `jobs` connections running queued statements; the first failure stops everything."""

    def __init__(self, connect: Callable[[], psycopg.Connection], jobs: int) -> None:
        self._queue: SimpleQueue[Work | None] = SimpleQueue()
        self._done = threading.Condition()
        self._pending = 0
        self._left: Counter[str] = Counter()  # per table: statements not finished yet
        self.error: BaseException | None = None
        self.seconds: dict[str, float] = defaultdict(float)  # per step, summed over connections
        self.statement_seconds: dict[str, float] = {}
        self._connections: list[psycopg.Connection] = []
        try:
            for _ in range(jobs):
                self._connections.append(connect())
        except BaseException:
            for conn in self._connections:
                conn.close()
            raise
        self._threads = [threading.Thread(target=self._work, args=(conn,), daemon=True) for conn in self._connections]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(cancel=exc is not None)

    def check(self) -> None:
        """Raise the first failure of a build connection, if any (the loader calls it between COPY chunks)."""
        if self.error is not None:
            raise self.error

    def table_loaded(self, table: str, statements: list[Statement]) -> None:
        """Queue a loaded table's statements, its ANALYZE after them."""
        self.check()
        with self._done:
            self._left[table] += len(statements)
            for statement in statements:
                self._enqueue((statement.step, table, statement.name, statement.text))
            if not statements:
                self._analyze(table)

    def run(self, step: str, name: str, text: str | sql.Composable) -> None:
        """Queue one more statement, outside any table's build (no ANALYZE follows it)."""
        self.check()
        with self._done:
            self._enqueue((step, "", name, text))

    def wait(self, tick: Callable[[int], None] = lambda pending: None) -> None:
        """Block until every queued statement has run; raise the first failure. `tick` sees progress."""
        while True:
            with self._done:
                if not self._pending or self.error is not None:
                    break
                self._done.wait(timeout=0.2)
                pending = self._pending
            tick(pending)
        self.check()

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (cancelling running statements if asked) and close the connections."""
        try:
            if cancel:
                with self._done:
                    self.error = self.error or RuntimeError("cancelled")
                self._cancel_running()
        finally:
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join(timeout=0.2 if cancel else None)
                while thread.is_alive():  # it started a statement just after the cancel: cancel again
                    self._cancel_running()
                    thread.join(timeout=0.2)
            for conn in self._connections:
                conn.close()

    def _cancel_running(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(Exception):  # best effort: the server may be gone
                conn.cancel_safe(timeout=CANCEL_TIMEOUT_S)

    def _enqueue(self, work: Work) -> None:
        """Queue `work` (the caller holds the lock, so wait() never sees it half counted)."""
        self._pending += 1
        self._queue.put(work)

    def _analyze(self, table: str) -> None:
        self._enqueue(("analyze", table, f"analyze {table}", sql.SQL("ANALYZE {}").format(sql.Identifier(table))))

    def _work(self, conn: psycopg.Connection) -> None:
        while (work := self._queue.get()) is not None:
            step, table, name, text = work
            elapsed = None
            failure = None
            if self.error is None:
                began = time.perf_counter()
                try:
                    conn.execute(text)
                    elapsed = time.perf_counter() - began
                except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
                    failure = exc
            with self._done:
                self._pending -= 1
                if failure is not None:
                    self.error = self.error or failure
                if elapsed is not None:
                    self.seconds[step] += elapsed
                    self.statement_seconds[name] = elapsed
                    if step in BUILD_STEPS:
                        self._left[table] -= 1
                        if not self._left[table]:
                            self._analyze(table)
                self._done.notify_all()
