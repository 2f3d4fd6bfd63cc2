"""The Redis response cache: serialized JSON bytes in, the same bytes out.

Layout, chosen so a hit costs exactly one Redis round trip:
- Per-user entries (job list pages, job detail, stats, applications, logs,
  recommendations, dashboard) are fields of one hash per user, `cl:u:<id>`.
  Any write by that user deletes the hash: one DEL invalidates every view of
  that user's data, with no key scans and no version lookup on reads.
- Global entries (search, keyed by query) and cover letters are plain keys.
- Every value is `<expiry epoch>|<json>`: Redis 6.2 has no per-field TTL, so a
  Lua script compares the expiry on read, returns the JSON and counts the hit
  or miss in the shared `cl:metrics` hash, all in the same round trip. The user
  hash itself expires after the longest per-user TTL, which bounds its memory.

Known race, bounded by the TTL: a read that started before a write may store
its (old) result after the write's DEL. An invalidation that fails (Redis down
or slow) is remembered and retried before the cache is used again, so a Redis
that comes back with its data does not serve views from before the write.

Redis down = cache miss. Every call has a short socket timeout, no retries, and
after a failure Redis is skipped for `redis_retry_after_ms`, so a dead Redis
costs at most one timeout per window instead of one per request. Counters that
cannot reach Redis are kept in the process and flushed when it is back.
"""

from __future__ import annotations

import time
from collections import Counter

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from target_api.settings import Settings

# TTLs in seconds, from the contract's cache column.
TTL_JOB_LIST = 60
TTL_JOB_DETAIL = 300
TTL_JOB_STATS = 120
TTL_SEARCH = 900
TTL_APPLICATIONS = 30
TTL_LOGS = 30
TTL_RECOMMENDATIONS = 1800
TTL_DASHBOARD = 1800
USER_HASH_TTL = max(TTL_JOB_LIST, TTL_JOB_DETAIL, TTL_JOB_STATS, TTL_APPLICATIONS, TTL_LOGS, TTL_RECOMMENDATIONS, TTL_DASHBOARD)

METRICS_KEY = "cl:metrics"

# KEYS[1] entry key, KEYS[2] metrics hash; ARGV[1] hash field ('' for a plain key), ARGV[2] now.
_LOOKUP = """
local v
if ARGV[1] == '' then v = redis.call('GET', KEYS[1]) else v = redis.call('HGET', KEYS[1], ARGV[1]) end
if v then
  local sep = string.find(v, '|', 1, true)
  if sep and tonumber(string.sub(v, 1, sep - 1)) > tonumber(ARGV[2]) then
    redis.call('HINCRBY', KEYS[2], 'hits', 1)
    return string.sub(v, sep + 1)
  end
end
redis.call('HINCRBY', KEYS[2], 'misses', 1)
return false
"""


def user_key(user_id: int) -> str:
    return f"cl:u:{user_id}"


class Cache:
    """Get/set serialized responses; never raises on Redis trouble."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.cache_enabled
        timeout = settings.redis_timeout_ms / 1000
        self._retry_after = settings.redis_retry_after_ms / 1000
        self._redis = aioredis.Redis.from_url(
            settings.redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._lookup = self._redis.register_script(_LOOKUP)
        self._down_until = 0.0
        # Counts not yet written to Redis (all of them while Redis is down).
        self._pending: Counter[str] = Counter()
        # Users whose invalidation failed: deleted before the next cache access, so a
        # Redis that comes back with its data (a blip, a timeout) serves nothing stale.
        self._stale_users: set[int] = set()

    async def close(self) -> None:
        await self._redis.aclose()

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self) -> None:
        self._down_until = time.monotonic() + self._retry_after
        self._pending["errors"] += 1

    async def get(self, key: str, field: str = "") -> bytes | None:
        """The cached JSON for a plain key, or for a field of a hash key; None on a miss."""
        if not self.enabled:
            return None
        if not self._available() or not await self._forget_stale():
            self._pending["misses"] += 1
            return None
        try:
            return await self._lookup(keys=[key, METRICS_KEY], args=[field, time.time()])
        except RedisError:
            self._failed()
            self._pending["misses"] += 1
            return None

    async def set(self, key: str, body: bytes, ttl_s: int, field: str = "") -> None:
        """Store `body` for `ttl_s` seconds (a hash field when `field` is given)."""
        if not self.enabled or not self._available() or not await self._forget_stale():
            return
        value = b"%d|%b" % (int(time.time()) + ttl_s, body)
        pending = self._pending.copy()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if field:
                    pipe.hset(key, field, value)
                    pipe.expire(key, USER_HASH_TTL)
                else:
                    pipe.set(key, value, ex=ttl_s)
                self._queue_pending(pipe)
                await pipe.execute()
        except RedisError:
            self._pending.update(pending)
            self._failed()

    async def invalidate_user(self, user_id: int) -> None:
        """Forget every cached view of one user's data (after a write committed).

        Tried even inside the skip window: a write is rare next to reads, and a
        missed invalidation would serve stale data for a whole TTL once Redis is back.
        """
        if not self.enabled:
            return
        try:
            await self._redis.delete(user_key(user_id))
        except RedisError:
            self._stale_users.add(user_id)
            self._failed()

    async def _forget_stale(self) -> bool:
        """Retry the invalidations that failed; False (treat as a miss) while they still fail."""
        if not self._stale_users:
            return True
        stale = list(self._stale_users)
        try:
            await self._redis.delete(*(user_key(user_id) for user_id in stale))
        except RedisError:
            self._failed()
            return False
        self._stale_users.difference_update(stale)
        return True

    def _queue_pending(self, pipe: aioredis.client.Pipeline) -> None:
        for name, count in self._pending.items():
            if count:
                pipe.hincrby(METRICS_KEY, name, count)
        self._pending.clear()

    async def metrics(self) -> dict[str, object]:
        """Hits, misses and errors across all workers (this process only while Redis is down)."""
        counts: Counter[str] = Counter()
        source = "local"
        if self._available():
            pending = self._pending.copy()
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    self._queue_pending(pipe)
                    pipe.hgetall(METRICS_KEY)
                    stored = (await pipe.execute())[-1]
                counts.update({k.decode(): int(v) for k, v in stored.items()})
                source = "redis"
            except RedisError:
                self._pending.update(pending)
                self._failed()
        counts.update(self._pending)
        hits, misses = counts["hits"], counts["misses"]
        return {
            "hits": hits,
            "misses": misses,
            "errors": counts["errors"],
            "hit_rate": round(hits / (hits + misses), 4) if hits + misses else 0.0,
            "enabled": self.enabled,
            "source": source,
        }

    async def ping(self) -> bool:
        """True when Redis answers now (ignores the skip window, for health checks)."""
        try:
            ok = bool(await self._redis.ping())
        except RedisError:
            return False
        self._down_until = 0.0
        return ok
