"""The abstract persona base: login, id pools, checks, naming, think time.

Every request goes through the run's profile (`locustfiles._profile`): a persona
asks for an operation by name with its values (`self.fetch("job_detail", id=7)`),
the profile says the method, path, query, body, success statuses and the
response's shape, and `check` holds the answer to it. An operation the
profile marks `absent` is never requested.

Naming convention (one for Locust's statistics, the raw request log and the
thresholds): the request type is the HTTP method (or SQL, TASK), the name is the
route template with the profile's base path, never a raw id, its placeholder
named by the persona (`{id}`) whatever the deployment calls it:

    type GET, name /api/v1/jobs/{id}   <->  scope "endpoint:GET /api/v1/jobs/{id}"

A response the server sent but that is not what the contract says (status, JSON
shape, another user's data) is marked failed through `catch_response`, so a
failed check is a failure in the statistics like a 500. A 429 the persona handles
by backing off is recorded under its own name, `<template> (429)`, as a success:
counted, visible, and kept out of both the endpoint's latency and its failures.

Think time: `think_time` (min, max) seconds per persona class, scaled by the
scenario's `think_time_scale` and `--think-time-scale`. In an arrival-rate
scenario the pacer decides instead, and every iteration (the first one too)
starts at its slot (see `_pacing` and `_iterations`).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson
from locust import FastHttpUser
from locust.contrib.fasthttp import ResponseContextManager
from locust.exception import StopUser

from locustfiles import _plugin  # noqa: F401  (a persona module run alone still gets the listeners)
from locustfiles._iterations import Paced, paced
from locustfiles._run_state import RUN
from locustfiles._pools import Account
from locustfiles._profile import PROFILE
from profiles.model import Operation, Profile

# Give up honouring Retry-After after this many 429s in a row for one request.
MAX_RETRIES = 3
# Never sleep longer than this for one Retry-After (a misbehaving header must not park a user).
MAX_RETRY_AFTER_S = 30.0
# Tasks that perform another operation than their own name.
TASK_OPERATION = {"other_users_job": "job_detail", "delete_own_job": "delete_job"}


class CheckFailed(Exception):
    """A response that broke the contract; the message is what the statistics show."""


class CareerUser(Paced, FastHttpUser):
    """Logs in once, keeps its own job ids, checks every response against the profile."""

    abstract = True
    # Connection errors must surface in seconds; responses may take long
    # (AI generation is 2-5 s by design, exports stream whole tables).
    connection_timeout = 5.0
    network_timeout = 60.0
    # (min, max) seconds between two tasks; each persona says where its numbers come from.
    think_time: ClassVar[tuple[float, float]] = (1.0, 3.0)
    # task method name -> weight; the task table Locust plays is rebuilt from it for each profile.
    task_weights: ClassVar[dict[str, int]] = {}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = self.paced_context()
        self.account: Account | None = None
        self.user_id: int | None = None
        self.job_ids: list[int] = []

    def context(self) -> dict[str, str]:
        """Attached to every request event: the raw log's `user` column and per-persona statistics."""
        return self._context

    def think(self) -> float:
        options = self.environment.parsed_options
        scale = (RUN.scenario.think_time_scale if RUN.scenario else 1.0) * (options.think_time_scale if options else 1.0)
        low, high = self.think_time
        return random.uniform(low, high) * scale

    def on_start(self) -> None:
        self.login()  # before the first slot: the first iteration waits for its slot after it (_iterations)

    @classmethod
    def retable(cls, profile: Profile) -> None:
        """Locust's task list for `profile`: tasks whose operation is absent are left out, their weight with them."""
        if not cls.task_weights:
            return
        cls.tasks = [paced(getattr(cls, name)) for name, weight in cls.task_weights.items()
                     if not profile.operations[TASK_OPERATION.get(name, name)].absent for _ in range(weight)] \
            or [paced(CareerUser.idle)]

    def idle(self) -> None:
        """The only task of a persona whose every operation the profile marks absent: it waits, sends nothing."""

    # ------------------------------------------------------------------ auth and ids

    def login(self) -> None:
        """Log in as the next pooled account as the profile says, then learn our own id; a failure stops this user."""
        profile = PROFILE.profile
        self.account = RUN.pool.take() if RUN.pool is not None else None
        self.job_ids = list(self.account.job_ids) if self.account else []
        auth, own_id = profile.auth, profile.own_id
        token = None
        if auth.kind != "none" and self.account is not None:
            password = self.account.password
            if password is None:
                password = self.environment.parsed_options.seed_password
            fields = {auth.username_field: self.account.email, auth.password_field: password}
            name = profile.base_path + auth.path
            if auth.kind == "json":
                request = self.client.post(name, json=fields, name=name, catch_response=True)
            else:
                request = self.client.post(name, data=urlencode(fields), name=name, catch_response=True,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
            with request as resp:
                body = self.expect(resp, auth.status, keys=(auth.token_field,))
            if body is None:
                raise StopUser()
            token = body[auth.token_field]
            self.client.auth_header = f"{auth.scheme} {token}" if auth.scheme else token
        if own_id.source == "me":
            name = profile.base_path + own_id.path
            with self.client.get(name, name=name, catch_response=True) as resp:
                me = self.expect(resp, 200, keys=(own_id.field,))
            if me is None:
                raise StopUser()
            self.user_id = me[own_id.field]
        elif token is not None:
            # token_prefix / jwt_claim: the owner checks need our own id, and reading it costs no request.
            self.user_id = own_id.from_token(token)
            if self.user_id is None and self.account is not None:
                self.user_id = self.account.user_id

    def remember(self, items: list[dict[str, Any]], id_field: str = "id") -> None:
        """Keep ids seen in our own list responses (bounded), to request them later."""
        for item in items:
            job_id = item.get(id_field) if isinstance(item, dict) else None
            if isinstance(job_id, int) and job_id not in self.job_ids:
                self.job_ids.append(job_id)
        del self.job_ids[:-200]

    def some_job_id(self) -> int | None:
        return random.choice(self.job_ids) if self.job_ids else None

    # ------------------------------------------------------------------ requests through the profile

    @staticmethod
    def op(name: str) -> Operation | None:
        """The profile's operation `name`, or None when this deployment does not have it."""
        operation = PROFILE.profile.operations[name]
        return None if operation.absent else operation

    def send(self, op: Operation, values: dict[str, Any], name: str | None = None) -> ResponseContextManager:
        """The request for `op` (a `with` target: the caller marks it through `check`)."""
        return self.client.request(op.method, op.url(values), name=name or op.request_name,
                                   json=op.body_for(values), catch_response=True)

    def fetch(self, name: str, **values: Any) -> Any:
        """Perform operation `name` and check it: the body (a list's items), True without one, None if wrong or absent."""
        op = self.op(name)
        if op is None:
            return None
        with self.send(op, values) as resp:
            return self.check(resp, op, values)

    def check(self, resp: ResponseContextManager, op: Operation, values: dict[str, Any]) -> Any:
        """Hold a response to the profile: status, shape, keys, owner, echoed values; mark it failed when wrong."""
        try:
            if resp.status_code in op.also_ok:
                resp.success()
                return None
            self._status(resp, op.status)
            if op.response == "empty":
                resp.success()
                return True
            if op.response == "csv":
                header = (resp.text or "").split("\n", 1)[0].strip().split(",")
                missing = [k for k in op.keys if k not in header]
                if missing:
                    raise CheckFailed(f"export is not CSV with a header naming {', '.join(missing)}")
                resp.success()
                return True
            body = self._json(resp)
            expected = op.expected(values) if op.match else ()
            owner = op.owner_field if self.user_id is not None else ""
            if op.items is None:
                if not isinstance(body, dict):
                    raise CheckFailed(f"expected a JSON object, got {type(body).__name__}")
                self._item(body, op.keys, owner, expected)
                resp.success()
                return body
            items = self._items(body, op)
            for item in items:
                if not isinstance(item, dict):
                    raise CheckFailed(f"expected JSON objects in the list, got {type(item).__name__}")
                self._item(item, op.keys, owner, expected)
        except CheckFailed as exc:
            resp.failure(str(exc))
            return None
        resp.success()
        return items

    def _status(self, resp: ResponseContextManager, statuses: tuple[int, ...]) -> None:
        if resp.status_code not in statuses:
            detail = (resp.text or "")[:120].replace("\n", " ") if resp.status_code else str(resp.error)
            raise CheckFailed(f"HTTP {resp.status_code}, expected {'/'.join(map(str, statuses))}: {detail}")

    @staticmethod
    def _json(resp: ResponseContextManager) -> Any:
        try:
            return orjson.loads(resp.content or b"")  # 3x faster than json on a page of 20 jobs
        except ValueError:
            raise CheckFailed("response is not JSON") from None

    @staticmethod
    def _items(body: Any, op: Operation) -> list[Any]:
        """The list of a list response: the body itself (bare list) or its items key, in its envelope."""
        if op.items == "":
            if not isinstance(body, list):
                raise CheckFailed(f"expected a JSON list, got {type(body).__name__}")
            return body
        if not isinstance(body, dict):
            raise CheckFailed(f"expected a JSON object, got {type(body).__name__}")
        envelope = op.pagination.keys if op.paginated and op.pagination is not None else ()
        missing = [k for k in (op.items, *envelope) if k not in body]
        if missing:
            raise CheckFailed(f"JSON lacks {', '.join(missing)}")
        if not isinstance(body[op.items], list):
            raise CheckFailed(f"{op.items} is not a list")
        return body[op.items]

    def _item(self, item: dict[str, Any], keys: tuple[str, ...], owner: str,
              expected: list[tuple[str, Any]] | tuple[()]) -> None:
        missing = [k for k in keys if k not in item]
        if missing:
            raise CheckFailed(f"JSON lacks {', '.join(missing)}")
        if owner and item.get(owner) != self.user_id:
            raise CheckFailed(f"{owner} is {item.get(owner)!r}, not this user's {self.user_id}")
        for key, value in expected:
            if item.get(key) != value:
                raise CheckFailed(f"{key} is {item.get(key)!r}, expected {value!r}")

    def expect(self, resp: ResponseContextManager, status: int | tuple[int, ...], *,
               keys: tuple[str, ...] = ()) -> Any:
        """Check a request outside the operation table (login, the own-id route): status, JSON object, keys."""
        try:
            self._status(resp, (status,) if isinstance(status, int) else status)
            if not keys:
                resp.success()
                return True
            body = self._json(resp)
            if not isinstance(body, dict):
                raise CheckFailed(f"expected a JSON object, got {type(body).__name__}")
            self._item(body, keys, "", ())
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


def retable_all(profile: Profile) -> None:
    """Every persona's task table for `profile`."""
    for persona in _personas(CareerUser):
        persona.retable(profile)


def _personas(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_personas(sub)]
    return out


PROFILE.listeners.append(retable_all)
