"""careerload's own Locust options: foundation.options' table, on Locust's parser.

Registered through Locust's `init_command_line_parser` event, so they work the same
under `locust -f locustfiles` and `careerload run` (which passes them through),
reach workers with every spawn message, and (where `web_ui`) appear in the web
UI's start form. Each option's flag, type, default, environment variable and help
are the table's. `--scenario` takes a built-in name or a file, so it has no
argparse choices: the web UI's picker gets its list from locustfiles._web_ui, and
a wrong name ends the run at init with one line.

One of Locust's own defaults changes here: the web UI binds 127.0.0.1 unless
told otherwise (Locust's default is every interface), because anything else
must come with a login (locustfiles._web_ui refuses it without --web-login).
"""

from __future__ import annotations

import math
from typing import Any

from locust import events

from foundation.options import LOCUST_OPTIONS, Option
from foundation.processes import LOOPBACK


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
    if option.choices:
        kwargs["choices"] = option.choices
    return kwargs


def option_errors(options: Any) -> list[str]:
    """What is wrong with values argparse cannot check here (Locust's parser takes plain types only)."""
    errors = []
    if not 0 <= options.max_lateness < math.inf:
        errors.append(f"--max-lateness: expected a number of seconds >= 0, got {options.max_lateness!r}")
    if not 0 < options.live_window < math.inf:
        errors.append(f"--live-window: expected a number of seconds > 0, got {options.live_window!r}")
    return errors


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    # Straight on the parser: Locust's web UI reads include_in_web_ui/is_secret from
    # its own add_argument, which argument groups do not go through.
    for option in LOCUST_OPTIONS:
        if option.locust_defines:
            continue
        parser.add_argument(option.flag, **_arguments(option))
    parser.set_defaults(web_host=LOOPBACK)
