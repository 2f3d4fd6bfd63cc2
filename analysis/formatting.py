"""How numbers and server-side sections read in the reports: one definition so HTML, Markdown and JUnit agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.server import NO_CACHE_TRAFFIC
from scenarios.thresholds import HIGHER_IS_BETTER, MILLISECOND_METRICS

QUERY_WIDTH = 100  # characters of a statement shown in the reports' tables


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f} %"


def rps(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def metric_value(metric: str, value: float | None) -> str:
    """A threshold level or observation in its metric's unit."""
    if value is None:
        return "–"
    if metric in MILLISECOND_METRICS:
        return f"{ms(value)} ms"
    if metric in ("failure_ratio", "cache_hit_rate", "dedup_rate", "dropped_ratio"):
        return ratio(value)
    if metric == "dropped_iterations":
        return f"{value:,.0f}"
    if metric == "rss_growth_mb_per_h":
        return f"{value:,.1f} MB/h"
    return f"{rps(value)} req/s"


def result_value(result: dict[str, Any], key: str) -> str:
    """A threshold result's level or observation: a ratio (×) when it is judged relative to a baseline."""
    value = result[key]
    if value is not None and result.get("relative_to"):
        return f"{value:.3g}×"
    return metric_value(result["metric"], value)


def level(result: dict[str, Any], which: str) -> str:
    """'≤ 500 ms' / '≥ 20.0 req/s': the direction is part of the level."""
    if result[which] is None:
        return "–"
    op = "≥" if result["metric"] in HIGHER_IS_BETTER else "≤"
    return f"{op} {result_value(result, which)}"


def threshold_scope(result: dict[str, Any]) -> str:
    """The scope column: the scope, the span it judges, the baseline it is relative to."""
    text = result["scope"]
    if result.get("span"):
        text += f", {result['span']}"
    if result.get("relative_to"):
        text += f", relative to {result['relative_to']}"
    return text


def scrape_sentence(scrape: dict[str, Any] | None) -> str | None:
    """The scraping figures from run.json's counters in one sentence; None when no scrape task finished."""
    if scrape is None:
        return None
    return (f"{scrape['tasks_done']:,} scrape tasks finished: {scrape['jobs_scraped']:,} jobs scraped, "
            f"{scrape['jobs_added']:,} added, {scrape['jobs_deduplicated']:,} recognised as duplicates "
            f"(dedup rate {ratio(scrape['dedup_rate'])}).")


def lost_worker_lines(run: dict[str, Any]) -> list[str]:
    """One sentence per worker lost mid-run, from run.json `lost_workers` (empty for runs that lost none)."""
    return [f"Worker {w['worker']}{' (' + w['node'] + ')' if w.get('node') else ''} was lost at {w['at']}"
            f"{': ' + w['reason'] if w.get('reason') else ''}; its users stopped there."
            for w in run.get("lost_workers") or []]


def profile_lines(run: dict[str, Any]) -> list[str]:
    """What the run's API profile left out: operations not exercised, ownership not checked (run.json `profile`)."""
    profile = run.get("profile") or {}
    lines = []
    if profile.get("not_exercised"):
        lines.append(f"Profile {profile.get('name')}: operations not exercised (absent on this deployment): "
                     f"{', '.join(profile['not_exercised'])}.")
    if profile and not profile.get("ownership_checks", True):
        lines.append(f"Profile {profile.get('name')}: the user's own id is unknown, so responses were not "
                     "checked to belong to the user.")
    return lines


def endpoint_label(row: dict[str, Any]) -> str:
    return f"{row['method']} {row['name']}" if row.get("method") else row["name"]


def query(text: str, width: int = QUERY_WIDTH) -> str:
    """A statement on one line, cut to `width` characters: the table shows which query, summary.json all of it."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def mebibytes(value: float | None) -> str:
    return "–" if value is None else f"{value / 2**20:,.1f} MiB"


def cpu(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} %"


@dataclass
class Section:
    """One server-side report section, as every writer shows it: sentences, then an optional table."""

    title: str
    sentences: list[str]
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _cache_section(cache: dict[str, Any]) -> Section:
    if cache["hit_rate"] is None:
        first = (f"{NO_CACHE_TRAFFIC} ({cache['source']} counters: 0 hits, 0 misses over the run; "
                 "a cache_hit_rate threshold counts this as 0 % when requests were served).")
    else:
        first = (f"Hit rate over the run: {ratio(cache['hit_rate'])} ({cache['hits']:,} hits, "
                 f"{cache['misses']:,} misses, {cache['source']} counters).")
    sentences = [first]
    app, keyspace = cache["application"], cache["keyspace"]
    if app is not None and app.get("errors"):
        sentences.append(f"Cache errors counted by the application (Redis unreachable or too slow): {app['errors']:,}.")
    if app is not None and keyspace is not None:
        sentences.append(f"Redis keyspace counters (every client's reads): {keyspace['hits']:,} hits, "
                         f"{keyspace['misses']:,} misses, hit rate {ratio(keyspace['hit_rate'])}.")
    memory, ops = cache["used_memory_bytes"], cache["ops_per_sec"]
    if cache["evicted_keys"] is not None or memory["peak"] is not None:
        evicted = "–" if cache["evicted_keys"] is None else f"{cache['evicted_keys']:,}"
        sentences.append(f"Redis: {evicted} keys evicted; used memory peak {mebibytes(memory['peak'])} "
                         f"(mean {mebibytes(memory['mean'])}); ops/s peak {rps(ops['peak'])} (mean {rps(ops['mean'])}).")
    return Section("Cache", sentences)


def _database_section(database: dict[str, Any] | None, connections: dict[str, Any] | None) -> Section:
    section = Section("Database", [])
    if database is not None:
        section.sentences.append(
            f"{database['calls']:,} statement calls ({database['statements']:,} distinct statements), "
            f"{ms(database['total_ms'])} ms of execution time over the run, mean {ms(database['mean_ms'])} ms per call "
            "(pg_stat_statements).")
    if connections is not None:
        total, active = connections["total"], connections["active"]
        waiting = connections["idle_in_transaction"]
        section.sentences.append(
            f"Connections: peak {total['peak']:,.0f} (active peak {active['peak']:,.0f}, idle in transaction peak "
            f"{waiting['peak']:,.0f}), mean {total['mean']:,.1f}.")
    if database is not None and database["top"]:
        section.sentences.append(f"Top {len(database['top'])} statements by total execution time during the run:")
        section.headers = ["query", "calls", "total (ms)", "mean (ms)", "rows", "buffer hit ratio"]
        section.rows = [[query(row["query"]), f"{row['calls']:,}", ms(row["total_ms"]), ms(row["mean_ms"]),
                         f"{row['rows']:,}", ratio(row["hit_ratio"])] for row in database["top"]]
    return section


def _process_section(process: dict[str, Any]) -> Section:
    cpu_, rss = process["cpu_percent"], process["rss_bytes"]
    return Section("Backend process", [
        f"CPU peak {cpu(cpu_['peak'])}, mean {cpu(cpu_['mean'])} (100 % = one core, all "
        f"{process['processes']} backend processes together); resident memory peak {mebibytes(rss['peak'])}, "
        f"mean {mebibytes(rss['mean'])}."])


def server_sections(server: dict[str, Any] | None) -> list[Section]:
    """The Cache, Database and Backend process sections of the reports, for the sources that were snapshotted."""
    if not server:
        return []
    sections = []
    if server["cache"] is not None:
        sections.append(_cache_section(server["cache"]))
    if server["database"] is not None or server["connections"] is not None:
        sections.append(_database_section(server["database"], server["connections"]))
    if server["process"] is not None:
        sections.append(_process_section(server["process"]))
    return sections
