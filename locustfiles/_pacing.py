"""The open model: iterations started at a rate, whatever the response times.

Locust paces closed-model users (each waits for its response, thinks, repeats),
so a slow server lowers the request rate and hides the slowness. An arrival-rate
scenario (k6's ramping-arrival-rate, pgbench -R) instead fixes the rate of
iteration starts. Design:

- the shape starts a fixed pool of `vus` users and keeps it;
- the process's `ArrivalPacer` lays out the schedule: start slots spaced
  1/rate(t) apart, following the scenario's rate schedule; a free user `take`s
  the next slot, sleeps until it, runs one task, and takes again (the persona
  side is locustfiles._iterations: the first iteration waits for its slot too);
- every slot of the schedule is either started or dropped, never moved: when
  every user was busy and the next slot is more than `max_lateness_s` in the
  past by the time a user frees up, that slot and every later one as late are
  dropped (k6's dropped_iterations) and counted in the `Slot` the user gets; a
  slot less late than that is started late, and its lateness is recorded (the
  raw log's `ITER start` row), never absorbed unseen. So intended iterations =
  started + dropped, exactly, and a saturated server shows up as drops and
  lateness instead of a silently slower schedule.

No extra greenlet and no queue: gevent runs one greenlet at a time, so taking a
slot is a plain attribute update. With N worker processes each paces
rate * (its users / pool size), i.e. its share of the pool the master dispatched.

The pacer never sleeps itself (it says when the slot is; Locust's wait_time does
the sleeping), so the clock is its only link to real time: tests pass a fake one
and get exact counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# Integration step for the rate schedule: a ramp is followed within this resolution.
STEP_S = 0.05


@dataclass(frozen=True)
class Slot:
    """One start slot a user took: when it is due, and the slots dropped just before it."""

    at: float | None           # seconds since the pacer's start (its clock); None: the schedule is over
    dropped: int = 0           # slots before this one that were too late to start
    dropped_from: float = 0.0  # the first of them (seconds since the pacer's start)


class ArrivalPacer:
    def __init__(self, rate_at: Callable[[float], float], share: Callable[[], float], duration_s: float,
                 max_lateness_s: float, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.rate_at = rate_at
        self.share = share
        self.duration_s = duration_s
        self.max_lateness_s = max_lateness_s  # --max-lateness
        self.clock = clock
        self.start = clock()
        # Wall-clock (epoch) time of the pacer's start: slots become raw-log timestamps through it.
        self.epoch = wall()
        self.next_slot = self._advance(0.0)  # the first iteration starts when the first token accrues
        self.started = 0
        self.dropped = 0

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

    def now(self) -> float:
        """Seconds since the pacer's start."""
        return self.clock() - self.start

    def take(self) -> Slot:
        """The caller's start slot (taken by the call); its `at` is None when the schedule is over."""
        now = self.now()
        slot, dropped, first = self.next_slot, 0, self.next_slot
        while slot < self.duration_s and now - slot > self.max_lateness_s:
            # Every user was busy: nobody could start this one in time.
            dropped += 1
            slot = self._advance(slot)
        self.dropped += dropped
        if slot >= self.duration_s:
            self.next_slot = slot
            return Slot(None, dropped, first)
        self.next_slot = self._advance(slot)
        self.started += 1
        return Slot(slot, dropped, first)

    def close(self) -> Slot:
        """The end of the load: the slots that came due and nobody took (every user busy to the end) are dropped.

        Without this, a stall at the end of a run would leave its slots neither
        started nor dropped. The schedule is over afterwards (`take` says so).
        """
        now = min(self.now(), self.duration_s)
        slot, dropped, first = self.next_slot, 0, self.next_slot
        while slot < now:
            dropped += 1
            slot = self._advance(slot)
        self.next_slot = self.duration_s
        self.dropped += dropped
        return Slot(None, dropped, first)

    def delay(self, slot: Slot) -> float:
        """Seconds until `slot` is due (0 when it is already, late but not too late).

        Past the schedule's end: longer than the rest of the run (the shape stops the user meanwhile).
        """
        if slot.at is None:
            return self.duration_s - self.now() + 60.0
        return max(slot.at - self.now(), 0.0)

    def lateness_s(self, slot: Slot) -> float:
        """How late a start now is for `slot` (>= 0; the slot must be one of the schedule)."""
        return max(self.now() - slot.at, 0.0)

    def epoch_of(self, at: float) -> float:
        """A time of the schedule (seconds since the pacer's start) as Unix epoch seconds."""
        return self.epoch + at
