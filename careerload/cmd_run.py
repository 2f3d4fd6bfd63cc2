"""`careerload run SCENARIO --host URL`: play a scenario with Locust and print its verdict.

The parser is foundation.options' table (every `run` option, its help, its
environment default); this module only adds the sections of `--help`.
"""

from __future__ import annotations

import argparse
from typing import Any

from foundation.errors import UsageError
from foundation.options import DISTRIBUTED, RUN_OPTIONS, Option

GROUP_DESCRIPTIONS = {
    DISTRIBUTED: "Locust's master/worker protocol. Remote workers run `careerload worker --master-host THIS_HOST`.",
}


def _arguments(option: Option) -> dict[str, Any]:
    if option.positional:
        return {"help": option.help}
    kwargs: dict[str, Any] = {"help": option.help, "dest": option.dest}
    if option.switch:
        kwargs["action"] = "store_true"
        return kwargs
    kwargs["default"] = option.environment_default()
    for key in ("type", "choices", "metavar"):
        if getattr(option, key) is not None:
            kwargs[key] = getattr(option, key)
    if option.required:
        kwargs["required"] = True
    return kwargs


def add_option(parser: Any, option: Option) -> None:
    """One option of the table on an argparse parser or group, as `careerload` commands spell it."""
    names = [option.dest] if option.positional else [option.flag, *option.aliases]
    parser.add_argument(*names, **_arguments(option))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    groups: dict[str | None, Any] = {None: parser}
    for option in RUN_OPTIONS:
        if option.group not in groups:
            groups[option.group] = parser.add_argument_group(option.group, GROUP_DESCRIPTIONS.get(option.group))
        add_option(groups[option.group], option)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="play a scenario against a host and print the verdict",
        description=(
            "Play a scenario (a built-in name, see `careerload scenarios`, or a .toml file) with Locust, "
            "headless by default, write the run directory, print the verdict. "
            "Exit 0 on PASS or WARN, 1 on FAIL, 2 on a usage or environment error."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from careerload.profile_check import before_run
    from careerload.run_errors import RunError
    from careerload.runner import run
    from careerload.run_options import RunOptions

    options = RunOptions(**{option.dest: getattr(args, option.dest) for option in RUN_OPTIONS})
    before_run(options.profile, options.accounts, options.scenario, options.host, options.no_profile_check)
    try:
        return run(options)
    except RunError as exc:
        raise UsageError(str(exc)) from None
