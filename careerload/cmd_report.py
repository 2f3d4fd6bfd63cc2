"""`careerload report RUN_DIR`: turn a run directory into a verdict and its reports (see analysis.cli)."""

from __future__ import annotations

import argparse

from analysis import cli

HELP = "analyse a run directory: verdict, summary.json, report.html/.md, junit.xml, charts"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help=HELP, description=cli.__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_arguments(parser)
    parser.set_defaults(func=cli.run)
