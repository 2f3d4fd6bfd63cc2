"""The abstract persona base: login, id pools, checks, naming, think time.

Naming convention (one for Locust's statistics, the raw request log and the
thresholds): the request type is the HTTP method (or SQL, TASK), the name is the
route template with the `/api/v1` prefix, never a raw id:

    type GET, name /api/v1/jobs/{id}   <->  scope "endpoint:GET /api/v1/jobs/{id}"

A response the server sent but that is not what the contract says (status, JSON
shape, another user's data) is marked failed through `catch_response`, so a
failed check is a failure in the statistics like a 500. A 429 the persona handles
by backing off is recorded under its own name, `<template> (429)`, as a success:
counted, visible, and kept out of both the endpoint's latency and its failures.

Think time: `think_time` (min, max) seconds per persona class, scaled by the
scenario's `think_time_scale` and `--think-time-scale`. In an arrival-rate
scenario the pacer decides instead (see `_pacing`).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import gevent
import orjson
from locust import FastHttpUser
from locust.contrib.fasthttp import ResponseContextManager

from locustfiles import _plugin  # noqa: F401  (a persona module run alone still gets the listeners)
from locustfiles._run_state import RUN
from locustfiles._pools import Account

API = "/api/v1"
PAGE_KEYS = ("items", "total", "page", "page_size", "total_pages", "has_next", "has_prev")
# Give up honouring Retry-After after this many 429s in a row for one request.
MAX_RETRIES = 3
# Never sleep longer than this for one Retry-After (a misbehaving header must not park a user).
MAX_RETRY_AFTER_S = 30.0


class CheckFailed(Exception):
    """A response that broke the contract; the message is what the statistics show."""


class CareerUser(FastHttpUser):
    """Logs in once, keeps its own job ids, checks every response."""

    abstract = True
    # Connection errors must surface in seconds; responses may take long
    # (AI generation is 2-5 s by design, exports stream whole tables).
    connection_timeout = 5.0
    network_timeout = 60.0
    # (min, max) seconds between two tasks; each persona says where its numbers come from.
    think_time: ClassVar[tuple[float, float]] = (1.0, 3.0)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = {"persona": type(self).__name__}
        self.account: Account | None = None
        self.user_id: int | None = None
        self.job_ids: list[int] = []

    def context(self) -> dict[str, str]:
        """Attached to every request event: the raw log's `user` column and per-persona statistics."""
        return self._context

    def wait_time(self) -> float:
        if RUN.pacer is not None:
            return RUN.pacer.delay()
        options = self.environment.parsed_options
        scale = (RUN.scenario.think_time_scale if RUN.scenario else 1.0) * (options.think_time_scale if options else 1.0)
        low, high = self.think_time
        return random.uniform(low, high) * scale

    def on_start(self) -> None:
        self.login()
        if RUN.pacer is not None:
            gevent.sleep(RUN.pacer.delay())  # the first iteration waits for its slot too

    # ------------------------------------------------------------------ auth and ids

    def login(self) -> None:
        """POST /auth/login as the next pooled account; a failed login stops only this user."""
        self.account = RUN.pool.take()
        self.job_ids = list(self.account.job_ids)
        password = self.environment.parsed_options.seed_password
        with self.client.post(f"{API}/auth/login", json={"email": self.account.email, "password": password},
                              name=f"{API}/auth/login", catch_response=True) as resp:
            body = self.expect(resp, 200, keys=("access_token", "token_type"))
        if body is None:
            from locust.exception import StopUser

            raise StopUser()
        token = body["access_token"]
        self.client.auth_header = f"Bearer {token}"
        # The token is `<user_id>.<expiry>.<signature>` (target_api.security): the
        # owner checks need our own id, and reading it costs no request.
        head = token.split(".", 1)[0]
        self.user_id = int(head) if head.isdigit() else self.account.user_id

    def remember(self, items: list[dict[str, Any]]) -> None:
        """Keep ids seen in our own list responses (bounded), to request them later."""
        for item in items:
            job_id = item.get("id")
            if isinstance(job_id, int) and job_id not in self.job_ids:
                self.job_ids.append(job_id)
        del self.job_ids[:-200]

    def some_job_id(self) -> int | None:
        return random.choice(self.job_ids) if self.job_ids else None

    # ------------------------------------------------------------------ checks

    def expect(self, resp: ResponseContextManager, status: int | tuple[int, ...], *,
               keys: tuple[str, ...] = (), page: bool = False, owner_field: str | None = None) -> Any:
        """Check status and JSON shape; mark the response failed and return None when it is wrong.

        `page`: the paginated envelope; `owner_field`: the field that must be our user id, on the
        body or, with `page`, on every item (one foreign row in a page is a broken isolation).
        """
        try:
            statuses = (status,) if isinstance(status, int) else status
            if resp.status_code not in statuses:
                detail = (resp.text or "")[:120].replace("\n", " ") if resp.status_code else str(resp.error)
                raise CheckFailed(f"HTTP {resp.status_code}, expected {'/'.join(map(str, statuses))}: {detail}")
            if not keys and not page and owner_field is None:
                resp.success()
                return True
            try:
                body = orjson.loads(resp.content or b"")  # 3x faster than json on a page of 20 jobs
            except ValueError:
                raise CheckFailed("response is not JSON") from None
            if not isinstance(body, dict):
                raise CheckFailed(f"expected a JSON object, got {type(body).__name__}")
            missing = [k for k in (*keys, *(PAGE_KEYS if page else ())) if k not in body]
            if missing:
                raise CheckFailed(f"JSON lacks {', '.join(missing)}")
            if page and not isinstance(body["items"], list):
                raise CheckFailed("items is not a list")
            if owner_field is not None and self.user_id is not None:
                for owned in body["items"] if page else (body,):
                    if not isinstance(owned, dict) or owned.get(owner_field) != self.user_id:
                        found = owned.get(owner_field) if isinstance(owned, dict) else owned
                        raise CheckFailed(f"{owner_field} is {found!r}, not this user's {self.user_id}")
        except CheckFailed as exc:
            resp.failure(str(exc))
            return None
        resp.success()
        return body

    def retry_after(self, resp: ResponseContextManager, template: str) -> float:
        """A 429: rename it `<template> (429)`, count it, mark it a success; seconds to back off."""
        resp.request_meta["name"] = f"{template} (429)"
        RUN.count(f"429 {resp.request_meta['request_type']} {template}")
        resp.success()
        try:
            delay = float(resp.headers.get("Retry-After", "1"))
        except (TypeError, ValueError):
            delay = 1.0
        return min(max(delay, 0.0), MAX_RETRY_AFTER_S)
