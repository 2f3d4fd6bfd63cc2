"""`careerload capacity SCENARIO --host URL`: the highest load that still meets the critical thresholds.

The options a step shares with `careerload run` (host, profile, accounts,
database and Redis URLs, snapshots, local and remote workers) are the option
table's own (foundation.options), added here as `careerload run` adds them;
those that would contradict a search (a time scale, a user count, the web UI,
the run directory) are left out. The search's own options are defined here.
"""

from __future__ import annotations

import argparse
from typing import Any

from careerload.cmd_run import GROUP_DESCRIPTIONS, add_option
from foundation.errors import UsageError
from foundation.options import RUN_OPTIONS

# Run options a capacity search sets itself, per step (the step's scenario file and directory) or not at all.
NOT_FOR_CAPACITY = ("time_scale", "peak_users", "out", "web", "web_port", "web_host", "web_login", "web_user",
                    "web_password")
RUN_OPTIONS_TAKEN = tuple(option for option in RUN_OPTIONS if option.dest not in NOT_FOR_CAPACITY)
SEARCH = "capacity search"


def percentage(text: str) -> float:
    """`10%` or `0.1` -> 0.1."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage like 10% or a fraction like 0.1, got {text!r}") from None


def duration(text: str) -> float:
    from scenarios.thresholds import ScenarioError, parse_duration

    try:
        return parse_duration(text, "duration")
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("duration: ")) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "capacity",
        help="find the highest load that still meets the scenario's critical thresholds",
        description=(
            "Play steps of rising load with the scenario's personas and weights (each a warm-up and a hold, judged "
            "on the hold by the scenario's critical thresholds plus saturation signals: drops, errors, throughput "
            "that stops following offered load): grow by --growth until a step fails, then bisect to --precision. "
            "Writes capacity.json, capacity.md, capacity.html and one run directory per step. Exit 0 when a "
            "capacity was found (at least --require), 1 when below --require or no step passed, 2 on a usage or "
            "environment error."
        ),
    )
    groups: dict[str | None, Any] = {None: parser}
    for option in RUN_OPTIONS_TAKEN:
        if option.group not in groups:
            groups[option.group] = parser.add_argument_group(option.group, GROUP_DESCRIPTIONS.get(option.group))
        add_option(groups[option.group], option)
    search = parser.add_argument_group(SEARCH)
    search.add_argument("--by", choices=("rate", "users"), default="rate",
                        help="offered load as an arrival rate (iterations/s, an open model: the default) or as "
                             "closed-model users")
    search.add_argument("--start", type=float, default=10.0, metavar="N", help="the first step's load; default 10")
    search.add_argument("--max", type=float, metavar="N", help="never offer more than N (a passing step at N ends "
                                                              "the search)")
    search.add_argument("--growth", type=float, default=2.0, metavar="F",
                        help="multiply the load by F after each passing step until one fails; default 2")
    search.add_argument("--precision", type=percentage, default=0.10, metavar="P",
                        help="bisect until the lowest failing load is within P of the highest passing one; "
                             "default 10%%")
    search.add_argument("--warmup", type=duration, default=15.0, metavar="D",
                        help="each step's warm-up (ramp to its load), not judged; default 15s")
    search.add_argument("--hold", type=duration, default=60.0, metavar="D",
                        help="each step's judged span at its load; default 60s")
    search.add_argument("--budget", type=duration, metavar="D",
                        help="start no step that would end after D (e.g. 30m); default no limit")
    search.add_argument("--require", type=float, metavar="N",
                        help="exit 1 unless the capacity found is at least N (\"we must sustain 500 users\")")
    search.add_argument("--pool-seconds", type=float, default=1.0, metavar="S",
                        help="--by rate: each step starts ceil(rate x S) users, enough for iterations lasting up "
                             "to S seconds; default 1")
    search.add_argument("--out", metavar="DIR",
                        help="the capacity directory; default results/capacity-<scenario>-<UTC timestamp>")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from careerload.capacity import CapacityOptions, run_capacity
    from careerload.capacity_search import SearchPlan
    from careerload.run_options import RunOptions

    try:
        plan = SearchPlan(start=args.start, growth=args.growth, max=args.max, precision=args.precision,
                          budget_s=args.budget, integral=args.by == "users")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name in ("warmup", "hold"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name}: expected a positive duration, got {getattr(args, name):g} s")
    if args.budget is not None and args.budget < args.warmup + args.hold:
        raise UsageError(f"--budget {args.budget:g} s is shorter than one step (--warmup {args.warmup:g} s + "
                         f"--hold {args.hold:g} s)")
    if args.pool_seconds <= 0:
        raise UsageError(f"--pool-seconds: expected a positive number of seconds, got {args.pool_seconds:g}")
    options = RunOptions(**{option.dest: getattr(args, option.dest) for option in RUN_OPTIONS_TAKEN})
    capacity = CapacityOptions(by=args.by, plan=plan, warmup_s=args.warmup, hold_s=args.hold,
                               pool_seconds=args.pool_seconds, require=args.require,
                               out=Path(args.out) if args.out else None)
    return run_capacity(options, capacity)
