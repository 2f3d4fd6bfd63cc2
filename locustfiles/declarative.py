"""DeclarativeUser: plays a declarative persona file (scenarios.declarative), e.g. an imported k6 script.

One Locust task is one iteration of k6's default function: a task of the file,
picked by weight, its steps in order (requests, sleeps). There is no wait
between iterations (k6 has none; its think time is the `sleep` steps, scaled
by think_time_scale and --think-time-scale like every persona's), except in an
arrival-rate scenario, where the pacer decides when an iteration starts.

A request goes through Locust's client with `catch_response`, named by the
file (route template, not raw ids); a status outside `statuses` fails it with
the check names it came from, as a broken contract fails the other personas'
requests. There is no login: a k6 script sends its own headers.

The scenario's `persona_file` is read at the first iteration in each process
(workers included: the file must be where the scenario says on every machine).
"""

from __future__ import annotations

import random
from typing import Any

import gevent

from locustfiles._run_state import RUN
from locustfiles.common import CareerUser
from scenarios.declarative import Persona, Request, Task, read_persona

_LOADED: dict[str, Persona] = {}


def _persona() -> Persona:
    path = RUN.scenario.persona_file if RUN.scenario is not None else None
    if path is None:
        raise RuntimeError("DeclarativeUser needs a scenario with persona_file")
    if str(path) not in _LOADED:
        _LOADED[str(path)] = read_persona(path)
    return _LOADED[str(path)]


class DeclarativeUser(CareerUser):
    think_time = (0.0, 0.0)  # k6 scripts sleep inside the iteration (Sleep steps)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        persona = _persona()
        self._tasks: tuple[Task, ...] = persona.tasks
        self._weights = [task.weight for task in persona.tasks]

    def on_start(self) -> None:
        if RUN.pacer is not None:
            gevent.sleep(RUN.pacer.delay())  # the first iteration waits for its slot too

    def iteration(self) -> None:
        task = random.choices(self._tasks, self._weights)[0] if len(self._tasks) > 1 else self._tasks[0]
        for step in task.steps:
            if isinstance(step, Request):
                self.request(step)
            elif step.high > 0:
                gevent.sleep(random.uniform(step.low, step.high) * self.think_scale())

    def think_scale(self) -> float:
        """The scenario's think_time_scale times --think-time-scale: the k6 sleeps are this persona's think time."""
        options = self.environment.parsed_options
        return (RUN.scenario.think_time_scale if RUN.scenario else 1.0) * (options.think_time_scale if options else 1.0)

    def request(self, step: Request) -> None:
        with self.client.request(step.method, step.path, name=step.name, headers=dict(step.headers) or None,
                                 data=step.body.encode() if step.body is not None else None,
                                 catch_response=True) as resp:
            if resp.status_code in step.statuses:
                resp.success()
            else:
                why = f" ({', '.join(step.checks)})" if step.checks else ""
                resp.failure(f"HTTP {resp.status_code}, expected {_statuses(step.statuses)}{why}")

    tasks = [iteration]


def _statuses(statuses: tuple[int, ...]) -> str:
    if len(statuses) > 3 and list(statuses) == list(range(statuses[0], statuses[-1] + 1)):
        return f"{statuses[0]}-{statuses[-1]}"
    return "/".join(map(str, statuses))
