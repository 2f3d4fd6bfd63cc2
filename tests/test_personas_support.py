"""Helpers for the persona and run tests: seeded accounts and a way to call the CLI.

Accounts follow the seed's documented pattern (user{N}@careerload.test, password
"careerload"), inserted only when missing, so these tests coexist with a full seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from target_api.security import hash_password

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "careerload"
CLI = [sys.executable, "-m", "careerload"]


def seed_accounts(database_url: str, users: int, jobs_per_user: int) -> None:
    """user1..userN@careerload.test with a few jobs each, when not there yet."""
    password_hash = hash_password(PASSWORD, iterations=1_000)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for n in range(1, users + 1):
            email = f"user{n}@careerload.test"
            row = conn.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO users (email, password_hash, full_name, skills) VALUES (%s, %s, %s, %s) RETURNING id",
                    (email, password_hash, f"Load User {n}", ["python", "sql"]),
                ).fetchone()
            user_id = row[0]
            have = conn.execute("SELECT count(*) FROM jobs WHERE user_id = %s", (user_id,)).fetchone()[0]
            for j in range(have, jobs_per_user):
                conn.execute(
                    "INSERT INTO jobs (user_id, company, title, location, description, tech_stack, status, job_fingerprint) "
                    "VALUES (%s, %s, %s, 'Berlin', 'python backend role', %s, %s, %s)",
                    (user_id, f"Company {j % 7}", f"Python Engineer {j}", ["python"],
                     ("not_applied", "applied", "interviewing")[j % 3], f"fp-{user_id}-{j}"),
                )


def careerload(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the careerload command line in a child process (as a user would)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
