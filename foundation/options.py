"""The run's options, each defined once: flag, type, default, environment variable, help, where it applies.

One table, three readers:

- `careerload run`'s parser (careerload.cmd_run) adds every option with `run`;
  an `env` variable is its default there too (command line, then environment,
  then the default, as Locust's own options resolve).
- Locust's parser, through the plugin's `init_command_line_parser` listener
  (locustfiles._options), adds every option with `locust` (but those Locust
  defines itself, `locust_defines`), with its `env_var`,
  `include_in_web_ui` (`web_ui`) and `is_secret`. So `locust -f locustfiles` and
  `careerload run` take the same options, and workers get them with every spawn.
- `RunOptions` (careerload.run_options) is a dataclass generated from the `run`
  options; `careerload run` hands each option that has both `run` and `locust` to
  its Locust child: on the command line, or through its environment variable
  when it is a secret (so `ps` never shows a password).

Stdlib only: a Locust worker reads this table without the command line's imports.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.logins import DEFAULT_PASSWORD, PASSWORD_ENV
from foundation.rundir import REQUEST_LOG_FORMATS


def worker_count(text: str) -> int:
    """`--workers`/`--processes`: a number, or `auto` for one per core (os.cpu_count())."""
    if text == "auto":
        return os.cpu_count() or 1
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None


@dataclass(frozen=True)
class Option:
    """One option of a run; see the module docstring for who reads which field."""

    dest: str
    help: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    env: str | None = None
    metavar: str | None = None
    switch: bool = False           # present on the command line = True
    secret: bool = False           # never in argv or run.json: passed by environment, recorded as given or not
    web_ui: bool = False           # shown in Locust's web UI start form
    run: bool = True               # `careerload run` takes it
    locust: bool = False           # Locust's parser (the plugin) takes it; its value must be a plain str, int,
                                   # float or bool: Locust sends the options to workers in msgpack spawn messages
    positional: bool = False       # a positional argument of `careerload run` (an option on Locust's parser)
    aliases: tuple[str, ...] = ()  # further spellings on `careerload run`
    group: str | None = None       # the section of `careerload run --help`
    required: bool = False         # `careerload run` cannot do without it
    locust_defines: bool = False   # Locust's own parser already has it (and its web UI field): not added again

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")

    def environment_default(self, environ: dict[str, str] | os._Environ = os.environ) -> Any:
        """The default after the environment: $env converted by `type`, else `default`."""
        if self.env and self.env in environ and not self.switch:
            raw = environ[self.env]
            return self.type(raw) if self.type else raw
        return self.default

    def locust_argv(self, value: Any) -> list[str]:
        """How `careerload run` passes `value` to its Locust child on the command line ([] for secrets)."""
        if self.secret or value is None:
            return []
        if self.switch:
            return [self.flag] if value else []
        return [self.flag, repr(value) if isinstance(value, float) else str(value)]


DISTRIBUTED = "distributed runs"

OPTIONS: tuple[Option, ...] = (
    # --- what plays, against what
    # A built-in name or a file, on both command lines: the web UI's picker lists the built-ins and the file given.
    Option("scenario", "the scenario to play (shape, personas, thresholds): a built-in name or a path to a scenario "
           ".toml file", default="smoke", env="CAREERLOAD_SCENARIO", web_ui=True, locust=True, positional=True),
    Option("host", "base URL of the backend, e.g. http://127.0.0.1:8000", required=True),
    # --- the deployment's dialect and accounts (profiles/, locustfiles/_profile.py)
    # Locust has its own --profile (a label grouping test runs, a field of its web UI form): careerload
    # reads that same option as the API profile, so `locust -f locustfiles --profile X` and the form take it.
    Option("profile", "the deployment's API profile (routes, pagination, auth, statuses): a built-in name "
           "(reference, career-copilot) or a profile .toml file; default reference", default="reference",
           env="CAREERLOAD_PROFILE", metavar="NAME|FILE", locust=True, locust_defines=True),
    Option("profile_text", "The profile's TOML text, filled in by the master for its workers (a worker on "
           "another host has no copy of the file); leave it empty.", default="", run=False, locust=True),
    Option("accounts", "log in as the accounts of this file (CSV with an email,password header, or JSON lines "
           "with email and password) instead of the seeded users; each user its own account until all are used",
           default="", env="CAREERLOAD_ACCOUNTS", metavar="FILE", web_ui=True, locust=True),
    Option("no_profile_check", "start the load even when the target's OpenAPI document does not match the "
           "profile", default=False, switch=True),
    # --- how it plays
    Option("time_scale", "multiply every duration of the scenario (0.1 plays it ten times faster); default 1",
           default=1.0, type=float, env="CAREERLOAD_TIME_SCALE", metavar="F", web_ui=True, locust=True),
    Option("peak_users", "rescale the scenario so its peak is N users (arrival rate: the pool size); "
           "0 keeps the file's", default=0, type=int, env="CAREERLOAD_PEAK_USERS", metavar="N", web_ui=True,
           locust=True, aliases=("--users",)),
    Option("think_time_scale", "multiply the personas' think times (0 = none); default 1", default=1.0, type=float,
           env="CAREERLOAD_THINK_TIME_SCALE", metavar="F", web_ui=True, locust=True),
    Option("seed_users", "without --database-url: log in as user1..userN@careerload.test; default 100", default=100,
           type=int, env="CAREERLOAD_SEED_USERS", metavar="N", web_ui=True, locust=True),
    Option("seed_password", "the seeded users' shared password", default=DEFAULT_PASSWORD,
           env=PASSWORD_ENV, secret=True, web_ui=True, run=False, locust=True),
    Option("database_url", "PostgreSQL URL: user and job id pools are read from it, and DatabaseUser queries it "
           "(default $DATABASE_URL)", default="", env="DATABASE_URL", secret=True, web_ui=True, locust=True),
    Option("redis_url", "Redis URL: snapshot INFO stats (hits, misses, evictions, memory) during the run "
           "(default $REDIS_URL)", default="", env="REDIS_URL", secret=True),
    Option("snapshot_interval", "seconds between server-side snapshots (Redis, pg_stat_statements, backend "
           "process); default 5", default=5.0, type=float, metavar="S"),
    Option("max_lateness", "arrival-rate scenarios: how late (seconds) an iteration may start after its slot "
           "before the slot is dropped instead; every start's lateness is logged either way; default 0.1",
           default=0.1, type=float, env="CAREERLOAD_MAX_LATENESS", metavar="S", web_ui=True, locust=True),
    # --- where the results go, how it is watched
    Option("live_window", "abort_on_fail thresholds are judged live over the requests of the last S seconds; "
           "default 30", default=30.0, type=float, env="CAREERLOAD_LIVE_WINDOW", metavar="S",
           web_ui=True, locust=True),
    Option("out", "run directory; default results/<scenario>-<UTC timestamp>", type=Path, metavar="DIR"),
    Option("k6_exit_codes", "exit as k6 does: 99 when a threshold fails (instead of 1), for CI written for k6",
           default=False, switch=True),
    Option("run_dir", "Write the raw request log and run.json into this run directory.", default="",
           env="CAREERLOAD_RUN_DIR", run=False, locust=True),
    Option("status_line", "Print a one-line live status every second (used by `careerload run`).", default=False,
           switch=True, run=False, locust=True),
    Option("web", "Locust's web UI instead of headless, scenario preselected", default=False, switch=True),
    Option("web_port", "port of the web UI; default 8089", default=8089, type=int),
    Option("web_host", "interface of the web UI; default 127.0.0.1. Any other (0.0.0.0 in a container or on a VM) "
           "needs --web-login", default="127.0.0.1"),
    Option("web_login", "protect the web UI with Locust's login page: user --web-user, password "
           "$CAREERLOAD_WEB_PASSWORD", default=False, switch=True),
    Option("web_user", "the web UI's login name (with --web-login); default careerload", default="careerload",
           env="CAREERLOAD_WEB_USER", locust=True),
    Option("web_password", "the web UI's login password (with --web-login)", default="", env="CAREERLOAD_WEB_PASSWORD",
           secret=True, locust=True),
    # --- distributed runs
    Option("workers", "run a Locust master plus N local worker processes (auto: one per core); default 0 "
           "(one process)", default=0, type=worker_count, metavar="N|auto", group=DISTRIBUTED),
    Option("master", "be a Locust master even without --workers or --expect-workers (web UI with workers that "
           "come and go, as in docker-compose.loadtest.yml)", default=False, switch=True, group=DISTRIBUTED),
    Option("expect_workers", "wait for N workers in all (local --workers plus remote ones) before starting the "
           "shape; default: the --workers count", type=int, metavar="N", group=DISTRIBUTED),
    Option("expect_workers_timeout", "give up (exit 2, one line) when the workers have not all connected within "
           "S seconds; default 60", default=60.0, type=float, metavar="S", group=DISTRIBUTED),
    Option("master_bind_host", "interface the master listens on for workers; default 127.0.0.1 (local workers "
           "only). 0.0.0.0 for workers on other hosts: open --master-port to them, and only to them",
           default="127.0.0.1", group=DISTRIBUTED),
    Option("master_port", "TCP port for workers; default 5557 when remote workers are expected, otherwise a free "
           "port", type=int, metavar="P", group=DISTRIBUTED),
    Option("on_worker_loss", "a worker lost mid-run (no heartbeat, or quit): carry on with the others (default) "
           "or stop the run (report written, then exit 2); either way run.json and the report name it",
           default="continue", choices=("continue", "stop"), env="CAREERLOAD_ON_WORKER_LOSS", locust=True,
           group=DISTRIBUTED),
    Option("request_log_to", "On a worker: send the raw request rows to the master (default; works across "
           "hosts), or write them into the run directory directly (workers that share the master's file system).",
           default="master", choices=("master", "run-dir"), env="CAREERLOAD_REQUEST_LOG_TO", run=False,
           locust=True),
    Option("request_log_format", "The raw request log's format: parquet (compressed columnar segments, about 4-12 "
           "bytes a request; read out of core by the analysis) or csv (one text line a request, about 90 bytes; "
           "what run directories held before). Rows shipped to the master are always Parquet.",
           default="parquet", choices=REQUEST_LOG_FORMATS, env="CAREERLOAD_REQUEST_LOG_FORMAT", locust=True),
    Option("unsent_dir", "On a worker sending its rows to the master: where rows the master never confirmed (it "
           "died) are kept, as DIR/<run>/requests/<worker>-<n>.parquet, to copy into the master's run directory's "
           "requests/; default results", default="results", env="CAREERLOAD_UNSENT_DIR", metavar="DIR", run=False,
           locust=True),
)

BY_DEST = {option.dest: option for option in OPTIONS}
RUN_OPTIONS = tuple(option for option in OPTIONS if option.run)
LOCUST_OPTIONS = tuple(option for option in OPTIONS if option.locust)
# Options `careerload run` takes and hands on to its Locust child as they are (the scenario it resolves first).
PASSED_TO_LOCUST = tuple(option for option in OPTIONS if option.run and option.locust and not option.positional)
