"""A persona's iterations in an arrival-rate scenario: wait for the slot, then say when it started and how late.

The pacer (locustfiles._pacing) lays out the schedule; this is the persona's
side of it, shared by every persona through the `Paced` mixin:

- `wait_time` takes the next slot from the pacer and returns the delay until it
  (Locust sleeps it, the user killable meanwhile); slots the pacer dropped on
  the way are written as one `ITER dropped` raw-log row.
- Every task is wrapped (`paced`): an iteration begins by writing its `ITER
  start` row (the slot's scheduled time, its lateness). Locust runs the first
  task straight after on_start without calling wait_time (and again after a
  task raised RescheduleTaskImmediately), so a task that finds no slot taken
  for it takes one and waits for it first: every iteration, the first one
  included, starts at its slot.
- The iteration's first request is also timed from the slot (`SCHED` row,
  written by the plugin's request listener through `first_request`): its
  latency as the schedule's user saw it, the wait for a busy pool included
  (coordinated omission).

The pseudo-rows go to the raw log only (foundation.rundir documents them):
Locust's statistics and the live window never see them. In a closed-model
scenario (no pacer) all of this is a no-op and `wait_time` is the persona's
think time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gevent
from locust.exception import RescheduleTask

from foundation import rundir
from locustfiles._pacing import ArrivalPacer, Slot
from locustfiles._run_state import RUN


class Iteration:
    """The running iteration's scheduled start (epoch s), until its first request has been timed from it.

    Shared by reference through the persona's request context (FastHttpUser copies
    the context dict for each request, not what it holds).
    """

    __slots__ = ("scheduled",)

    def __init__(self) -> None:
        self.scheduled: float | None = None


def paced(task: Callable[[Any], None]) -> Callable[[Any], None]:
    """`task` as one iteration: it begins at its slot (see the module docstring); wrapping twice is a no-op.

    A nested TaskSet class is left as it is (Locust runs it as a loop of its own tasks; no persona has one).
    """
    if getattr(task, "paced", False) or isinstance(task, type):
        return task

    @functools.wraps(task)
    def iteration(user: Any) -> None:
        user.begin_iteration()
        task(user)

    iteration.paced = True  # type: ignore[attr-defined]
    return iteration


class Paced:
    """Mixin (before the Locust user class in the bases): iterations paced by the run's ArrivalPacer, if any."""

    _slot: Slot | None = None  # the slot wait_time took and slept towards, until the task begins

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.tasks = [paced(task) for task in getattr(cls, "tasks", None) or []]

    def paced_context(self) -> dict[str, Any]:
        """The request context of a paced persona: its name (the raw log's `user`) and its Iteration."""
        return {"persona": type(self).__name__, "iteration": Iteration()}

    def think(self) -> float:
        """Seconds between two tasks in a closed-model scenario (each persona says how long)."""
        raise NotImplementedError

    def wait_time(self) -> float:
        pacer = RUN.pacer
        if pacer is None:
            return self.think()
        self._slot = self._take(pacer)
        return pacer.delay(self._slot)

    def _take(self, pacer: ArrivalPacer) -> Slot:
        slot = pacer.take()
        write_dropped(pacer, slot, self._context["persona"])
        return slot

    def begin_iteration(self) -> None:
        """The ITER start row of the iteration beginning now (after waiting for its slot when none was taken)."""
        pacer = RUN.pacer
        if pacer is None:
            return
        slot, self._slot = self._slot, None
        if slot is None:
            slot = self._take(pacer)
            gevent.sleep(pacer.delay(slot))
        if slot.at is None:
            raise RescheduleTask()  # the schedule is over: no iteration; wait_time parks the user until the end
        scheduled = pacer.epoch_of(slot.at)
        self._context["iteration"].scheduled = scheduled
        if RUN.request_log is not None:
            RUN.request_log.write(rundir.ITERATION_TYPE, rundir.ITERATION_START, pacer.lateness_s(slot) * 1000.0, 0,
                                  None, self._context["persona"], scheduled)


def write_dropped(pacer: ArrivalPacer, slot: Slot, persona: str) -> None:
    """The ITER dropped row (and run.json's counter) of the slots dropped before `slot`, if any."""
    if not slot.dropped:
        return
    RUN.count("dropped_iterations", slot.dropped)
    if RUN.request_log is not None:
        RUN.request_log.write(rundir.ITERATION_TYPE, rundir.ITERATION_DROPPED, 0.0, slot.dropped, None, persona,
                              pacer.epoch_of(slot.dropped_from))


def end_of_schedule() -> None:
    """At the end of the load: the slots that came due and nobody took, as one last ITER dropped row.

    Its `user` is empty: no persona noticed them, every user was busy until the end.
    """
    if RUN.pacer is not None:
        write_dropped(RUN.pacer, RUN.pacer.close(), "")


def first_request(context: dict[str, Any] | None, request_type: str, name: str, response_time: float,
                  response_length: int, exception: Any, start_time: float) -> None:
    """The SCHED row of a request, when it is the first of its iteration: timed from the iteration's slot."""
    iteration = context.get("iteration") if context else None
    if iteration is None or iteration.scheduled is None or request_type in rundir.NON_REQUEST_TYPES:
        return
    scheduled, iteration.scheduled = iteration.scheduled, None
    if RUN.request_log is not None:
        from_schedule = max(response_time + (start_time - scheduled) * 1000.0, response_time)
        RUN.request_log.write(rundir.SCHEDULE_TYPE, f"{request_type} {name}", from_schedule, response_length,
                              exception, context.get("persona", ""), scheduled)
