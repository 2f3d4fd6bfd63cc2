"""`careerload up`: the embedded stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from careerload.stack import Stack


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "up",
        help="start PostgreSQL, Redis and the reference backend on loopback until Ctrl-C",
        description=(
            "Start the embedded stack (PostgreSQL with pg_stat_statements, Redis, the reference backend) "
            "on 127.0.0.1, print DATABASE_URL=, REDIS_URL= and TARGET_URL= lines once all are healthy, "
            "and stop everything on Ctrl-C or SIGTERM. DATABASE_URL / REDIS_URL in the environment "
            "mean: use those servers instead of starting new ones."
        ),
    )
    add_stack_options(parser)
    parser.set_defaults(func=run)


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that starts the embedded stack (up, demo)."""
    parser.add_argument("--pg-port", type=int, help="PostgreSQL port (default: a free one)")
    parser.add_argument("--redis-port", type=int, help="Redis port (default: a free one)")
    parser.add_argument("--port", type=int, help="reference backend port (default: a free one)")
    parser.add_argument("--target-workers", type=int, default=1, metavar="N",
                        help="uvicorn worker processes for the reference backend (default: 1)")


def stack_from_args(args: argparse.Namespace) -> Stack:
    return Stack(pg_port=args.pg_port, redis_port=args.redis_port, target_port=args.port,
                 target_workers=args.target_workers)


def run(args: argparse.Namespace) -> int:
    stopped = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with stack_from_args(args) as stack:
            stack.describe(sys.stdout)
            print("careerload: stack ready; Ctrl-C stops it", file=sys.stderr, flush=True)
            while not stopped.wait(0.5):
                for child in stack.children.values():
                    child.check_alive()
        print("careerload: stack stopped", file=sys.stderr)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
