"""`careerload scenarios`: the built-in scenarios, one line each."""

from __future__ import annotations

import argparse

from foundation.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios: name, shape, peak, duration and the question each answers.",
    )
    parser.set_defaults(func=main)


def describe(name: str) -> str:
    from scenarios.loader import load_scenario

    s = load_scenario(name)
    peak = f"{s.vus} users at up to {max(st.target for st in s.stages):g} it/s" if s.kind == "arrival" else f"{s.peak_users} users"
    minutes = s.duration_s / 60
    return f"{s.name:<9} {s.kind:<8} {peak:<24} {minutes:>6.1f} min  {s.question}"


def main(args: argparse.Namespace) -> int:
    from scenarios.loader import builtin_names
    from scenarios.thresholds import ScenarioError

    try:
        for name in builtin_names():
            print(describe(name))
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None
    return 0
