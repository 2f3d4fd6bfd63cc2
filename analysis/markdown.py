"""report.md (a CI job summary) and comparison.md: short Markdown from the same structures.

Short on purpose: GitHub and GitLab show it in the job page, so it carries the
verdict, every threshold (and why each one without data counts as WARN), the
slowest endpoints, the scraping counts, the server-side evidence (cache,
database, backend process) and the commonest failures; the full tables and the
charts are in report.html.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis import formatting as fmt
from analysis.compare import IMPROVEMENT, METRICS, NOISE, REGRESSION, TOO_FEW
from analysis.summary import Summary
from analysis.time_sections import time_sections
from scenarios.thresholds import COUNTS_AS, NO_DATA, PASS

ICONS = {"PASS": "✅", "WARN": "⚠️", "FAIL": "❌", "NO_DATA": "➖"}
FLAG_ICONS = {REGRESSION: "❌", IMPROVEMENT: "✅", NOISE: "➖", TOO_FEW: "·"}
SLOWEST = 10
TOP_FAILURES = 5


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render(summary: Summary) -> str:
    agg = summary.aggregate
    missed = sum(1 for r in summary.thresholds if COUNTS_AS[r["status"]] != PASS)
    lines = [
        f"## {ICONS[summary.verdict]} {summary.title}: {summary.verdict}"
        f"{' (incomplete run)' if summary.incomplete else ''}",
        "",
        *([f"> ⚠️ **{summary.incomplete['note']}**", ""] if summary.incomplete else []),
        f"**{summary.verdict}**: {missed} of {len(summary.thresholds)} thresholds missed or without data. "
        f"{agg['requests']:,} requests, {fmt.ratio(agg['failure_ratio'])} failed, {fmt.rps(agg['rps'])} req/s, "
        f"p95 {fmt.ms(agg['p95_ms'])} ms (percentiles from the {summary.percentile_source}).",
        "",
    ]
    lines += [f"> ⚠️ {line}" for line in fmt.lost_worker_lines(summary.run)] + ([""] if summary.run.get("lost_workers") else [])
    notes = fmt.profile_lines(summary.run)
    lines += [f"> {line}" for line in notes] + ([""] if notes else [])
    if summary.thresholds:
        lines += _table(
            ["", "metric", "scope", "target", "critical", "observed"],
            [[ICONS[r["status"]] + " " + r["status"], r["metric"], fmt.threshold_scope(r), fmt.level(r, "target"),
              fmt.level(r, "critical"), fmt.result_value(r, "observed")] for r in summary.thresholds],
        ) + [""]
        no_data = [r for r in summary.thresholds if r["status"] == NO_DATA]
        if no_data:
            lines += [f"- {ICONS[NO_DATA]} counts as WARN: {r['reason']}" for r in no_data] + [""]
    slowest = sorted((row for row in summary.endpoints if row["p95_ms"] is not None), key=lambda r: -r["p95_ms"])
    if slowest:
        lines += ["### Slowest endpoints by p95", ""]
        lines += _table(
            ["endpoint", "requests", "failure ratio", "req/s", "p50 (ms)", "p95 (ms)", "p99 (ms)"],
            [[fmt.endpoint_label(r), f"{r['requests']:,}", fmt.ratio(r["failure_ratio"]), fmt.rps(r["rps"]),
              fmt.ms(r["p50_ms"]), fmt.ms(r["p95_ms"]), fmt.ms(r["p99_ms"])] for r in slowest[:SLOWEST]],
        )
        if len(slowest) > SLOWEST:
            lines.append(f"\n{len(slowest) - SLOWEST} more endpoints in report.html.")
        lines.append("")
    for section in time_sections(summary):
        lines += [f"### {section.title}", "", " ".join(section.sentences), ""]
        if section.rows:
            lines += _table(section.headers, section.rows) + [""]
    scrape = fmt.scrape_sentence(summary.scrape)
    if scrape:
        lines += ["### Scraping", "", scrape, ""]
    for section in fmt.server_sections(summary.server):
        lines += [f"### {section.title}", "", " ".join(section.sentences), ""]
        if section.rows:
            lines += _table(section.headers, section.rows) + [""]
    if summary.server and summary.server["notes"]:
        lines += [f"> {note}" for note in summary.server["notes"]] + [""]
    if summary.failures:
        lines += ["### Commonest failures", ""]
        lines += _table(["error", "endpoint", "occurrences"],
                        [[f["error"][:120], f"{f['method']} {f['name']}", f"{f['occurrences']:,}"]
                         for f in summary.failures[:TOP_FAILURES]])
        lines.append("")
    lines += [f"> {note}" for note in summary.notes]
    return "\n".join(lines).rstrip() + "\n"


def write(summary: Summary, path: Path) -> Path:
    path.write_text(render(summary), encoding="utf-8")
    return path


def render_comparison(comparison: dict[str, Any], chart_name: str | None) -> str:
    """comparison.md: one table per percentile plus throughput, regressions first."""
    rows = comparison["endpoints"]
    regressions = comparison["regressions"]
    lines = [
        f"## careerload compare: {'❌ regression' if regressions else '✅ no regression'}",
        "",
        f"Base `{comparison['base']}` → candidate `{comparison['candidate']}`. "
        f"Tolerance {comparison['tolerance'] * 100:g} %: a change is a regression only when the whole "
        f"{comparison['confidence'] * 100:g} % block-bootstrap interval ({comparison['resamples']:,} resamples; "
        f"{comparison['bootstrap']}, so stretches of correlated latencies count as the noise they are) "
        f"of the relative change lies beyond it; otherwise it is noise.",
        "",
    ]
    if regressions:
        lines += [f"- ❌ {item}" for item in regressions] + [""]
    for metric in METRICS:
        lines += [f"### {metric}", ""]
        unit = "req/s" if metric == "rps" else "ms"
        lines += _table(
            ["endpoint", f"base ({unit})", f"candidate ({unit})", "change", "interval", "flag"],
            [[row["label"], _num(row[metric]["base"]), _num(row[metric]["candidate"]), _pct(row[metric]["change"]),
              f"{_pct(row[metric]['ci_low'])} … {_pct(row[metric]['ci_high'])}",
              f"{FLAG_ICONS[row[metric]['flag']]} {row[metric]['flag']}"] for row in rows],
        ) + [""]
    for side in ("only_in_base", "only_in_candidate"):
        if comparison[side]:
            lines.append(f"{side.replace('_', ' ').capitalize()}: {', '.join(comparison[side])}.")
    if chart_name:
        lines += ["", f"Chart: `{chart_name}`."]
    return "\n".join(lines).rstrip() + "\n"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %"
