"""k6 threshold expressions in scenario files, parsed once into our `Threshold` objects.

A team moving from k6 keeps its thresholds as k6 writes them (k6's
`metrics/thresholds_parser.go` grammar: aggregation, operator, number):

    [k6.thresholds]
    http_req_duration = ["p(95)<500", "p(99)<1500"]
    http_req_failed = ["rate<0.01"]
    "http_req_duration{name:GET /api/v1/jobs}" = [
        { threshold = "p(95)<300", abortOnFail = true, delayAbortEval = "10s" },
    ]

Why `[k6.thresholds]` and not `[thresholds.k6]`: our own thresholds are an
array of tables (`[[thresholds]]`), and TOML cannot make one key both. Written
after a `[[thresholds]]`, `[thresholds.k6]` is a sub-table of the last of them
(its `k6` field, refused by scenarios.thresholds as an unknown field); written
before one, the `[[thresholds]]` does not parse. A top-level `k6` key has neither problem.

Each expression becomes one `Threshold` whose only level is `critical` (a k6
threshold has one level: it passes or fails the run); `abortOnFail` becomes
`abort_on_fail` and `delayAbortEval` its `grace`. k6 metrics map to ours:

    http_req_duration  avg max med p(50) p(90) p(95) p(99)  -> avg max p50 p50 p90 p95 p99 (ms)
    http_req_failed    rate < X                             -> failure_ratio <= X
    http_reqs          rate > X                             -> rps >= X
    checks             rate > X                             -> failure_ratio <= 1 - X (a failed check
                                                               fails its request here, see locustfiles.common)
    dropped_iterations count < X                            -> dropped_iterations <= X (the open model's
                                                               count, from the time-aware verdicts, #15)

Tag filters pick an endpoint: `{name:GET /api/v1/jobs}` or
`{method:GET,name:/api/v1/jobs}` -> scope `endpoint:GET /api/v1/jobs` (our
endpoints are method + route template; k6's `name` tag alone has no method).
`{expected_response:true}` is accepted and judges the aggregate. Where the
requests are known (an imported script, a k6 run's output), `rewrite_selector`
turns k6's own `{name:<URL or tag>}` into that form first.

Two differences from k6, both at a boundary: `<` and `<=` (and `>`, `>=`) are
the same here, since our levels are inclusive (an observed p95 of exactly 500 ms
passes `p(95)<500` here and fails in k6); and k6 interpolates percentiles
linearly between samples while careerload takes the nearest rank.
Everything else (another aggregation, metric, tag or operator) is an error naming
the expression, never a threshold that silently judges something else.
"""

from __future__ import annotations

import re
from typing import Any

from scenarios.thresholds import HIGHER_IS_BETTER, METRICS, ScenarioError, Threshold, parse_duration

# k6's grammar: aggregation [(argument)] operator number, whitespace allowed between the parts.
_EXPRESSION = re.compile(r"^\s*(?P<agg>[a-z]+)\s*(?:\(\s*(?P<arg>[0-9.]+)\s*\))?\s*"
                         r"(?P<op><=|>=|===|==|!=|<|>)\s*(?P<value>-?[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)\s*$")
_SELECTOR = re.compile(r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(?P<tags>[^}]*)\})?\s*$")
_TREND = {"avg": "avg", "max": "max", "med": "p50", "p(50)": "p50", "p(90)": "p90", "p(95)": "p95", "p(99)": "p99"}
# k6 metric -> {aggregation -> our metric}
METRIC_MAP: dict[str, dict[str, str]] = {
    "http_req_duration": _TREND,
    "http_req_failed": {"rate": "failure_ratio"},
    "http_reqs": {"rate": "rps"},
    "checks": {"rate": "failure_ratio"},
    "dropped_iterations": {"count": "dropped_iterations"},
}
OBJECT_KEYS = {"threshold", "abortOnFail", "delayAbortEval"}


def _scope(tags: str | None, where: str) -> str:
    """A tag filter -> our scope; only the tags that name an endpoint are understood."""
    if not tags or not tags.strip():
        return "aggregate"
    found: dict[str, str] = {}
    for part in tags.split(","):
        key, sep, value = part.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ScenarioError(f"{where}: tag filter {part.strip()!r} is not tag:value")
        found[key] = value
    unknown = set(found) - {"name", "method", "expected_response"}
    if unknown:
        raise ScenarioError(f"{where}: tag(s) {', '.join(sorted(unknown))} cannot be mapped; careerload "
                            "understands name, method (an endpoint) and expected_response:true")
    if found.pop("expected_response", "true") != "true":
        raise ScenarioError(f"{where}: only expected_response:true can be mapped (the aggregate)")
    if not found:
        return "aggregate"
    if "name" not in found:
        raise ScenarioError(f"{where}: a method tag needs a name tag: {{method:GET,name:/api/v1/jobs}}")
    name = found["name"]
    if "method" in found:
        name = f"{found['method'].upper()} {name}"
    method, _, path = name.partition(" ")
    if not path.strip() or method != method.upper():
        raise ScenarioError(f"{where}: name tag {found['name']!r} has no method: write "
                            f"{{name:GET {found['name']}}} or {{method:GET,name:{found['name']}}}")
    return f"endpoint:{method} {path.strip()}"


def rewrite_selector(selector: str, names: list[tuple[str, str, str]]) -> str:
    """`http_req_duration{name:http://h/api/v1/jobs}` -> `http_req_duration{name:GET /api/v1/jobs}` when it can.

    `names` are the script's requests as (k6 name tag, method, careerload name):
    the tag matches k6's name (params.tags.name, else the URL); the rewrite
    needs every request it matches to have one method and one careerload name.
    """
    match = _SELECTOR.match(selector)
    if not match or not match["tags"]:
        return selector
    tags = {k.strip(): v.strip() for k, v in (part.split(":", 1) for part in match["tags"].split(",") if ":" in part)}
    name = tags.get("name")
    if name is None or " " in name:
        return selector
    matched = {(method, ours) for k6_name, method, ours in names if k6_name == name
               and tags.get("method", method).upper() == method}
    if len(matched) != 1:
        return selector
    method, ours = matched.pop()
    tags.pop("method", None)
    tags["name"] = f"{method} {ours}"
    return f"{match['metric']}{{{','.join(f'{k}:{v}' for k, v in tags.items())}}}"


def parse_expression(selector: str, expression: str, where: str, *, abort_on_fail: bool = False,
                     grace_s: float = 0.0) -> Threshold:
    """One k6 threshold (`http_req_duration{name:...}`, `p(95)<500`) -> a critical-level Threshold."""
    picked = _SELECTOR.match(selector)
    if not picked:
        raise ScenarioError(f"{where}: {selector!r} is not a k6 metric name with an optional {{tag:value}} filter")
    k6_metric = picked["metric"]
    if k6_metric not in METRIC_MAP:
        raise ScenarioError(f"{where}: k6 metric {k6_metric!r} has no careerload equivalent; expected one of "
                            f"{', '.join(METRIC_MAP)}")
    if not isinstance(expression, str):
        raise ScenarioError(f"{where}: expected a k6 expression string like 'p(95)<500', got {expression!r}")
    parsed = _EXPRESSION.match(expression)
    if not parsed:
        raise ScenarioError(f"{where}: {expression!r} is not a k6 threshold expression (aggregation operator "
                            "number, e.g. 'p(95)<500' or 'rate<0.01')")
    aggregation = parsed["agg"] + (f"({float(parsed['arg']):g})" if parsed["arg"] else "")
    metric = METRIC_MAP[k6_metric].get(aggregation)
    if metric is None:
        raise ScenarioError(f"{where}: {k6_metric} {aggregation} cannot be mapped; expected one of "
                            f"{', '.join(METRIC_MAP[k6_metric])}")
    if metric not in METRICS:
        raise ScenarioError(f"{where}: {k6_metric} maps to {metric}, which this careerload does not judge yet")
    value = float(parsed["value"])
    # checks rate > X: the share of passing checks; ours counts the failing ones.
    higher = metric in HIGHER_IS_BETTER or k6_metric == "checks"
    op = parsed["op"]
    if op not in ((">", ">=") if higher else ("<", "<=")):
        wanted = "> or >=" if higher else "< or <="
        raise ScenarioError(f"{where}: {expression!r}: {k6_metric} {aggregation} is judged with {wanted} here, "
                            f"got {op}")
    if k6_metric == "checks":
        value = 1.0 - value
    return Threshold(metric, _scope(picked["tags"], where), critical=value, abort_on_fail=abort_on_fail,
                     grace_s=grace_s)


def _one(selector: str, entry: Any, where: str) -> Threshold:
    if isinstance(entry, str):
        return parse_expression(selector, entry, where)
    if not isinstance(entry, dict):
        raise ScenarioError(f"{where}: expected an expression string or a table with threshold, abortOnFail, "
                            f"delayAbortEval, got {entry!r}")
    unknown = set(entry) - OBJECT_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected "
                            f"{', '.join(sorted(OBJECT_KEYS))}")
    if "threshold" not in entry:
        raise ScenarioError(f"{where}.threshold: required, expected a k6 expression like 'p(95)<500'")
    abort = entry.get("abortOnFail", False)
    if not isinstance(abort, bool):
        raise ScenarioError(f"{where}.abortOnFail: expected true or false, got {abort!r}")
    grace = parse_duration(entry.get("delayAbortEval", 0), f"{where}.delayAbortEval")
    return parse_expression(selector, entry["threshold"], f"{where}.threshold", abort_on_fail=abort, grace_s=grace)


def from_table(raw: Any, where: str) -> list[Threshold]:
    """The `[k6]` table of a scenario file (None when absent) -> its thresholds, in file order."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: k6: expected a table ([k6.thresholds])")
    unknown = set(raw) - {"thresholds"}
    if unknown:
        raise ScenarioError(f"{where}: k6: unknown field(s) {', '.join(sorted(unknown))}; expected thresholds")
    table = raw.get("thresholds", {})
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: k6.thresholds: expected a table of metric = [expressions]")
    out = []
    for selector, entries in table.items():
        here = f"{where}: k6.thresholds.{selector!r}" if not selector.isidentifier() else \
            f"{where}: k6.thresholds.{selector}"
        entries = [entries] if isinstance(entries, (str, dict)) else entries
        if not isinstance(entries, list) or not entries:
            raise ScenarioError(f"{here}: expected a non-empty array of k6 expressions")
        out += [_one(selector, entry, f"{here}[{i}]") for i, entry in enumerate(entries)]
    return out
