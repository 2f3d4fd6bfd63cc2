"""The open model: iterations started at a rate, whatever the response times.

Locust paces closed-model users (each waits for its response, thinks, repeats),
so a slow server lowers the request rate and hides the slowness. An arrival-rate
scenario (k6's ramping-arrival-rate, pgbench -R) instead fixes the rate of
iteration starts. Design:

- the shape starts a fixed pool of `vus` users and keeps it;
- each user's `wait_time` asks the process's `ArrivalPacer` for the next free
  start slot; slots are spaced 1/rate(t) apart, following the scenario's rate
  schedule; a user sleeps until its slot, runs one task, and asks again;
- when every user is busy, slots fall behind the clock: a user that frees up
  later than `MAX_LATENESS_S` after its slot skips the late slots and counts them
  as dropped iterations (k6's dropped_iterations), so a saturated server shows
  up as drops instead of silently slowing the schedule.

No extra greenlet and no queue: gevent runs one greenlet at a time, so taking a
slot is a plain attribute update. With N worker processes each paces
rate * (its users / pool size), i.e. its share of the pool the master dispatched.

The pacer never sleeps itself (it returns the delay; Locust's wait_time does the
sleeping), so the clock is its only link to real time: tests pass a fake one
and get exact counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# A slot this late (seconds) counts as dropped rather than run late.
MAX_LATENESS_S = 0.1
# Integration step for the rate schedule: a ramp is followed within this resolution.
STEP_S = 0.05


class ArrivalPacer:
    def __init__(self, rate_at: Callable[[float], float], share: Callable[[], float], duration_s: float,
                 on_drop: Callable[[int], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_at = rate_at
        self.share = share
        self.duration_s = duration_s
        self.on_drop = on_drop
        self.clock = clock
        self.start = clock()
        self.next_slot = self._advance(0.0)  # the first iteration starts when the first token accrues
        self.started = 0

    def _rate(self, t: float) -> float:
        return self.rate_at(t) * self.share()

    def _advance(self, t: float) -> float:
        """The time at which one more iteration is due after t (integrating the rate over ramps)."""
        need = 1.0
        while t < self.duration_s:
            rate = self._rate(t)
            if rate > 0 and need <= rate * STEP_S:
                return t + need / rate
            need -= rate * STEP_S
            t += STEP_S
        return t

    def delay(self) -> float:
        """Seconds until the caller's start slot (the slot is taken by the call)."""
        while True:
            now = self.clock() - self.start
            slot = self.next_slot
            if slot >= self.duration_s:
                # The schedule is over: the shape stops this user long before this returns.
                return self.duration_s - now + 60.0
            if now - slot > MAX_LATENESS_S:
                # Every user was busy: the slots between then and now are iterations nobody
                # could start. Count them; this caller takes the slot due now.
                self.on_drop(max(1, int((now - slot) * self._rate(slot))))
                self.next_slot = now
                continue
            self.next_slot = self._advance(slot)
            self.started += 1
            return max(slot - now, 0.0)
