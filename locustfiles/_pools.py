"""Who the personas log in as, and which ids they may request.

Ids are never invented: a persona requests ids it saw in its own list responses,
or ids read from the database at test start (`--database-url`). Without a
database the pool is the seed's documented pattern `user{N}@careerload.test`,
N = 1..--seed-users, and each persona learns its job ids from its first page.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from foundation.logins import SEED_EMAIL_DOMAIN, seed_email

# Per account, how many recent job ids to read: enough to spread detail reads
# over cold and cached entries without loading a power user's 10k+ ids.
JOB_IDS_PER_ACCOUNT = 50
# Accounts read from the database at most: more than any run has users.
MAX_ACCOUNTS = 5000


@dataclass
class Account:
    email: str
    user_id: int | None = None
    job_ids: list[int] = field(default_factory=list)


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
