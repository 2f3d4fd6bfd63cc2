"""Generate the seed's COPY text in a thread, ahead of the connection that sends it.

The server parses a COPY more slowly than Python formats it, so while jobs,
the largest table, is being parsed, the loader used to sit waiting for the
COPY to drain, and generated the next tables only afterwards, on the cores
that were by then busy building jobs' indexes (the full-text GIN build is the
longest statement of a seed). Generating in a thread that runs ahead, bounded
by the bytes it holds, moves that Python work into the wait: the thread holds
the GIL only while it formats, and the COPY writer and the build connections
release it while they wait on their sockets. Tables still come out in the
same order, drawn from the same stream, so the data do not change.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import TypeVar

from seed_data.copytext import Table

T = TypeVar("T")
Chunk = tuple[int, bytes]  # (rows, COPY text)
Item = Table | Chunk | BaseException | None
_END = object()  # the end of one table's chunks, or of an iterator


class Ahead:
    """A thread turning `tables` into COPY chunks, at most `limit` bytes ahead of the consumer.

    Iterate it for (table, that table's chunks), consuming each table's chunks
    before asking for the next table. A failure in the thread is raised to the
    consumer at the point it occurred. `seconds` is the thread's time spent
    generating (not waiting for room).
    """

    def __init__(self, tables: Iterator[Table], chunk_rows: int, limit: int) -> None:
        self.seconds = 0.0
        self._limit = limit
        self._items: deque[tuple[Item | object, int]] = deque()
        self._held = 0
        self._closed = False
        self._room = threading.Condition()
        self._thread = threading.Thread(target=self._produce, args=(tables, chunk_rows), daemon=True, name="seed-generate")
        self._thread.start()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[Table, Iterator[Chunk]]]:
        while (table := self._get()) is not None:
            assert isinstance(table, Table)
            yield table, self._chunks()

    def close(self) -> None:
        """Stop the thread at its next chunk and wait for it (at most one generation step)."""
        with self._room:
            self._closed = True
            self._room.notify_all()
        self._thread.join()

    def _chunks(self) -> Iterator[Chunk]:
        while (chunk := self._get()) is not _END:
            assert isinstance(chunk, tuple)
            yield chunk

    def _get(self) -> Item | object:
        with self._room:
            while not self._items:
                self._room.wait()
            item, size = self._items.popleft()
            self._held -= size
            self._room.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item

    def _put(self, item: Item | object, size: int = 0) -> bool:
        """Queue `item` once there is room (a lone item always fits); False once closed."""
        with self._room:
            while self._held and self._held + size > self._limit and not self._closed:
                self._room.wait()
            if self._closed:
                return False
            self._items.append((item, size))
            self._held += size
            self._room.notify_all()
            return True

    def _timed(self, items: Iterator[T]) -> Iterator[T]:
        while True:
            began = time.perf_counter()
            item = next(items, _END)
            self.seconds += time.perf_counter() - began
            if item is _END:
                return
            yield item  # type: ignore[misc]

    def _produce(self, tables: Iterator[Table], chunk_rows: int) -> None:
        try:
            for table in self._timed(tables):
                if not self._put(table):
                    return
                for rows, data in self._timed(table.chunks(chunk_rows)):
                    if not self._put((rows, data), len(data)):
                        return
                if not self._put(_END):
                    return
            self._put(None)
        except BaseException as exc:  # noqa: BLE001 - raised again in the consumer
            self._put(exc)
