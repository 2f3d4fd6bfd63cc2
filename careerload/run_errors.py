"""How `careerload run` fails: both exit 2, one line (cmd_run turns them into a UsageError).
"""

from __future__ import annotations


class RunError(Exception):
    """An environment or usage problem found before or while starting the run (exit 2)."""


class MasterLost(RunError):
    """The Locust master died after the load started; the message says how (exit 2, after a partial report)."""
