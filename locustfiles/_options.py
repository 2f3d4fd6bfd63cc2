"""careerload's own Locust options: foundation.options' table, on Locust's parser.

Registered through Locust's `init_command_line_parser` event, so they work the same
under `locust -f locustfiles` and `careerload run` (which passes them through),
reach workers with every spawn message, and (where `web_ui`) appear in the web
UI's start form: `--scenario` becomes the scenario picker. Each option's flag,
type, default, environment variable and help are the table's; only the
scenario picker's choices, the built-in scenario files, are added here.
"""

from __future__ import annotations

from typing import Any

from locust import events

from foundation.options import LOCUST_OPTIONS, Option
from scenarios.loader import builtin_names


def _arguments(option: Option) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"default": option.default, "help": option.help[:1].upper() + option.help[1:],
                              "include_in_web_ui": option.web_ui}
    if option.switch:
        kwargs["action"] = "store_true"
    elif option.type is not None:
        kwargs["type"] = option.type
    if option.env:
        kwargs["env_var"] = option.env
    if option.secret:
        kwargs["is_secret"] = True
    choices = builtin_names() if option.dest == "scenario" else option.choices
    if choices:
        kwargs["choices"] = choices
    return kwargs


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    # Straight on the parser: Locust's web UI reads include_in_web_ui/is_secret from
    # its own add_argument, which argument groups do not go through.
    for option in LOCUST_OPTIONS:
        if option.locust_defines:
            continue
        parser.add_argument(option.flag, **_arguments(option))
