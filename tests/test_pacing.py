"""The arrival pacer with a fake clock: its slots, drops and lateness are then exact, on any machine."""

from __future__ import annotations

import heapq
import random

import pytest

from locustfiles._pacing import ArrivalPacer


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pacer(clock: FakeClock, rate: float = 40.0, duration_s: float = 1.0, max_lateness_s: float = 0.1) -> ArrivalPacer:
    return ArrivalPacer(lambda t: rate, lambda: 1.0, duration_s, max_lateness_s, clock=clock, wall=lambda: 5000.0)


def test_a_free_caller_starts_every_slot_of_the_schedule_on_time() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    starts = []
    while (slot := paced.take()).at is not None:
        clock.now += paced.delay(slot)  # a caller that sleeps exactly its delay and finishes at once
        assert paced.lateness_s(slot) == pytest.approx(0.0, abs=1e-9) and slot.dropped == 0
        starts.append(round(clock.now - 1000.0, 6))
    # 40/s over 1 s: slots every 25 ms, the first after one token accrues, the one at 1.0 s is past the end
    assert starts == [round(0.025 * k, 6) for k in range(1, 40)]
    assert paced.started == 39 and paced.dropped == 0
    assert paced.delay(slot) > 1.0  # past the schedule's end the caller is parked beyond the run's end


def test_slots_later_than_max_lateness_are_dropped_the_others_start_late_and_say_so() -> None:
    clock = FakeClock()
    paced = pacer(clock, duration_s=5.0)
    clock.now += 0.51  # every user was busy for 0.51 s
    slot = paced.take()
    # the slots at 25..400 ms are more than 100 ms late: dropped, counted from the first; 425 ms starts, 85 ms late
    assert (slot.dropped, slot.dropped_from, slot.at) == (16, pytest.approx(0.025), pytest.approx(0.425))
    assert paced.delay(slot) == 0.0 and paced.lateness_s(slot) == pytest.approx(0.085)
    assert paced.epoch_of(slot.at) == pytest.approx(5000.425)  # slots become raw-log timestamps
    # the schedule keeps its phase: the next slot is the next one of the schedule, late too, not dropped
    follower = paced.take()
    assert follower.at == pytest.approx(0.45) and follower.dropped == 0
    assert paced.lateness_s(follower) == pytest.approx(0.06)


def test_with_max_lateness_zero_a_late_slot_is_always_dropped() -> None:
    clock = FakeClock()
    paced = pacer(clock, max_lateness_s=0.0)
    clock.now += 0.03
    slot = paced.take()
    assert (slot.dropped, slot.at) == (1, pytest.approx(0.05))


def test_every_slot_is_started_or_dropped_whatever_the_service_times() -> None:
    """A pool of users, some requests slow (a stalling server): intended = started + dropped, exactly."""
    clock = FakeClock()
    paced = pacer(clock, rate=100.0, duration_s=3.0)
    rng = random.Random(7)
    free_at = [(1000.0, user) for user in range(4)]  # when each user next asks for a slot
    late = []
    while free_at:
        clock.now, user = heapq.heappop(free_at)
        slot = paced.take()
        if slot.at is None:
            continue
        clock.now += paced.delay(slot)
        late.append(paced.lateness_s(slot))
        busy = rng.choice((0.005, 0.01, 0.02, 0.5))  # now and then a slow one: slots pile up behind it
        heapq.heappush(free_at, (clock.now + busy, user))
    schedule, intended = pacer(FakeClock(), rate=100.0, duration_s=3.0), 0  # the same schedule, always on time
    while schedule.take().at is not None:
        intended += 1
    assert intended == pytest.approx(300, abs=1)  # a slot every 10 ms (float sums decide the one at 3.0 s)
    assert paced.dropped > 0 and paced.started + paced.dropped == intended
    assert paced.started == len(late) and max(late) <= 0.1 + 1e-9 and max(late) > 0


def test_slots_nobody_took_by_the_end_of_the_load_are_dropped_when_it_ends() -> None:
    clock = FakeClock()
    paced = pacer(clock, duration_s=5.0)
    paced.take()  # 25 ms; then every user is busy until the load ends at 1.01 s
    clock.now += 1.01
    end = paced.close()
    assert (end.at, end.dropped, end.dropped_from) == (None, 39, pytest.approx(0.05))  # 50 ms .. 1000 ms
    assert paced.started + paced.dropped == 40 and paced.take().at is None
