"""A non-blocking concurrency limit: take a slot or be told to come back later.

Used for scraping tasks and LLM calls, which answer 429 + Retry-After when full
instead of queueing. Counted per worker process (a process serves its own
requests on one event loop, so reserve/release need no lock).
"""

from __future__ import annotations


class SlotLimit:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0

    def try_acquire(self) -> bool:
        """Take a slot now if one is free; never waits."""
        if self.in_use >= self.capacity:
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        self.in_use -= 1
