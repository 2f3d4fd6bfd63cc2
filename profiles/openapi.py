"""A profile held against a deployment's OpenAPI document, and a profile drafted from one.

The deployment describes itself (FastAPI serves `/openapi.json`): routes are
matched against it, never guessed at run time. Path templates match whatever
their placeholders are called (`/jobs/{id}` is `/jobs/{job_id}`).

`check` gives one `Finding` per operation: `ok`, `missing` (no such method and
route), `mismatch` (what differs: a required parameter the profile does not
send, a query parameter or body field the route does not declare, a required
body field left out, a success status the route does not declare), or
`absent` (the profile leaves it out). `draft` writes a profile's TOML from a
document: for each operation the best-scoring route, the runners-up as comments.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profiles.model import Operation, Profile
from profiles.operations import OPERATIONS

DEFAULT_PATH = "/openapi.json"
FETCH_TIMEOUT_S = 10.0
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


class OpenAPIUnavailable(Exception):
    """No OpenAPI document could be had; the message says where it was looked for."""


def fetch(source: str) -> dict[str, Any]:
    """The document from a URL or a file."""
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=FETCH_TIMEOUT_S) as resp:
                text = resp.read().decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
    except urllib.error.HTTPError as exc:
        raise OpenAPIUnavailable(f"{source} answered {exc.code}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OpenAPIUnavailable(f"{source}: {getattr(exc, 'reason', exc)}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise OpenAPIUnavailable(f"{source} is not a JSON OpenAPI document") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise OpenAPIUnavailable(f"{source} is not an OpenAPI document (no paths)")
    return document


def shape(path: str) -> str:
    """A path template with its placeholders unnamed: what two templates must share to be one route."""
    return _PLACEHOLDER.sub("{}", path.rstrip("/") or "/")


@dataclass(frozen=True)
class Finding:
    operation: str
    status: str            # ok | missing | mismatch | absent
    route: str             # "GET /api/v1/jobs" (empty when absent)
    detail: str = ""

    def line(self) -> str:
        if self.status == "absent":
            return f"{self.status:<8} {self.operation:<16} not exercised ({self.detail or 'the profile leaves it out'})"
        tail = f": {self.detail}" if self.detail else ""
        return f"{self.status:<8} {self.operation:<16} {self.route}{tail}"


class _Document:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.routes = {shape(path): item for path, item in document["paths"].items() if isinstance(item, dict)}

    def resolve(self, node: Any) -> Any:
        """Follow `$ref`s into components (local references only)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node, seen = target, seen + 1
        return node

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        item = self.routes.get(shape(path))
        found = item.get(method.lower()) if item else None
        return found if isinstance(found, dict) else None

    def parameters(self, path: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        item = self.routes.get(shape(path), {})
        return [p for p in (self.resolve(p) for p in [*item.get("parameters", []), *spec.get("parameters", [])])
                if isinstance(p, dict)]

    def body_schema(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        content = self.resolve(spec.get("requestBody", {})).get("content", {})
        for media in ("application/json", *content):
            if media in content:
                schema = self.resolve(content[media].get("schema", {}))
                return schema if isinstance(schema, dict) else {}
        return None


def _sent_query(op: Operation) -> set[str]:
    names = {k for k, _ in op.query}
    if op.paginated and op.pagination is not None:
        p = op.pagination
        names |= {p.page, p.page_size} if p.style == "page" else {p.skip, p.limit}
    return names


def check_operation(doc: _Document, op: Operation) -> Finding:
    route = f"{op.method} {op.full_path}"
    spec = doc.operation(op.method, op.full_path)
    if spec is None:
        other = [m.upper() for m in doc.routes.get(shape(op.full_path), {}) if m != "parameters"]
        return Finding(op.name, "missing", route, f"the route has only {', '.join(other)}" if other else
                       "no such route in the OpenAPI document")
    problems: list[str] = []
    params = doc.parameters(op.full_path, spec)
    query = {p["name"]: p for p in params if p.get("in") == "query"}
    sent = _sent_query(op)
    problems += [f"requires query parameter {name}" for name, p in query.items() if p.get("required") and name not in sent]
    problems += [f"no query parameter {name}" for name in sorted(sent) if name not in query]
    schema = doc.body_schema(spec)
    if op.body is not None and schema is None:
        problems.append("takes no request body")
    elif schema is not None:
        if op.body is None and spec.get("requestBody", {}).get("required"):
            problems.append("requires a request body")
        elif isinstance(op.body, dict):
            props = schema.get("properties") or {}
            problems += [f"body lacks required field {name}" for name in schema.get("required", []) if name not in op.body]
            if props:
                problems += [f"body field {name} not in the request schema" for name in op.body if name not in props]
        elif isinstance(op.body, list) and schema.get("type") not in (None, "array"):
            problems.append(f"body is a list, the request schema a {schema.get('type')}")
    declared = {str(code) for code in spec.get("responses", {})}
    for status in op.status:
        if str(status) not in declared and f"{str(status)[0]}XX" not in declared and "default" not in declared:
            problems.append(f"answers {'/'.join(sorted(declared)) or 'nothing declared'}, the profile expects {status}")
    return Finding(op.name, "mismatch" if problems else "ok", route, "; ".join(problems))


def check(profile: Profile, document: dict[str, Any]) -> list[Finding]:
    """One finding per operation of the profile (and its login and own-id routes), in vocabulary order."""
    doc = _Document(document)
    findings: list[Finding] = []
    if profile.auth.kind != "none":
        spec = doc.operation("POST", profile.base_path + profile.auth.path)
        findings.append(Finding("login", "ok" if spec else "missing", f"POST {profile.base_path}{profile.auth.path}",
                                "" if spec else "no such route in the OpenAPI document"))
    if profile.own_id.source == "me":
        spec = doc.operation("GET", profile.base_path + profile.own_id.path)
        findings.append(Finding("own_id", "ok" if spec else "missing", f"GET {profile.base_path}{profile.own_id.path}",
                                "" if spec else "no such route in the OpenAPI document"))
    for name, op in profile.operations.items():
        findings.append(Finding(name, "absent", "", op.source) if op.absent else check_operation(doc, op))
    return findings


def verdict(findings: list[Finding], used: list[str]) -> int:
    """0 when every operation the scenario uses (and login, own id) matches, else 1."""
    needed = {"login", "own_id", *used}
    return 1 if any(f.status in ("missing", "mismatch") and f.operation in needed for f in findings) else 0


# ---------------------------------------------------------------------------- drafting a profile

# operation -> (method, words its path must hold, words that add to its score, words against it, a placeholder wanted)
_HINTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]] = {
    "list_jobs": ("GET", ("jobs",), (), ("search", "stats", "export", "scrape", "sources"), False),
    "filter_jobs": ("GET", ("jobs",), (), ("search", "stats", "export", "scrape", "sources"), False),
    "job_detail": ("GET", ("jobs",), (), ("source", "enrichment"), True),
    "job_stats": ("GET", ("jobs", "stats"), (), (), False),
    "search_jobs": ("GET", ("search",), ("jobs",), (), False),
    "recommendations": ("GET", ("recommendations",), (), ("feedback",), False),
    "dashboard": ("GET", (), ("analytics", "dashboard", "summary"), ("layouts",), False),
    "applications": ("GET", ("applications",), (), ("summary", "stats", "export"), False),
    "activity_log": ("GET", (), ("logs", "activity"), (), False),
    "create_job": ("POST", ("jobs",), (), ("bulk", "scrape", "search"), False),
    "update_job": ("PUT", ("jobs",), (), ("sources",), True),
    "apply": ("POST", ("applications",), (), (), False),
    "export_jobs": ("GET", ("export", "jobs"), (), ("applications",), False),
    "bulk_create": ("POST", ("jobs", "bulk"), (), (), False),
    "delete_job": ("DELETE", ("jobs",), (), (), True),
    "scrape": ("POST", ("scrape",), ("jobs",), (), False),
    "task_poll": ("GET", ("tasks",), (), (), True),
    "cover_letter": ("POST", (), ("cover", "letter", "content", "generate"), (), False),
}


def _score(name: str, method: str, path: str) -> float:
    """How well a route fits an operation; 0 when it cannot be it (method, or a word it must hold)."""
    want_method, required, words, against, placeholder = _HINTS[name]
    parts = [p for p in re.split(r"[/_\-]", _PLACEHOLDER.sub("", path).lower()) if p]
    if method != want_method or any(w not in parts for w in required):
        return 0.0
    score = 2.0 * len(required) + sum(2.0 for w in words if w in parts) - sum(3.0 for w in against if w in parts)
    has = bool(_PLACEHOLDER.search(path))
    score += 1.0 if has == placeholder else -2.0
    return score - 0.1 * len(parts)  # the shorter of two equal routes is the resource itself


def draft(document: dict[str, Any], base_path: str = "") -> str:
    """A profile's TOML for `document`: best route per operation, runners-up as comments; every choice to review."""
    routes = [(method.upper(), path) for path, item in document["paths"].items() if isinstance(item, dict)
              for method in item if method.lower() in ("get", "post", "put", "patch", "delete")]
    doc = _Document(document)
    if not base_path:
        prefix = _common_prefix([p for _, p in routes])
        base_path = prefix
    title = document.get("info", {}).get("title", "deployment")
    scraping = "async" if any(_score("task_poll", m, p) > 0 for m, p in routes) else "sync"
    lines = [f"# Drafted by `careerload profile init` from the OpenAPI document of {title!r}: review every",
             "# operation (status codes, keys, owner fields), then `careerload profile check`.",
             f'name = "{re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-") or "my-deployment"}"',
             f'base_path = "{base_path}"',
             f'scraping = "{scraping}"{" " * (6 - len(scraping))}          # "async": 202 + a task to poll; '
             '"sync": the scrape answers with its counts',
             "", "[auth]", 'kind = "json"               # none | json | form',
             f'path = "{_best_login(routes, base_path)}"', 'username_field = "email"', 'password_field = "password"',
             'token_field = "access_token"', "", "[own_id]",
             'source = "me"               # me | jwt_claim | token_prefix | unknown', 'path = "/users/me"',
             'field = "id"', "", "[pagination]", 'style = "offset"            # page | offset',
             'items = ""                  # "" for a bare JSON list, else the items key']
    for name in OPERATIONS:
        ranked = sorted(((_score(name, m, p), m, p) for m, p in routes), reverse=True)
        ranked = [r for r in ranked if r[0] > 0][:3]
        lines += ["", f"[operations.{name}]"]
        if not ranked:
            lines += ["absent = true               # no route matched: write one, or leave it absent"]
            continue
        _, method, path = ranked[0]
        lines += [f'method = "{method}"', f'path = "{path[len(base_path):] if path.startswith(base_path) else path}"']
        spec = doc.operation(method, path) or {}
        codes = sorted(int(c) for c in spec.get("responses", {}) if str(c).isdigit() and str(c).startswith("2"))
        if codes:
            lines.append(f"status = {codes[0]}")
        query = [p.get("name") for p in doc.parameters(path, spec) if p.get("in") == "query"]
        if {"skip", "limit"} <= set(query) or {"page", "page_size"} <= set(query):
            lines.append("paginated = true")
        if method == "DELETE" and codes == [204]:
            lines.append('response = "empty"')
        lines += [f"# also: {m} {p}" for _, m, p in ranked[1:]]
    return "\n".join(lines) + "\n"


def _common_prefix(paths: list[str]) -> str:
    split = [p.strip("/").split("/") for p in paths if p.startswith("/")]
    prefix: list[str] = []
    for parts in zip(*split):
        if len(set(parts)) != 1 or "{" in parts[0]:
            break
        prefix.append(parts[0])
    counts: dict[str, int] = {}
    for parts in split:  # most APIs have a few odd routes (/health); take the prefix most routes share
        if len(parts) > 2:
            counts["/" + "/".join(parts[:2])] = counts.get("/" + "/".join(parts[:2]), 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1])[0] if counts else ""
    joined = "/" + "/".join(prefix) if prefix else ""
    return joined or (best if counts and counts[best] * 2 > len(split) else "")


def _best_login(routes: list[tuple[str, str]], base_path: str) -> str:
    for method, path in routes:
        if method == "POST" and re.search(r"(login|token)$", path):
            return path[len(base_path):] if path.startswith(base_path) else path
    return "/auth/login"
