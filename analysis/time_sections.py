"""How the run over time reads in the reports: the stage table, the open model, the live abort.

Sections in the server sections' form (analysis.formatting.Section: sentences,
then an optional table), so report.md and report.html show the same words and
numbers.
"""

from __future__ import annotations

from typing import Any

from analysis import formatting as fmt
from analysis.formatting import Section
from analysis.summary import Summary


def _span(entry: dict[str, Any]) -> str:
    cut = "" if entry["played_s"] >= entry["end_s"] - entry["start_s"] - 1e-6 else f" (played {entry['played_s']:.0f} s)"
    return f"{entry['start_s']:g}–{entry['end_s']:g} s{cut}"


def _load(entry: dict[str, Any]) -> str:
    low, high = entry.get("users") or entry.get("rate_per_s") or (None, None)
    unit = " users" if "users" in entry else "/s"
    return f"{low:g}{unit}" if low == high else f"{low:g} → {high:g}{unit}"


def stages_section(summary: Summary) -> Section | None:
    """One row per stage: span, load, and the figures of the requests that started in it."""
    if not summary.stages:
        return None
    arrival = summary.open_model is not None
    headers = ["stage", "span", "load", "requests", "failure ratio", "req/s", "p50 (ms)", "p95 (ms)", "p99 (ms)"]
    if arrival:
        headers += ["intended starts/s", "achieved starts/s", "dropped"]
    rows = []
    for entry in summary.stages:
        name = f"{entry['index']}" + (f" {entry['label']}" if entry["label"] else "")
        agg = entry["aggregate"]
        figures = (["–"] * 6 if agg is None else
                   [f"{agg['requests']:,}", fmt.ratio(agg["failure_ratio"]), fmt.rps(agg["rps"]),
                    fmt.ms(agg["p50_ms"]), fmt.ms(agg["p95_ms"]), fmt.ms(agg["p99_ms"])])
        row = [name, _span(entry), _load(entry), *figures]
        if arrival:
            row += [fmt.rps(entry.get("intended_per_s")), fmt.rps(entry.get("achieved_per_s")),
                    "–" if entry.get("dropped_iterations") is None else f"{entry['dropped_iterations']:,}"]
        rows.append(row)
    return Section("Stages", ["Each stage's figures are those of the requests that started in it (the aggregate: "
                              "requests the backend served; per-endpoint rows in summary.json)."], headers, rows)


def open_model_section(open_model: dict[str, Any] | None) -> Section | None:
    """The arrival-rate run's iterations: what it was asked to start, what it started, how late."""
    if open_model is None:
        return None
    if open_model["started_iterations"] is None:
        dropped = open_model["dropped_iterations"]
        return Section("Open model", [
            f"The schedule called for {open_model['intended_iterations']:,.0f} iterations. "
            f"{'Dropped: ' + format(dropped, ',') if dropped is not None else 'No drop count'} "
            f"({open_model['source']}); started iterations, lateness and latency from the schedule need the "
            "raw log's schedule rows."])
    late = open_model["lateness_ms"]
    sentences = [
        f"The schedule called for {open_model['intended_iterations']:,.0f} iterations "
        f"({fmt.rps(open_model['intended_rate_per_s'])}/s on average over {open_model['vus']} users); "
        f"{open_model['started_iterations']:,} started ({fmt.rps(open_model['achieved_rate_per_s'])}/s) and "
        f"{open_model['dropped_iterations']:,} were dropped (no user free in time"
        + (f": more than {open_model['max_lateness_s']:g} s late" if open_model["max_lateness_s"] is not None else "")
        + f"): dropped ratio {fmt.ratio(open_model['dropped_ratio'])}.",
        f"Start lateness: p50 {fmt.ms(late['p50'])} ms, p95 {fmt.ms(late['p95'])} ms, p99 {fmt.ms(late['p99'])} ms, "
        f"max {fmt.ms(late['max'])} ms.",
    ]
    section = Section("Open model", sentences)
    schedule = open_model["from_schedule"]
    if schedule is not None:
        agg = schedule["aggregate"]
        sentences.append(
            f"Each iteration's first request timed from its scheduled start (what a user arriving on schedule "
            f"waited): p50 {fmt.ms(agg['p50_ms'])} ms, p95 {fmt.ms(agg['p95_ms'])} ms, p99 {fmt.ms(agg['p99_ms'])} "
            "ms; beside each endpoint's service time:")
        section.headers = ["endpoint", "first requests", "p50 from schedule (ms)", "p95 from schedule (ms)",
                           "p99 from schedule (ms)", "p95 service time (ms)"]
        section.rows = [[fmt.endpoint_label(row), f"{row['requests']:,}", fmt.ms(row["p50_ms"]), fmt.ms(row["p95_ms"]),
                         fmt.ms(row["p99_ms"]), fmt.ms(row["service_p95_ms"])] for row in schedule["endpoints"]]
    return section


def abort_section(abort: dict[str, Any] | None) -> Section | None:
    """The live figure that stopped the run beside the exact figure of the same window from the raw log."""
    if abort is None:
        return None
    metric = abort.get("metric", "")
    exact = fmt.metric_value(metric, abort["exact"]) if abort["exact"] is not None else "–"
    return Section("Live abort", [
        f"The live check stopped the run on {metric} {abort.get('scope', 'aggregate')}: it observed "
        f"{fmt.metric_value(metric, abort.get('observed'))} against the critical level "
        f"{fmt.metric_value(metric, abort.get('level'))} over its sliding window. The same window recomputed "
        f"from the raw log: {exact} ({abort['exact_note']})."])


def time_sections(summary: Summary) -> list[Section]:
    return [section for section in (abort_section(summary.abort), stages_section(summary),
                                    open_model_section(summary.open_model)) if section is not None]
