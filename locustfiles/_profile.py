"""The run's API profile and accounts file, loaded once per process, through careerload's own listeners.

- `PROFILE.profile` is what every persona consults: the built-in `reference` until
  the options say otherwise, so importing the personas needs no options.
- At init (local runner, master) `--profile` (Locust's own option, read as the
  API profile; its web UI form has the field) is loaded: a broken file is one
  line naming the file, the field and what was expected, and exit 2. Its TOML
  text goes into `--profile-text`, which Locust sends to every worker with each
  spawn message: a worker on another host needs no copy of the user's file.
- At test start (every process) the profile is loaded again only if it changed
  (the web UI's form may name another), and the personas' task tables are
  rebuilt: a task whose operation the profile marks `absent` is left out, so
  its weight goes to the others.
- `--accounts FILE` replaces the user pool on processes that run users; each
  process reads the file itself (remote workers need it at the same path), and
  only its path and size are recorded.
- When the run ends, run.json gets a `profile` section: which profile, whether
  ownership was checked, and the operations the scenario's personas could not
  exercise on this deployment.

Registered after `_plugin` (imported below), so its test_start listener runs
after the plugin's (the pool exists before it is replaced); run.json is amended
on `quit`, which Locust fires after every `quitting` listener (those run in
reverse order).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from foundation import rundir
from locustfiles._run_state import RUN
from locustfiles._pools import AccountPool, AccountsFileError, read_accounts
from profiles.model import Profile, ProfileError, load, parse
from profiles.operations import scenario_operations

log = logging.getLogger("careerload")


class ProfileState:
    """This process's profile, and who must hear when it changes (the personas' task tables)."""

    def __init__(self) -> None:
        self.profile: Profile = load("reference")
        self.listeners: list[Callable[[Profile], None]] = []
        self.accounts: int = 0
        self.environment: Environment | None = None  # for `quit`, which Locust fires without it

    def use(self, profile: Profile) -> None:
        self.profile = profile
        for listener in self.listeners:
            listener(profile)


PROFILE = ProfileState()


def _exit(message: str) -> None:
    log.error("%s", message)
    sys.exit(2)


def _from_options(options: Any, runner: Any) -> Profile:
    """The profile the options name: the master's text on a worker, else --profile."""
    if options.profile_text and isinstance(runner, WorkerRunner):
        if options.profile_text == PROFILE.profile.text:
            return PROFILE.profile
        return parse(options.profile_text, f"the master's profile {options.profile}")
    profile = load(options.profile or "reference")  # Locust's own --profile: None when not given
    return PROFILE.profile if profile.text == PROFILE.profile.text else profile


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    PROFILE.environment = environment
    options = environment.parsed_options
    if options is None or isinstance(environment.runner, WorkerRunner):
        return  # a worker learns the profile from the master's spawn message
    try:
        PROFILE.use(_from_options(options, environment.runner))
        options.profile_text = PROFILE.profile.text
        if options.accounts and not isinstance(environment.runner, MasterRunner):
            read_accounts(options.accounts)
    except (ProfileError, AccountsFileError, ValueError) as exc:
        _exit(str(exc))


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    runner = environment.runner
    try:
        profile = _from_options(options, runner)
        if profile is not PROFILE.profile:
            PROFILE.use(profile)
        if not isinstance(runner, WorkerRunner):
            options.profile_text = PROFILE.profile.text  # what the spawn messages carry to the workers
        if options.accounts and not isinstance(runner, MasterRunner):
            offset = max(runner.worker_index, 0) * 7919  # as the plugin spreads workers over the seeded users
            RUN.pool = AccountPool.from_file(options.accounts, offset)
            PROFILE.accounts = len(RUN.pool.accounts)
    except (ProfileError, AccountsFileError, ValueError) as exc:
        log.error("%s", exc)
        runner.quit()


@events.quit.add_listener
def on_quit(**_: Any) -> None:
    """Add the profile section to run.json, which the plugin's `quitting` listener has written by now."""
    environment = PROFILE.environment
    options = environment.parsed_options if environment is not None else None
    if options is None or not options.run_dir or isinstance(environment.runner, WorkerRunner):
        return
    path = Path(options.run_dir) / rundir.RUN_JSON
    if not path.exists():
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    profile = PROFILE.profile
    used = scenario_operations(RUN.scenario.personas, profile.scraping) if RUN.scenario else []
    document["profile"] = {**profile.summary(), "not_exercised": [op for op in used if op in profile.absent()]}
    if options.accounts:
        document["accounts"] = {"file": options.accounts, "accounts": PROFILE.accounts or None}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
