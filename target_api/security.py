"""Password hashing and bearer tokens, standard library only.

Passwords: PBKDF2-HMAC-SHA256, stored as `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`
(the Django layout). The seed hashes its users' shared password with the same
function, so the backend verifies seeded and created users alike.

Tokens: stateless and HMAC-signed (`<user_id>.<expiry epoch>.<signature>`), so
authentication keeps working when Redis is down (graceful degradation) and costs
no database round trip per request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

ALGORITHM = "pbkdf2_sha256"
# Login happens once per virtual user; 60k iterations costs ~30 ms, enough to be
# honest about login cost without making the login storm the whole test.
DEFAULT_ITERATIONS = 60_000


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt_hex, digest_hex = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def issue_token(user_id: int, secret: str, ttl_s: int) -> str:
    expiry = int(time.time()) + ttl_s
    payload = f"{user_id}.{expiry}"
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def read_token(token: str, secret: str) -> int | None:
    """The user id of a valid, unexpired token; None otherwise."""
    try:
        user_id, expiry, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{user_id}.{expiry}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected) or int(expiry) < time.time():
            return None
        return int(user_id)
    except ValueError:
        return None
