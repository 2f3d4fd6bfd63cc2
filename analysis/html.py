"""report.html: one self-contained file a browser opens offline.

Charts are embedded as base64 PNG data URIs and the style sheet is inline, so
the file can be attached to a CI run, mailed or opened from an artifact
download without anything else; it references no external URL. The order is
the reader's: the verdict first, then why (thresholds), then where
(endpoints, personas) and the server's side of it (cache, database, backend
process), then how it evolved (charts), what broke (failures), and what ran
(parameters).

The page is a Jinja2 template (templates/report.html.j2) with autoescape on:
every value from the run (endpoint names, error messages, tracebacks) is text,
and no code here writes markup by hand.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jinja2

from analysis import formatting as fmt
from analysis.charts import Chart
from analysis.summary import Summary
from analysis.time_sections import time_sections
from scenarios.thresholds import COUNTS_AS, PASS

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("analysis", "templates"), autoescape=True, undefined=jinja2.StrictUndefined,
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.verdict { font-size: 1.6rem; font-weight: 700; padding: .8rem 1.2rem; border-radius: .4rem; color: white; }
.PASS { background: #2e7d32; } .WARN { background: #b26a00; } .FAIL { background: #c62828; }
.NO_DATA { background: #757575; }
span.status { padding: .1rem .5rem; border-radius: .3rem; color: white; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
th { background: #f5f5f5; }
img { max-width: 100%; margin: .6rem 0 1.2rem; }
nav#contents ol { columns: 2; font-size: .9rem; } nav#contents h2 { font-size: 1.1rem; }
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; font-size: .8rem; }
.note { color: #555; font-size: .9rem; }
.incomplete { font-weight: 600; border-left: .3rem solid #b26a00; padding: .4rem .8rem; background: #fff4e5; }
"""


STATS_HEADERS = ["requests", "failures", "failure ratio", "req/s", "p50 (ms)", "p90 (ms)", "p95 (ms)",
                 "p99 (ms)", "max (ms)", "avg (ms)"]


def _stats_rows(rows: list[dict[str, Any]], label) -> list[list[str]]:
    return [
        [label(row), f"{row['requests']:,}", f"{row['failures']:,}", fmt.ratio(row["failure_ratio"]),
         fmt.rps(row["rps"]), fmt.ms(row["p50_ms"]), fmt.ms(row["p90_ms"]), fmt.ms(row["p95_ms"]),
         fmt.ms(row["p99_ms"]), fmt.ms(row["max_ms"]), fmt.ms(row["avg_ms"])]
        for row in rows
    ]


def _contents(context: dict[str, Any]) -> list[tuple[str, str]]:
    """The table of contents: (anchor, heading) of every section the page has, in its order; charts one by one."""
    entries = [("thresholds", "Thresholds")]
    entries += [(f"time-{n}", section.title) for n, section in enumerate(context["time_sections"], 1)]
    entries += [("endpoints", "Endpoints")]
    entries += [("personas", "Personas")] if context["personas"] else []
    entries += [("scraping", "Scraping")] if context["scrape"] else []
    entries += [(f"server-{n}", section.title) for n, section in enumerate(context["server_sections"], 1)]
    entries += [(f"chart-{n}", chart["title"]) for n, chart in enumerate(context["charts"], 1)]
    entries += [("failures", "Failures by error")]
    entries += [("exceptions", "Exceptions in the load generator")] if context["exceptions"] else []
    return [*entries, ("parameters", "Run parameters")]


def _context(summary: Summary, charts: list[Chart]) -> dict[str, Any]:
    """What the template shows, as plain text values: formatting here, layout in the template."""
    thresholds = [{"status": r["status"], "metric": r["metric"], "scope": fmt.threshold_scope(r),
                   "target": fmt.level(r, "target"), "critical": fmt.level(r, "critical"),
                   "observed": fmt.result_value(r, "observed"), "reason": r["reason"],
                   "counts_as": COUNTS_AS[r["status"]]}
                  for r in summary.thresholds]
    parameters = [(key, json.dumps(value, default=str)) for key, value in summary.run.items()]
    parameters.append(("window", json.dumps(summary.window)))
    context = {
        "style": STYLE,
        "title": summary.title,
        "verdict": summary.verdict,
        "incomplete": summary.incomplete,
        "failing": [r for r in thresholds if r["counts_as"] != PASS],
        "percentile_source": summary.percentile_source,
        "percentile_method": summary.percentile_method,
        "window": summary.window,
        "notes": summary.notes,
        "lost_workers": fmt.lost_worker_lines(summary.run),
        "profile_notes": fmt.profile_lines(summary.run),
        "thresholds": thresholds,
        "time_sections": time_sections(summary),
        "stats_headers": STATS_HEADERS,
        "endpoints": _stats_rows([*summary.endpoints, summary.aggregate], fmt.endpoint_label),
        "personas": _stats_rows(summary.personas, lambda row: row["name"]),
        "scrape": fmt.scrape_sentence(summary.scrape),
        "server_sections": fmt.server_sections(summary.server),
        "server_notes": summary.server["notes"] if summary.server else [],
        "charts": [{"title": chart.title, "data": base64.b64encode(chart.path.read_bytes()).decode("ascii")}
                   for chart in charts],
        "failures": summary.failures,
        "exceptions": summary.exceptions,
        "parameters": parameters,
    }
    return {**context, "contents": _contents(context)}


def render(summary: Summary, charts: list[Chart]) -> str:
    return _TEMPLATES.get_template("report.html.j2").render(_context(summary, charts)) + "\n"


def write(summary: Summary, charts: list[Chart], path: Path) -> Path:
    path.write_text(render(summary, charts), encoding="utf-8")
    return path
