"""careerload's own Locust options, defined once: command line, environment, config file.

Registered through Locust's `init_command_line_parser` event, so they work the same
under `locust -f locustfiles` and `careerload run` (which passes them through),
reach workers with every spawn message, and (where `include_in_web_ui`) appear in
the web UI's start form: `--scenario` becomes the scenario picker.
"""

from __future__ import annotations

from typing import Any

from locust import events

from scenarios.loader import builtin_names
from foundation.logins import DEFAULT_PASSWORD, PASSWORD_ENV

DEFAULT_SEED_USERS = 100


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    # Straight on the parser: Locust's web UI reads include_in_web_ui/is_secret from
    # its own add_argument, which argument groups do not go through.
    group = parser
    group.add_argument(
        "--scenario", choices=builtin_names(), default="smoke", env_var="CAREERLOAD_SCENARIO",
        help="Built-in scenario to play (shape, personas, thresholds). Default: smoke.",
    )
    group.add_argument(
        "--scenario-file", default="", env_var="CAREERLOAD_SCENARIO_FILE", include_in_web_ui=False,
        help="Path to a scenario .toml file; overrides --scenario.",
    )
    group.add_argument(
        "--time-scale", type=float, default=1.0, env_var="CAREERLOAD_TIME_SCALE",
        help="Multiply every duration of the scenario (0.1 plays it ten times faster).",
    )
    group.add_argument(
        "--peak-users", type=int, default=0, env_var="CAREERLOAD_PEAK_USERS",
        help="Rescale the scenario so its peak is this many users (arrival-rate: the pool size). 0 keeps the file's.",
    )
    group.add_argument(
        "--think-time-scale", type=float, default=1.0, env_var="CAREERLOAD_THINK_TIME_SCALE",
        help="Multiply the personas' think times (0 = no think time).",
    )
    group.add_argument(
        "--seed-users", type=int, default=DEFAULT_SEED_USERS, env_var="CAREERLOAD_SEED_USERS",
        help="Without --database-url: log in as user1..userN@careerload.test.",
    )
    group.add_argument(
        "--seed-password", default=DEFAULT_PASSWORD, env_var=PASSWORD_ENV, is_secret=True,
        help="The seeded users' shared password.",
    )
    group.add_argument(
        "--database-url", default="", env_var="DATABASE_URL", is_secret=True,
        help="PostgreSQL URL: user and job id pools are read from it, and DatabaseUser queries it.",
    )
    group.add_argument(
        "--run-dir", default="", env_var="CAREERLOAD_RUN_DIR", include_in_web_ui=False,
        help="Write the raw request log and run.json into this run directory.",
    )
    group.add_argument(
        "--status-line", action="store_true", default=False, include_in_web_ui=False,
        help="Print a one-line live status every second (used by `careerload run`).",
    )
    # Distributed runs (see the "workers" section of locustfiles._plugin).
    group.add_argument(
        "--on-worker-loss", choices=("continue", "stop"), default="continue", env_var="CAREERLOAD_ON_WORKER_LOSS",
        include_in_web_ui=False,
        help="On the master: a worker lost mid-run (no heartbeat, or quit): carry on with the others, or stop.",
    )
    group.add_argument(
        "--request-log-to", choices=("master", "run-dir"), default="master", env_var="CAREERLOAD_REQUEST_LOG_TO",
        include_in_web_ui=False,
        help="On a worker: send the raw request rows to the master (default; works across hosts), or write them "
             "into the run directory directly (workers that share the master's file system).",
    )
