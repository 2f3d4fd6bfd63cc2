"""The capacity search as a pure state machine over step results: which load to play next, and when to stop.

    grow      start at --start, multiply by --growth after every passing step
              (capped at --max) until a step fails;
    bisect    then play the midpoint of the highest passing and the lowest
              failing load, until they are within --precision of each other
              (fail - pass <= precision x pass), or one unit apart for users;
    stop      precision reached, a passing step at --max, the first step failed
              (nothing below --start is searched: the answer is "below START"),
              or the next step would end after --budget.

No load, no clock: `next_step` reads the loads played so far (load, passed) and
the time spent, so tests drive it with made-up verdicts (cliff's capacity search
is the model: grow geometrically, then binary search). The budget is checked
before a step starts, with the most expensive step so far as the estimate of the
next one (before the first step: its warm-up plus hold), so the search never
starts a step it cannot finish within --budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FOUND, AT_MAX, NONE_PASSED, BUDGET = "precision reached", "--max reached", "the first step failed", "--budget reached"


@dataclass(frozen=True)
class SearchPlan:
    """The search's parameters, checked once: every error names the option."""

    start: float
    growth: float = 2.0
    max: float | None = None
    precision: float = 0.10
    budget_s: float | None = None
    integral: bool = False  # users: whole numbers only

    def __post_init__(self) -> None:
        if not (self.start > 0 and math.isfinite(self.start)):
            raise ValueError(f"--start: expected a positive number, got {self.start:g}")
        if self.integral and self.start != int(self.start):
            raise ValueError(f"--start: expected a whole number of users, got {self.start:g}")
        if not (self.growth > 1 and math.isfinite(self.growth)):
            raise ValueError(f"--growth: expected a factor above 1, got {self.growth:g}")
        if self.max is not None and self.max < self.start:
            raise ValueError(f"--max {self.max:g} is below --start {self.start:g}")
        if not 0 < self.precision < 1:
            raise ValueError(f"--precision: expected a fraction between 0 and 100 %, got {self.precision:g}")
        if self.budget_s is not None and self.budget_s <= 0:
            raise ValueError(f"--budget: expected a positive duration, got {self.budget_s:g} s")

    def rounded(self, load: float) -> float:
        return float(round(load)) if self.integral else round(load, 2)


@dataclass(frozen=True)
class Played:
    """One step the search has played: its offered load and whether it passed."""

    load: float
    passed: bool


def bounds(played: list[Played]) -> tuple[float | None, float | None]:
    """(highest passing load, lowest failing load above it): the bracket the capacity is in."""
    passing = [p.load for p in played if p.passed]
    best = max(passing, default=None)
    failing = [p.load for p in played if not p.passed and (best is None or p.load > best)]
    return best, min(failing, default=None)


def next_step(plan: SearchPlan, played: list[Played], elapsed_s: float = 0.0,
              step_cost_s: float = 0.0) -> tuple[float | None, str]:
    """The next load to play and "" to go on, or (None, why the search stops).

    `elapsed_s` is the time the search has spent, `step_cost_s` what the next
    step is expected to cost; with a budget, a step that would end after it is
    not started.
    """
    best, worst = bounds(played)
    if not played:
        load = plan.rounded(plan.start)
    elif best is None:
        return None, NONE_PASSED
    elif worst is None:
        if plan.max is not None and best >= plan.max:
            return None, AT_MAX
        load = plan.rounded(best * plan.growth)
        load = min(load, plan.max) if plan.max is not None else load
    else:
        if worst - best <= plan.precision * best or (plan.integral and worst - best <= 1):
            return None, FOUND
        load = plan.rounded((best + worst) / 2)
        if load in (best, worst):  # rounding leaves nothing between them
            return None, FOUND
    if plan.budget_s is not None and elapsed_s + step_cost_s > plan.budget_s:
        return None, BUDGET
    return load, ""
