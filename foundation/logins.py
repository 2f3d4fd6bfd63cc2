"""How seeded users log in: one email pattern and one default password, defined once.

The seed writes these users, the personas log in as them, and `careerload run`
logs in as the first of them to read the backend's cache metrics.
"""

from __future__ import annotations

import os

SEED_EMAIL_DOMAIN = "careerload.test"
DEFAULT_PASSWORD = "careerload"
PASSWORD_ENV = "CAREERLOAD_SEED_PASSWORD"


def seed_email(user_id: int) -> str:
    """The login of seeded user `user_id` (ids run 1..N)."""
    return f"user{user_id}@{SEED_EMAIL_DOMAIN}"


def seed_password() -> str:
    """$CAREERLOAD_SEED_PASSWORD, else the documented default."""
    return os.environ.get(PASSWORD_ENV, DEFAULT_PASSWORD)
