"""FastAPI dependencies, as `Annotated` aliases the routes declare in their signatures.

`CurrentUser` costs no I/O: tokens are HMAC-signed (see security.py), so auth
keeps working with Redis down and adds no database round trip to cached reads.
Cached routes take `Pool` and borrow a connection only on a miss; routes that
always touch the database take `Conn`. Every dependency is `async def`, even
the trivial ones: FastAPI runs plain `def` dependencies in its thread pool, and
that hand-off was the largest single cost of a cached request under py-spy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from target_api.cache import Cache
from target_api.security import read_token
from target_api.settings import Settings, get_settings

_UNAUTHORIZED = HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


async def _settings() -> Settings:
    return get_settings()


async def current_user(request: Request) -> int:
    """The user id from `Authorization: Bearer <token>`; 401 otherwise.

    Reads the settings directly rather than through a sub-dependency: this runs
    on every authenticated request, and each dependency level costs a resolution.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _UNAUTHORIZED
    user_id = read_token(token.strip(), get_settings().token_secret)
    if user_id is None:
        raise _UNAUTHORIZED
    return user_id


async def _pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


async def _cache(request: Request) -> Cache:
    return request.app.state.cache


async def _conn(pool: Annotated[AsyncConnectionPool, Depends(_pool)]) -> AsyncIterator[AsyncConnection]:
    async with pool.connection() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(_settings)]
CurrentUser = Annotated[int, Depends(current_user)]
Pool = Annotated[AsyncConnectionPool, Depends(_pool)]
Conn = Annotated[AsyncConnection, Depends(_conn)]
CacheDep = Annotated[Cache, Depends(_cache)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
