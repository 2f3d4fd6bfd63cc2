"""The one LoadTestShape that plays every scenario file.

Locust asks the shape once a second for (users, spawn rate, user classes); the
answer comes from the scenario (`Scenario.tick`), read from the options at each
test start, so the web UI's scenario picker and `--time-scale` take effect
per test. Persona weights from the scenario become the user classes' `weight`,
and only the scenario's personas are spawned. An arrival-rate scenario gets a
constant pool of users here; `locustfiles._pacing` paces their iterations.
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape, User

from scenarios.loader import Scenario, load_scenario


def scenario_from_options(options: Any) -> Scenario:
    """The scenario named by careerload's Locust options, scaled by --time-scale and --peak-users."""
    source = getattr(options, "scenario", "smoke")
    users = getattr(options, "peak_users", 0) or None
    return load_scenario(source).scaled(float(getattr(options, "time_scale", 1.0)), users)


def apply_weights(user_classes: list[type[User]], weights: dict[str, int]) -> list[type[User]]:
    """Set each persona's weight from the scenario; return the classes that take part."""
    chosen = []
    for user_class in user_classes:
        weight = weights.get(user_class.__name__, 0)
        if weight > 0:
            user_class.weight = weight
            chosen.append(user_class)
    missing = set(weights) - {c.__name__ for c in chosen} - {n for n, w in weights.items() if w == 0}
    if missing:
        raise RuntimeError(f"scenario personas not found among the loaded user classes: {', '.join(sorted(missing))}")
    return chosen


class ScenarioShape(LoadTestShape):
    scenario: Scenario | None = None
    user_classes: list[type[User]] = []

    def reset_time(self) -> None:
        super().reset_time()
        environment = self.runner.environment
        self.scenario = scenario_from_options(environment.parsed_options)
        self.user_classes = apply_weights(environment.user_classes, self.scenario.personas)

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        if self.scenario is None:
            self.reset_time()
        result = self.scenario.tick(self.get_run_time())
        if result is None:
            return None
        users, spawn_rate = result
        return users, spawn_rate, self.user_classes
