"""Entry point for `locust -f locustfiles --scenario NAME`.

Locust imports every module in this directory whose name does not start with
"_": the personas (one per module) and this file, which exposes the one shape
class that plays the scenario named by `--scenario` (a picker in the web UI),
and loads careerload's listeners (options, raw request log, live thresholds,
run.json). Helpers that must be imported exactly once start with "_".
"""

from locustfiles import _plugin  # noqa: F401  (registers options and listeners)
from scenarios.shape import ScenarioShape

__all__ = ["ScenarioShape"]
