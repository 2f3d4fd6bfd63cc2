"""A k6 script's iteration function -> the tasks of a declarative persona (scenarios.declarative).

Walked statement by statement, keeping every way through the function as an
alternative with its probability:

- `http.get/head/options(url, params)`, `http.post/put/patch/del(url, body,
  params)`, `http.request(method, url, body, params)`: a request, its URL made a
  path (the scheme and host go: careerload takes `--host`), `params.headers` and
  `params.tags.name` kept; a body that is a string (`JSON.stringify(...)`) is
  sent as is, an object as a form, as k6 does.
- `check(res, {...})`: each status predicate (`r.status === 200`,
  `r.status >= 200 && r.status < 300`, `[200, 201].includes(r.status)`) narrows
  the statuses that count as success for the request `res` holds; a predicate on
  the body or headers is noted, not translated.
- `sleep(...)`: think time, as a range (`sleep(1 + Math.random() * 2)` is 1-3 s).
- `if (Math.random() < p) {...} else {...}`, also through `const r =
  Math.random()` and `else if` chains: each branch multiplies its
  alternatives' probability, which become the tasks' weights.
- `group(name, fn)`: its body is played; the group tag is not (noted).

Anything else (loops, other conditions, assignments, calls of the script's own
functions) is a `Note` with its line, and its requests are not played.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce
from urllib.parse import urlencode, urlsplit

from tree_sitter import Node

from scenarios.declarative import DEFAULT_STATUSES, Request, Sleep, Task
from scenarios.k6.syntax import Evaluator, NotConstant, arguments, callee, is_math_random, line_of, text, unwrap
from scenarios.k6.untranslatable import Note

BODYLESS = {"http.get": "GET", "http.head": "HEAD", "http.options": "OPTIONS"}
WITH_BODY = {"http.post": "POST", "http.put": "PUT", "http.patch": "PATCH", "http.del": "DELETE"}
MAX_ALTERNATIVES = 256  # nested random branches multiply; past this the script is not a mix of tasks
WEIGHT_RESOLUTION = 1000  # probabilities are written as whole-number weights, per mille, then reduced
IGNORED_CALLS = ("console.log", "console.info", "console.warn", "console.error", "console.debug")


@dataclass
class _Request:
    """A request being built: checks found later narrow its statuses (shared by every alternative holding it)."""

    method: str
    path: str
    name: str
    headers: dict[str, str]
    body: str | None
    statuses: set[int] | None = None
    checks: list[str] = field(default_factory=list)

    def freeze(self) -> Request:
        statuses = tuple(sorted(self.statuses)) if self.statuses is not None else DEFAULT_STATUSES
        return Request(self.method, self.path, self.name, tuple(self.headers.items()), self.body, statuses,
                       tuple(self.checks))


@dataclass
class _Alternative:
    probability: float
    steps: list[_Request | Sleep]
    responses: dict[str, _Request]


class RequestWalker:
    """Walks one function body; `tasks()` gives the persona's tasks, `notes` what was not translated."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.notes: list[Note] = []
        self.hosts: set[str] = set()
        # (k6's name tag: params.tags.name or the whole URL, method, our name) of every translated request
        self.names: list[tuple[str, str, str]] = []
        self.randoms: set[str] = set()

    def note(self, node: Node, what: str) -> None:
        self.notes.append(Note(line_of(node), what))

    def walk_function(self, function: Node) -> list[_Alternative]:
        body = function.child_by_field_name("body")
        if body is None:
            return [_Alternative(1.0, [], {})]
        if body.type != "statement_block":  # an arrow function with an expression body
            return self.walk([body], [_Alternative(1.0, [], {})], expression=True)
        return self.walk(body.named_children, [_Alternative(1.0, [], {})])

    def walk(self, statements: list[Node], alternatives: list[_Alternative], expression: bool = False) -> list[_Alternative]:
        for statement in statements:
            alternatives = self.statement(statement, alternatives) if not expression else \
                self.expression(statement, alternatives)
        return alternatives

    def statement(self, node: Node, alternatives: list[_Alternative]) -> list[_Alternative]:
        kind = node.type
        if kind in ("comment", "empty_statement"):
            return alternatives
        if kind in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                if declarator.type == "variable_declarator":
                    alternatives = self.declarator(declarator, alternatives)
            return alternatives
        if kind == "expression_statement":
            return self.expression(node.named_children[0], alternatives)
        if kind == "statement_block":
            return self.walk(node.named_children, alternatives)
        if kind == "if_statement":
            return self.branch(node, alternatives)
        if kind in ("for_statement", "for_in_statement", "while_statement", "do_statement"):
            self.note(node, "loop: careerload plays a fixed list of steps per iteration; the loop and its "
                            "requests are not translated")
            return alternatives
        if kind == "return_statement":
            return alternatives
        self.note(node, f"{kind.replace('_', ' ')} not translated: {text(node)[:50]!r}")
        return alternatives

    def declarator(self, node: Node, alternatives: list[_Alternative]) -> list[_Alternative]:
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if value is None or name is None:
            return alternatives
        value = unwrap(value)
        if is_math_random(value) and name.type == "identifier":
            self.randoms.add(text(name))
            return alternatives
        if value.type == "call_expression" and self._is_request(value):
            request = self.request(value)
            if request is None:
                return alternatives
            for alternative in alternatives:
                alternative.steps.append(request)
                if name.type == "identifier":
                    alternative.responses[text(name)] = request
            return alternatives
        if value.type == "call_expression" and callee(value) != "JSON.stringify":
            return self.expression(value, alternatives)
        if name.type == "identifier":
            self.evaluator.bindings[text(name)] = value  # a local constant (a URL, a payload)
        return alternatives

    @staticmethod
    def _is_request(node: Node) -> bool:
        return callee(node) in BODYLESS or callee(node) in WITH_BODY or callee(node) == "http.request"

    def expression(self, node: Node, alternatives: list[_Alternative]) -> list[_Alternative]:
        node = unwrap(node)
        name = callee(node)
        if self._is_request(node):
            request = self.request(node)
            for alternative in alternatives if request is not None else ():
                alternative.steps.append(request)
            return alternatives
        if name == "check":
            self.check(node, alternatives)
            return alternatives
        if name == "sleep":
            return self.sleep(node, alternatives)
        if name == "group" and len(arguments(node)) == 2 and arguments(node)[1].type in ("arrow_function",
                                                                                        "function_expression"):
            self.note(node, f"group({text(arguments(node)[0])}): the group tag is not kept (its requests are played)")
            function = arguments(node)[1]
            body = function.child_by_field_name("body")
            return self.walk(body.named_children, alternatives) if body is not None and \
                body.type == "statement_block" else alternatives
        if name in IGNORED_CALLS or name in ("http.file", "http.batch", "open"):
            return alternatives  # console output; the others are noted by untranslatable.scan
        self.note(node, f"not translated: {text(node)[:60]!r}")
        return alternatives

    # ------------------------------------------------------------------ requests, checks, sleeps

    def request(self, node: Node) -> _Request | None:
        name, args = callee(node), arguments(node)
        try:
            if name == "http.request":
                if len(args) < 2:
                    raise NotConstant("http.request needs a method and a URL")
                method = str(self.evaluator.value(args[0])).upper()
                args = args[1:]
            else:
                method = BODYLESS.get(name) or WITH_BODY[name]
            if not args:
                raise NotConstant(f"{name} without a URL")
            url = self.evaluator.value(args[0])
            body_node = args[1] if name not in BODYLESS and len(args) > 1 else None
            params_node = args[1] if name in BODYLESS and len(args) > 1 else args[2] if len(args) > 2 else None
            body = self.evaluator.value(body_node) if body_node is not None else None
            params = self.evaluator.value(params_node) if params_node is not None else {}
        except NotConstant as exc:
            self.note(node, f"request {text(node)[:60]!r} not translated: {exc} is not known at import")
            return None
        if not isinstance(url, str) or not isinstance(params, dict):
            self.note(node, f"request {text(node)[:60]!r} not translated: URL or params are not what k6 takes")
            return None
        parts = urlsplit(url)
        if parts.scheme:
            self.hosts.add(f"{parts.scheme}://{parts.netloc}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not path.startswith("/"):
            self.note(node, f"request to {url!r} not translated: not an absolute URL or path")
            return None
        headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
        if isinstance(body, dict):  # k6 sends an object as a form
            body = urlencode({k: str(v) for k, v in body.items()})
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None and not isinstance(body, str):
            self.note(node, f"request {text(node)[:60]!r}: body {body!r} is neither a string nor an object; not sent")
            body = None
        request_name = (params.get("tags") or {}).get("name")
        if isinstance(request_name, str) and urlsplit(request_name).scheme:
            request_name = urlsplit(request_name).path or "/"
        unknown = set(params) - {"headers", "tags"}
        if unknown:
            self.note(node, f"request params {', '.join(sorted(unknown))} not translated")
        ours = request_name if isinstance(request_name, str) else path.split("?", 1)[0]
        tag = (params.get("tags") or {}).get("name")
        self.names.append((tag if isinstance(tag, str) else url, method, ours))
        return _Request(method, path, ours, headers, body)

    def check(self, node: Node, alternatives: list[_Alternative]) -> None:
        args = arguments(node)
        if len(args) < 2 or args[1].type != "object":
            self.note(node, "check(...) without an object of predicates: not translated")
            return
        target = unwrap(args[0])
        if target.type == "identifier":
            requests = {id(a.responses[text(target)]): a.responses[text(target)]
                        for a in alternatives if text(target) in a.responses}
        else:
            self.note(node, "check on an expression that is not a response variable: not translated")
            return
        if not requests:
            self.note(node, f"check on {text(target)!r}: no translated request holds it")
            return
        for pair in args[1].named_children:
            if pair.type != "pair":
                continue
            label = self.evaluator.key(pair.child_by_field_name("key"))
            statuses = self._status_predicate(pair.child_by_field_name("value"))
            if statuses is None:
                self.note(pair, f"check {label!r} tests more than the status: not translated")
                continue
            for request in requests.values():
                request.statuses = statuses if request.statuses is None else request.statuses & statuses
                request.checks.append(label)

    def _status_predicate(self, function: Node) -> set[int] | None:
        """The statuses an arrow function `(r) => <status test>` accepts; None when it tests anything else."""
        if function.type not in ("arrow_function", "function_expression"):
            return None
        param = function.child_by_field_name("parameter")
        if param is None:
            params = function.child_by_field_name("parameters")
            named = params.named_children if params is not None else []
            param = named[0] if named else None
        body = function.child_by_field_name("body")
        if param is None or body is None:
            return None
        if body.type == "statement_block":
            statements = [s for s in body.named_children if s.type != "comment"]
            if len(statements) != 1 or statements[0].type != "return_statement" or not statements[0].named_children:
                return None
            body = statements[0].named_children[0]
        return self._statuses(unwrap(body), text(param))

    def _statuses(self, node: Node, param: str) -> set[int] | None:
        every = set(range(100, 600))
        if node.type == "binary_expression":
            op = text(node.child_by_field_name("operator"))
            left, right = unwrap(node.child_by_field_name("left")), unwrap(node.child_by_field_name("right"))
            if op in ("&&", "||"):
                a, b = self._statuses(left, param), self._statuses(right, param)
                return None if a is None or b is None else (a & b if op == "&&" else a | b)
            status = f"{param}.status"
            if text(right) == status and text(left) != status:
                left, right = right, left
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            if text(left) != status:
                return None
            try:
                value = self.evaluator.value(right)
            except NotConstant:
                return None
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            tests = {"===": lambda s: s == value, "==": lambda s: s == value, "!==": lambda s: s != value,
                     "!=": lambda s: s != value, "<": lambda s: s < value, "<=": lambda s: s <= value,
                     ">": lambda s: s > value, ">=": lambda s: s >= value}
            return {s for s in every if tests[op](s)} if op in tests else None
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            args = arguments(node)
            if (function is not None and function.type == "member_expression"
                    and text(function.child_by_field_name("property")) == "includes"
                    and len(args) == 1 and text(args[0]) == f"{param}.status"):
                try:
                    values = self.evaluator.value(function.child_by_field_name("object"))
                except NotConstant:
                    return None
                if isinstance(values, list) and all(isinstance(v, int) for v in values):
                    return set(values)
        return None

    def sleep(self, node: Node, alternatives: list[_Alternative]) -> list[_Alternative]:
        args = arguments(node)
        try:
            low, high = self.evaluator.interval(args[0], frozenset(self.randoms)) if len(args) == 1 else (None, None)
        except NotConstant as exc:
            self.note(node, f"sleep({text(args[0])[:40]}) not translated: {exc}")
            return alternatives
        if low is None or low < 0 or high < low:
            self.note(node, f"{text(node)[:50]!r} not translated: expected sleep(seconds)")
            return alternatives
        for alternative in alternatives:
            alternative.steps.append(Sleep(low, high))
        return alternatives

    # ------------------------------------------------------------------ random branches

    def branch(self, node: Node, alternatives: list[_Alternative]) -> list[_Alternative]:
        """An if/else-if/else chain on Math.random(): each branch gets its share of every alternative."""
        chain: list[tuple[Node | None, Node]] = []
        current: Node | None = node
        while current is not None and current.type == "if_statement":
            chain.append((current.child_by_field_name("condition"), current.child_by_field_name("consequence")))
            alternative = current.child_by_field_name("alternative")
            current = alternative.named_children[0] if alternative is not None and alternative.named_children else None
        if current is not None:
            chain.append((None, current))
        shares = self._shares([condition for condition, _ in chain if condition is not None])
        if shares is None:
            self.note(node, f"if ({text(chain[0][0])[1:-1][:40]}): only branches on Math.random() are translated "
                            "(as task weights); this one and its requests are not")
            return alternatives
        shares.append(max(0.0, 1.0 - sum(shares)))  # the else branch: what no condition took
        if current is None:
            chain.append((None, None))  # the implicit else: nothing happens
        out: list[_Alternative] = []
        for share, (_, block) in zip(shares, chain):
            if share <= 0:
                continue
            seeds = [_Alternative(a.probability * share, list(a.steps), dict(a.responses)) for a in alternatives]
            out += self.statement(block, seeds) if block is not None else seeds
        if len(out) > MAX_ALTERNATIVES:
            self.note(node, f"random branches make more than {MAX_ALTERNATIVES} ways through the function; "
                            "this if and its requests are not translated")
            return alternatives
        return out

    def _shares(self, conditions: list[Node]) -> list[float] | None:
        """Each condition's probability of being the first true one; None unless every one tests Math.random()."""
        remaining = [(0.0, 1.0)]  # the part of [0, 1] of a shared random variable no earlier condition took
        variable: str | None = None
        fresh_left = 1.0
        shares = []
        for condition in conditions:
            test = self._random_test(unwrap(condition))
            if test is None:
                return None
            name, low, high = test
            if name is None:  # a fresh Math.random() in each condition: independent draws
                shares.append(fresh_left * (high - low))
                fresh_left *= 1 - (high - low)
                continue
            if variable not in (None, name):
                return None
            variable = name
            taken = sum(max(0.0, min(b, high) - max(a, low)) for a, b in remaining)
            remaining = [piece for a, b in remaining for piece in ((a, min(b, low)), (max(a, high), b)) if piece[1] > piece[0]]
            shares.append(taken * fresh_left)
        return shares

    def _random_test(self, node: Node) -> tuple[str | None, float, float] | None:
        """`Math.random() < p` (or a variable bound to it) -> (variable or None, low, high) of the true part."""
        if node.type != "binary_expression":
            return None
        op = text(node.child_by_field_name("operator"))
        left, right = unwrap(node.child_by_field_name("left")), unwrap(node.child_by_field_name("right"))
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if not (is_math_random(left) or text(left) in self.randoms):
            left, right, op = right, left, flip.get(op, op)
        if not (is_math_random(left) or text(left) in self.randoms) or op not in flip:
            return None
        try:
            p = float(self.evaluator.value(right))
        except (NotConstant, TypeError, ValueError):
            return None
        p = min(max(p, 0.0), 1.0)
        name = None if is_math_random(left) else text(left)
        return (name, 0.0, p) if op in ("<", "<=") else (name, p, 1.0)


def tasks(alternatives: list[_Alternative], line: int) -> tuple[tuple[Task, ...], list[Note]]:
    """The alternatives as tasks with whole-number weights (per mille, reduced by their common divisor).

    A way through the function rarer than half a per mille gets weight 0 and is left out, with a note (`line`:
    the function's).
    """
    weighted = [(round(a.probability * WEIGHT_RESOLUTION), a) for a in alternatives]
    kept = [(weight, a) for weight, a in weighted if weight > 0]
    notes = [Note(line, f"{len(weighted) - len(kept)} way(s) through the function rarer than 1/{2 * WEIGHT_RESOLUTION} "
                        "left out (weights are per mille)")] if len(kept) < len(weighted) else []
    divisor = reduce(math.gcd, (weight for weight, _ in kept), 0) or 1
    out = []
    for weight, alternative in kept:
        steps = tuple(step.freeze() if isinstance(step, _Request) else step for step in alternative.steps)
        out.append(Task(weight // divisor, steps or (Sleep(0.0, 0.0),)))
    return tuple(out), notes
