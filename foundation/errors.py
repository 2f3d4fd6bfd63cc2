"""User-facing errors: what every command prints as one line and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def first_line(exc: BaseException) -> str:
    """An exception's first line (drivers like psycopg add detail lines), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# k6's exit code when a threshold failed (k6's errext/exitcodes: ThresholdsHaveFailed); `careerload run` and
# `careerload report` exit with it on FAIL under --k6-exit-codes, so CI written for k6 keeps working.
K6_THRESHOLDS_FAILED = 99
