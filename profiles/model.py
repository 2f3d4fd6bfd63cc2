"""A profile: one deployment's dialect (routes, pagination, auth, statuses), read from TOML and checked once.

Loaded once per process; everything a request needs is prepared here (path and
query templates split, body templates compiled, status tuples), so a persona's
request costs a dict lookup and a string format more than a hand-written one.
A broken file is one `ProfileError` line naming the file, the field, what was
expected and what was found.

Built-in profiles are the `*.toml` files beside this module; `resolve` takes a
built-in name or a path and returns the TOML text, which is what travels to
Locust workers (a worker on another host has no copy of the user's file).
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from profiles.operations import OPERATIONS, PATH_ID

BUILTIN_DIR = Path(__file__).resolve().parent
DEFAULT = "reference"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
AUTH_KINDS = ("none", "json", "form")
OWN_ID_SOURCES = ("me", "jwt_claim", "token_prefix", "unknown")
PAGINATION_STYLES = ("page", "offset")
RESPONSES = ("json", "csv", "empty")
SCRAPING = ("async", "sync")
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(ValueError):
    """A profile that cannot be used; the message is the one line the user sees."""


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def resolve(spec: str) -> tuple[str, str]:
    """(TOML text, where it came from) for a built-in name or a file path."""
    spec = spec or DEFAULT
    if spec in builtin_names():
        path = BUILTIN_DIR / f"{spec}.toml"
    else:
        path = Path(spec)
        if not path.is_file():
            raise ProfileError(f"profile {spec!r}: neither a built-in ({', '.join(builtin_names())}) nor a file")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from None


def load(spec: str) -> Profile:
    """The profile named by `spec` (a built-in name or a file), checked."""
    text, origin = resolve(spec)
    return parse(text, origin)


# ---------------------------------------------------------------------------- reading the TOML, field by field


class _Reader:
    """Typed access to one table of the file; every complaint names file and field."""

    def __init__(self, origin: str, table: dict[str, Any], prefix: str, allowed: tuple[str, ...]) -> None:
        self.origin, self.table, self.prefix = origin, table, prefix
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            self.fail(unknown[0], f"a known field ({', '.join(allowed)})", "an unknown field")

    def fail(self, key: str, expected: str, got: Any) -> None:
        where = f"{self.prefix}.{key}" if self.prefix else key
        shown = got if isinstance(got, str) and got.startswith("an unknown") else repr(got)
        raise ProfileError(f"{self.origin}: {where}: expected {expected}, got {shown}")

    def text(self, key: str, default: str | None = None, choices: tuple[str, ...] = ()) -> str:
        value = self.table.get(key, default)
        if value is None:
            self.fail(key, "a string", "nothing")
        if not isinstance(value, str):
            self.fail(key, "a string", value)
        if choices and value not in choices:
            self.fail(key, f"one of {', '.join(choices)}", value)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, "true or false", value)
        return value

    def statuses(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.table.get(key, list(default))
        value = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(value, list) or not all(isinstance(v, int) and 100 <= v <= 599 for v in value):
            self.fail(key, "an HTTP status or a list of them (100..599)", value)
        return tuple(value)

    def names(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "a list of strings", value)
        return tuple(value)

    def strings(self, key: str) -> dict[str, str]:
        value = self.table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, (str, int)) for v in value.values()):
            self.fail(key, "a table of strings", value)
        return {k: str(v) for k, v in value.items()}


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Auth:
    kind: str                       # none | json | form
    path: str = ""
    username_field: str = "email"
    password_field: str = "password"
    token_field: str = "access_token"
    scheme: str = "Bearer"
    status: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class OwnId:
    source: str                     # me | jwt_claim | token_prefix | unknown
    path: str = ""
    field: str = "id"
    claim: str = "sub"

    def from_token(self, token: str) -> int | None:
        """The user's id read from the token itself (token_prefix, jwt_claim), without a request."""
        if self.source == "token_prefix":
            head = token.split(".", 1)[0]
            return int(head) if head.isdigit() else None
        if self.source == "jwt_claim":
            try:
                payload = token.split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                value = claims.get(self.claim) if isinstance(claims, dict) else None
                return value if isinstance(value, int) else int(value) if str(value).isdigit() else None
            except (IndexError, ValueError):
                return None
        return None


@dataclass(frozen=True)
class Pagination:
    style: str                      # page | offset
    page: str = "page"
    page_size: str = "page_size"
    skip: str = "skip"
    limit: str = "limit"
    items: str = "items"            # "" = a bare JSON list
    keys: tuple[str, ...] = ()      # envelope keys that must be there (page style)
    default_page_size: int = 20     # offset style: the size a page number is multiplied by when none is given

    def params(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        """The query parameters for a page the persona asks for (page, page_size), in this dialect."""
        page, size = values.get("page"), values.get("page_size")
        if self.style == "page":
            return [(n, v) for n, v in ((self.page, page), (self.page_size, size)) if v is not None]
        out: list[tuple[str, Any]] = []
        if page is not None:
            out.append((self.skip, (page - 1) * (size or self.default_page_size)))
        if size is not None:
            out.append((self.limit, size))
        return out


def _value(template: str, values: dict[str, Any]) -> Any:
    """A query or match template's value: "{name}" alone is the value itself (None stays None)."""
    if "{" not in template:
        return template
    whole = _FIELD.fullmatch(template)
    return values.get(whole.group(1)) if whole else template.format_map(values)


def _compile(template: Any, origin: str, where: str, allowed: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """A body template as a function of the persona's values; "{name}" alone keeps the value's type."""
    for name in _FIELD.findall(json.dumps(template)):
        if name not in allowed:
            raise ProfileError(f"{origin}: {where}: expected placeholders among {', '.join(allowed) or 'none'}, "
                               f"got {{{name}}}")
    if not _FIELD.search(json.dumps(template)):
        return lambda values: template
    if isinstance(template, str):
        whole = _FIELD.fullmatch(template)
        if whole:
            key = whole.group(1)
            return lambda values: values[key]
        return lambda values: template.format_map(values)
    if isinstance(template, list):
        parts = [_compile(v, origin, where, allowed) for v in template]
        return lambda values: [p(values) for p in parts]
    if isinstance(template, dict):
        items = [(k, _compile(v, origin, where, allowed)) for k, v in template.items()]
        return lambda values: {k: p(values) for k, p in items}
    return lambda values: template


@dataclass(frozen=True)
class Operation:
    """One persona operation on this deployment, or `absent`."""

    name: str
    absent: bool = False
    method: str = "GET"
    path: str = ""                  # as written, relative to the base path
    full_path: str = ""             # base path + path, as the OpenAPI document has it
    request_name: str = ""          # what Locust records: full path with the persona's placeholder name
    query: tuple[tuple[str, str], ...] = ()
    paginated: bool = False
    body: Any = None
    status: tuple[int, ...] = (200,)
    also_ok: tuple[int, ...] = ()   # right answers that carry no checked body (e.g. "already applied")
    response: str = "json"
    keys: tuple[str, ...] = ()      # on the object, or on every item of a list
    owner_field: str = ""
    id_field: str = "id"
    match: tuple[tuple[str, str], ...] = ()  # response field == the request's value (every item of a list)
    items: str | None = None        # list responses: the key of the items ("" bare list); None: not a list
    source: str = ""
    render_body: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False, repr=False)
    pagination: Pagination | None = field(default=None, compare=False, repr=False)

    def url(self, values: dict[str, Any]) -> str:
        """The request URL (path and query) for the persona's values."""
        path = self.request_name.format_map(values) if "{" in self.request_name else self.request_name
        params = [(k, _value(v, values)) for k, v in self.query]
        params = [(k, v) for k, v in params if v is not None]  # an unset value (no location) is left out
        if self.paginated and self.pagination is not None:
            params += self.pagination.params(values)
        if not params:
            return path
        return path + "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params)

    def body_for(self, values: dict[str, Any]) -> Any:
        return self.render_body(values) if self.render_body is not None else None

    def expected(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        """(field, value) pairs the response must carry, from `match`."""
        return [(key, _value(template, values)) for key, template in self.match]


@dataclass(frozen=True)
class Profile:
    name: str
    origin: str
    text: str
    description: str
    base_path: str
    auth: Auth
    own_id: OwnId
    pagination: Pagination
    scraping: str
    operations: dict[str, Operation]

    @property
    def owner_checks(self) -> bool:
        """Whether responses can be checked to belong to the user (off when the own id cannot be learned)."""
        return self.own_id.source != "unknown"

    def absent(self) -> list[str]:
        return [name for name, op in self.operations.items() if op.absent]

    def summary(self) -> dict[str, Any]:
        """What run.json records about the profile."""
        return {"name": self.name, "origin": self.origin, "auth": self.auth.kind, "own_id": self.own_id.source,
                "ownership_checks": self.owner_checks, "scraping": self.scraping, "absent": self.absent()}


# ---------------------------------------------------------------------------- parsing

_TOP = ("name", "description", "base_path", "scraping", "auth", "own_id", "pagination", "operations")
_OP_FIELDS = ("absent", "method", "path", "query", "paginated", "body", "status", "also_ok", "response", "keys",
              "owner_field", "id_field", "match", "items", "source")


def _table(reader: _Reader, key: str) -> dict[str, Any]:
    value = reader.table.get(key, {})
    if not isinstance(value, dict):
        reader.fail(key, "a table", value)
    return value


def _path(reader: _Reader, key: str) -> str:
    value = reader.text(key)
    if not value.startswith("/"):
        reader.fail(key, "a path starting with /", value)
    return value


def parse(text: str, origin: str) -> Profile:
    """A checked Profile from TOML text; `origin` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{origin}: not valid TOML: {exc}") from None
    top = _Reader(origin, data, "", _TOP)
    base = top.text("base_path", "")
    if base and (not base.startswith("/") or base.endswith("/")):
        top.fail("base_path", "a path starting with / and not ending with / (or empty)", base)
    scraping = top.text("scraping", "async", SCRAPING)

    a = _Reader(origin, _table(top, "auth"), "auth", tuple(Auth.__dataclass_fields__))
    kind = a.text("kind", None, AUTH_KINDS)
    auth = Auth(kind) if kind == "none" else Auth(
        kind, _path(a, "path"), a.text("username_field", "email"), a.text("password_field", "password"),
        a.text("token_field", "access_token"), a.text("scheme", "Bearer"), a.statuses("status", (200,)))

    o = _Reader(origin, _table(top, "own_id"), "own_id", tuple(OwnId.__dataclass_fields__))
    source = o.text("source", None, OWN_ID_SOURCES)
    if source == "token_prefix" and kind == "none":
        o.fail("source", "me or unknown when auth.kind is none (there is no token)", source)
    own_id = OwnId(source, _path(o, "path") if source == "me" else "", o.text("field", "id"), o.text("claim", "sub"))

    p = _Reader(origin, _table(top, "pagination"), "pagination", tuple(Pagination.__dataclass_fields__))
    size = p.table.get("default_page_size", 20)
    if not isinstance(size, int) or size < 1:
        p.fail("default_page_size", "a whole number >= 1", size)
    pagination = Pagination(p.text("style", "page", PAGINATION_STYLES), p.text("page", "page"),
                            p.text("page_size", "page_size"), p.text("skip", "skip"), p.text("limit", "limit"),
                            p.text("items", "items"), p.names("keys"), size)

    ops_table = _table(top, "operations")
    unknown = sorted(set(ops_table) - set(OPERATIONS))
    if unknown:
        top.fail(f"operations.{unknown[0]}", f"an operation the personas perform ({', '.join(OPERATIONS)})",
                 "an unknown operation")
    missing = [name for name in OPERATIONS if name not in ops_table]
    if missing:
        top.fail(f"operations.{missing[0]}", "a table (write `absent = true` for an operation the deployment "
                 "does not have)", "nothing")
    operations = {name: _operation(origin, name, ops_table[name], base, pagination) for name in OPERATIONS}
    if scraping == "async" and not operations["scrape"].absent and operations["task_poll"].absent:
        top.fail("operations.task_poll", "a route when scraping is async (or scraping = \"sync\")", "absent")
    return Profile(top.text("name", Path(origin).stem), origin, text, top.text("description", ""), base, auth,
                   own_id, pagination, scraping, operations)


def _operation(origin: str, name: str, table: Any, base: str, pagination: Pagination) -> Operation:
    where = f"operations.{name}"
    if not isinstance(table, dict):
        raise ProfileError(f"{origin}: {where}: expected a table, got {table!r}")
    r = _Reader(origin, table, where, _OP_FIELDS)
    source = r.text("source", "")
    if r.flag("absent"):
        return Operation(name, absent=True, source=source)
    allowed = OPERATIONS[name]
    path = _path(r, "path")
    placeholders = _FIELD.findall(path)
    canonical = PATH_ID.get(name)
    if len(placeholders) > (1 if canonical else 0):
        r.fail("path", f"{'one placeholder (the ' + canonical + ')' if canonical else 'no placeholder'}", path)
    if canonical and not placeholders:
        r.fail("path", f"a placeholder for the {canonical}, e.g. /jobs/{{{canonical}}}", path)
    request_path = _FIELD.sub("{" + canonical + "}", path) if canonical else path
    query = r.strings("query")
    for key, value in query.items():
        for used in _FIELD.findall(value):
            if used not in allowed:
                r.fail(f"query.{key}", f"placeholders among {', '.join(allowed) or 'none'}", value)
    match = r.strings("match")
    response = r.text("response", "json", RESPONSES)
    paginated = r.flag("paginated")
    items = r.table.get("items", pagination.items if paginated else None)
    if items is not None and not isinstance(items, str):
        r.fail("items", "a string (\"\" for a bare JSON list)", items)
    body = table.get("body")
    return Operation(
        name=name, method=r.text("method", "GET", METHODS), path=path, full_path=base + path,
        request_name=base + request_path, query=tuple(query.items()), paginated=paginated, body=body,
        status=r.statuses("status", (200,)), also_ok=r.statuses("also_ok", ()), response=response,
        keys=r.names("keys"), owner_field=r.text("owner_field", ""), id_field=r.text("id_field", "id"),
        match=tuple(match.items()), items=items, source=source,
        render_body=_compile(body, origin, f"{where}.body", allowed) if body is not None else None,
        pagination=pagination,
    )
