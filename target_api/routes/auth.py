"""POST /auth/login: email + password → a signed bearer token."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Response

from target_api.deps import Pool, SettingsDep
from target_api.responses import json_response
from target_api.schemas import LoginIn
from target_api.security import hash_password, issue_token, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])

# Verified against when the email is unknown, so a miss costs the same PBKDF2
# time as a wrong password and response times do not reveal which emails exist.
_DUMMY_HASH = hash_password("not-a-real-password")


@router.post("/login")
async def login(body: LoginIn, pool: Pool, settings: SettingsDep) -> Response:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT id, password_hash, is_active FROM users WHERE email = %s", (body.email,))
        user = await cur.fetchone()
    stored = user["password_hash"] if user else _DUMMY_HASH
    # PBKDF2 takes ~30 ms of CPU; off the event loop so other requests keep flowing.
    valid = await asyncio.to_thread(verify_password, body.password, stored)
    if not (user and valid and user["is_active"]):
        raise HTTPException(401, "invalid email or password", headers={"WWW-Authenticate": "Bearer"})
    token = issue_token(user["id"], settings.token_secret, settings.token_ttl_s)
    return json_response({"access_token": token, "token_type": "bearer", "user_id": user["id"]})
