"""report.html: one self-contained file a browser opens offline.

Charts are embedded as base64 PNG data URIs and the style sheet is inline, so
the file can be attached to a CI run, mailed or opened from an artifact
download without anything else; it references no external URL. The order is
the reader's: the verdict first, then why (thresholds), then where
(endpoints, personas) and the server's side of it (cache, database, backend
process), then how it evolved (charts), what broke (failures), and what ran
(parameters).
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from analysis import formatting as fmt
from analysis.charts import Chart
from analysis.summary import Summary
from scenarios.thresholds import COUNTS_AS, PASS

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
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; font-size: .8rem; }
.note { color: #555; font-size: .9rem; }
"""


def _status(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


def _table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Cells are already escaped HTML; the first `text_columns` columns are left-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="text">{c}</td>' if i < text_columns else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _stats_rows(rows: list[dict[str, Any]], label) -> list[list[str]]:
    return [
        [escape(label(row)), f"{row['requests']:,}", f"{row['failures']:,}", fmt.ratio(row["failure_ratio"]),
         fmt.rps(row["rps"]), fmt.ms(row["p50_ms"]), fmt.ms(row["p90_ms"]), fmt.ms(row["p95_ms"]),
         fmt.ms(row["p99_ms"]), fmt.ms(row["max_ms"]), fmt.ms(row["avg_ms"])]
        for row in rows
    ]


STATS_HEADERS = ["requests", "failures", "failure ratio", "req/s", "p50 (ms)", "p90 (ms)", "p95 (ms)",
                 "p99 (ms)", "max (ms)", "avg (ms)"]


def _image(chart: Chart) -> str:
    data = base64.b64encode(chart.path.read_bytes()).decode("ascii")
    return f'<h3>{escape(chart.title)}</h3><img alt="{escape(chart.title)}" src="data:image/png;base64,{data}">'


def render(summary: Summary, charts: list[Chart]) -> str:
    parts = [f"<h1>{escape(summary.title)}</h1>",
             f'<div class="verdict {escape(summary.verdict)}">Verdict: {escape(summary.verdict)}</div>']
    failing = [r for r in summary.thresholds if COUNTS_AS[r["status"]] != PASS]
    if failing:
        parts.append("<ul>" + "".join(
            f"<li>{_status(r['status'])} {escape(r['reason'])}"
            f"{'' if r['status'] == COUNTS_AS[r['status']] else ' (counts as ' + COUNTS_AS[r['status']] + ')'}</li>"
            for r in failing) + "</ul>")
    parts.append(f'<p class="note">Percentiles from the {escape(summary.percentile_source)}, '
                 f'{escape(summary.percentile_method)}. Load window {escape(str(summary.window["start"]))} → '
                 f'{escape(str(summary.window["end"]))} ({escape(summary.window["source"])}).</p>')
    for note in summary.notes:
        parts.append(f'<p class="note">{escape(note)}</p>')
    parts.extend(f'<p class="lost-worker">{_status("WARN")} {escape(line)}</p>'
                 for line in fmt.lost_worker_lines(summary.run))

    parts.append("<h2>Thresholds</h2>")
    if summary.thresholds:
        parts.append(_table(
            ["status", "metric", "scope", "target", "critical", "observed", "reason"],
            [[_status(r["status"]), escape(r["metric"]), escape(r["scope"]), escape(fmt.level(r, "target")),
              escape(fmt.level(r, "critical")), escape(fmt.metric_value(r["metric"], r["observed"])), escape(r["reason"])]
             for r in summary.thresholds],
            text_columns=3,
        ))
    else:
        parts.append('<p class="note">No thresholds.</p>')

    parts.append("<h2>Endpoints</h2>")
    parts.append(_table(["endpoint", *STATS_HEADERS], _stats_rows([*summary.endpoints, summary.aggregate], fmt.endpoint_label)))
    if summary.personas:
        parts.append("<h2>Personas</h2>")
        parts.append(_table(["persona", *STATS_HEADERS], _stats_rows(summary.personas, lambda row: row["name"])))

    scrape = fmt.scrape_sentence(summary.scrape)
    if scrape:
        parts.append(f"<h2>Scraping</h2><p>{escape(scrape)}</p>")
    for section in fmt.server_sections(summary.server):
        parts.append(f"<h2>{escape(section.title)}</h2>")
        parts.append("<p>" + " ".join(escape(sentence) for sentence in section.sentences) + "</p>")
        if section.rows:
            parts.append(_table(section.headers, [[escape(cell) for cell in row] for row in section.rows]))
    if summary.server:
        parts.extend(f'<p class="note">{escape(note)}</p>' for note in summary.server["notes"])

    if charts:
        parts.append("<h2>Charts</h2>")
        parts.extend(_image(chart) for chart in charts)

    parts.append("<h2>Failures by error</h2>")
    if summary.failures:
        parts.append(_table(
            ["error", "endpoint", "occurrences", "first seen", "last seen"],
            [[escape(f["error"]), escape(f"{f['method']} {f['name']}"), f"{f['occurrences']:,}",
              escape(str(f["first_seen"] or "–")), escape(str(f["last_seen"] or "–"))] for f in summary.failures],
            text_columns=2,
        ))
    else:
        parts.append('<p class="note">No failures.</p>')
    if summary.exceptions:
        parts.append("<h2>Exceptions in the load generator</h2>")
        for exc in summary.exceptions:
            parts.append(f"<p>{exc['count']:,} × {escape(exc['message'])} ({escape(exc['nodes'])})</p>"
                         f"<pre>{escape(exc['traceback'])}</pre>")

    parts.append("<h2>Run parameters</h2>")
    params = [[escape(key), f"<code>{escape(json.dumps(value, default=str))}</code>"] for key, value in summary.run.items()]
    params.append(["window", f"<code>{escape(json.dumps(summary.window))}</code>"])
    parts.append(_table(["parameter", "value"], params, text_columns=2))

    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(summary.title)} — {escape(summary.verdict)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def write(summary: Summary, charts: list[Chart], path: Path) -> Path:
    path.write_text(render(summary, charts), encoding="utf-8")
    return path
