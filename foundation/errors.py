"""User-facing errors: what every command prints as one line and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def first_line(exc: BaseException) -> str:
    """An exception's first line (drivers like psycopg add detail lines), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
