"""Who the personas log in as, and which ids they may request.

Ids are never invented: a persona requests ids it saw in its own list responses,
or ids read from the database at test start (`--database-url`). Without a
database the pool is the seed's documented pattern `user{N}@careerload.test`,
N = 1..--seed-users, and each persona learns its job ids from its first page.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from foundation.logins import SEED_EMAIL_DOMAIN, seed_email

# Per account, how many recent job ids to read: enough to spread detail reads
# over cold and cached entries without loading a power user's 10k+ ids.
JOB_IDS_PER_ACCOUNT = 50
# Accounts read from the database at most: more than any run has users.
MAX_ACCOUNTS = 5000


@dataclass
class Account:
    email: str                      # the login name: an email, or a username where the deployment takes one
    user_id: int | None = None
    job_ids: list[int] = field(default_factory=list)
    password: str | None = field(default=None, repr=False)  # None: the seeded users' shared password


class AccountsFileError(ValueError):
    """An --accounts file that cannot be used; the message names the file and the line."""


def read_accounts(path: str) -> list[Account]:
    """Accounts from a CSV file with an `email,password` (or `username,password`) header, or from JSON lines."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsFileError(f"--accounts {path}: cannot read: {exc}") from None
    accounts: list[Account] = []
    if text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise AccountsFileError(f"--accounts {path}:{number}: not a JSON object") from None
            accounts.append(_account(path, number, row if isinstance(row, dict) else {}))
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "password" not in reader.fieldnames:
            raise AccountsFileError(f"--accounts {path}: expected a CSV header with email (or username) and password")
        for number, row in enumerate(reader, 2):
            accounts.append(_account(path, number, row))
    if not accounts:
        raise AccountsFileError(f"--accounts {path}: no accounts in the file")
    return accounts


def _account(path: str, number: int, row: dict) -> Account:
    login, password = row.get("email") or row.get("username"), row.get("password")
    if not isinstance(login, str) or not login or not isinstance(password, str):
        raise AccountsFileError(f"--accounts {path}:{number}: expected an email (or username) and a password")
    user_id = row.get("user_id")
    return Account(login, int(user_id) if str(user_id or "").isdigit() else None, password=password)


class AccountPool:
    """Accounts handed out round-robin; `offset` spreads workers over different accounts."""

    def __init__(self, accounts: list[Account], offset: int = 0) -> None:
        if not accounts:
            raise ValueError("the account pool is empty: is the database seeded?")
        self.accounts = accounts
        self._next = itertools.cycle(accounts[offset % len(accounts):] + accounts[: offset % len(accounts)])

    def take(self) -> Account:
        return next(self._next)

    def foreign_job_id(self, user_id: int | None) -> int | None:
        """A job id owned by another account (for the isolation check), or None when unknown."""
        others = [a for a in random.sample(self.accounts, min(5, len(self.accounts))) if a.user_id != user_id and a.job_ids]
        return random.choice(others[0].job_ids) if others else None

    @classmethod
    def from_file(cls, path: str, offset: int = 0) -> "AccountPool":
        return cls(read_accounts(path), offset)

    @classmethod
    def from_pattern(cls, n_users: int, offset: int = 0) -> "AccountPool":
        return cls([Account(seed_email(n)) for n in range(1, n_users + 1)], offset)

    @classmethod
    def from_database(cls, database_url: str, offset: int = 0) -> "AccountPool":
        """Seeded accounts and their most recent job ids, in two queries."""
        import psycopg  # imported here: only runs that name a database need the driver

        with psycopg.connect(database_url, connect_timeout=5) as conn:
            users = conn.execute(
                "SELECT id, email FROM users WHERE is_active AND email LIKE %s ORDER BY id LIMIT %s",
                (f"user%@{SEED_EMAIL_DOMAIN}", MAX_ACCOUNTS),
            ).fetchall()
            accounts = {uid: Account(email, uid) for uid, email in users}
            rows = conn.execute(
                "SELECT user_id, id FROM (SELECT user_id, id, row_number() OVER "
                "(PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS rn FROM jobs WHERE user_id = ANY(%s)) t "
                "WHERE rn <= %s",
                (list(accounts), JOB_IDS_PER_ACCOUNT),
            ).fetchall()
        for user_id, job_id in rows:
            accounts[user_id].job_ids.append(job_id)
        return cls(list(accounts.values()), offset)
