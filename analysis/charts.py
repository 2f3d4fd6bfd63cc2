"""PNG charts (matplotlib, Agg backend, no display needed) for the report and the comparison.

Each function draws one chart from the summary and the already-binned series in
`RunStats` (a few hundred points at most, whatever the number of requests) and
returns the file it wrote. `matplotlib.figure.Figure` is used directly rather
than pyplot: no global figure registry to leak, nothing that wants a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from analysis.compare import IMPROVEMENT, NOISE, PERCENTILE_METRICS, REGRESSION, TOO_FEW  # noqa: E402
from analysis.formatting import endpoint_label  # noqa: E402
from analysis.runstats import TIMELINE_QUANTILES, Distribution, RunStats, Timeline  # noqa: E402
from analysis.summary import Summary  # noqa: E402
from scenarios.thresholds import FAIL, LATENCY_METRICS, WARN  # noqa: E402

DPI = 100
STATUS_COLOURS = {"PASS": "#4c78a8", "NO_DATA": "#9d9d9d", WARN: "#f2a900", FAIL: "#d62728"}
LEVEL_STYLE = {"target": {"color": "#f2a900", "linestyle": "--"}, "critical": {"color": "#d62728", "linestyle": "-"}}
LOG_SCALE_SPREAD = 30  # endpoint p95s further apart than this are drawn on a log axis
HEADROOM = 1.15  # space above the highest point for the legend
FLAG_COLOURS = {REGRESSION: "#d62728", IMPROVEMENT: "#2ca02c", NOISE: "#9d9d9d", TOO_FEW: "#dddddd"}
QUANTILE_COLOURS = {"p50": "#4c78a8", "p95": "#f58518", "p99": "#e45756"}


@dataclass(frozen=True)
class Chart:
    """A chart written to disk, with the title the HTML shows above it."""

    title: str
    path: Path


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def _time_unit(last_s: float) -> tuple[float, str]:
    """Minutes for runs longer than ten minutes, seconds otherwise: (divisor of the seconds, axis label)."""
    if last_s > 600:
        return 60.0, "time since start (min)"
    return 1.0, "time since start (s)"


def _time_axis(t_s: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Seconds since the start as the time axis: (x, divisor, axis label)."""
    divisor, label = _time_unit(float(t_s.max()) if t_s.size else 0.0)
    return t_s / divisor, divisor, label


def _stage_bands(ax: Any, stages: list[dict[str, Any]], divisor: float) -> None:
    """The shape's stages as alternating grey bands, numbered (and labelled) at the top of the axes."""
    for entry in stages:
        if entry["played_s"] <= 0:
            continue
        start, end = entry["start_s"] / divisor, (entry["start_s"] + entry["played_s"]) / divisor
        if entry["index"] % 2 == 0:
            ax.axvspan(start, end, color="#000000", alpha=0.05, linewidth=0)
        text = f"{entry['index']}" + (f" {entry['label']}" if entry["label"] else "")
        ax.text((start + end) / 2, 0.98, text, transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize="x-small", color="#555555", clip_on=True)


def _bucket_note(timeline: Timeline) -> str:
    return (f"{timeline.bucket_s:g} s buckets of the raw request log" if timeline.source == "raw request log"
            else "Locust's stats history")


def latency_over_time(summary: Summary, timeline: Timeline, path: Path) -> Chart:
    """Aggregate p50/p95/p99 per bucket, with the aggregate latency thresholds as horizontal lines."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x, divisor, xlabel = _time_axis(timeline.frame["t_s"].to_numpy())
    for key in TIMELINE_QUANTILES:
        ax.plot(x, timeline.frame[f"{key}_ms"], label=key, color=QUANTILE_COLOURS[key], linewidth=1.2)
    _stage_bands(ax, summary.stages, divisor)
    for result in summary.thresholds:  # whole-run thresholds: a stage's or a ratio's level is not a line here
        if (result["scope"] == "aggregate" and result["metric"] in LATENCY_METRICS and not result.get("span")
                and not result.get("relative_to")):
            for level in ("target", "critical"):
                if result[level] is not None:
                    ax.axhline(result[level], linewidth=1, **LEVEL_STYLE[level],
                               label=f"{result['metric']} {level} {result[level]:g} ms")
    ax.set_title(f"Response time percentiles over time (all requests, {_bucket_note(timeline)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("response time (ms)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return Chart("Response time percentiles over time", _save(fig, path))


def latency_per_persona(timeline: Timeline, stages: list[dict[str, Any]], path: Path) -> Chart:
    """p95 per bucket, one line per persona: all requests together mix 2 s cover letters with 5 ms lists.

    A log axis when the personas' latencies are far apart, so the fast ones are
    not a flat line at zero under the slow one.
    """
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x, divisor, xlabel = _time_axis(timeline.frame["t_s"].to_numpy())
    _stage_bands(ax, stages, divisor)
    for name, p95 in sorted(timeline.persona_p95_ms.items()):
        ax.plot(x, p95, label=name, linewidth=1.2, marker=".", markersize=3)
    values = np.concatenate(list(timeline.persona_p95_ms.values()))
    values = values[np.isfinite(values) & (values > 0)]
    if values.size and values.max() / values.min() > LOG_SCALE_SPREAD:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(f"p95 per persona over time ({_bucket_note(timeline)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("p95 response time (ms)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return Chart("p95 per persona over time", _save(fig, path))


def throughput_users(timeline: Timeline, stages: list[dict[str, Any]], path: Path) -> Chart:
    """Requests/s on the left axis, Locust's user count on the right when it was recorded."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x, divisor, xlabel = _time_axis(timeline.frame["t_s"].to_numpy())
    _stage_bands(ax, stages, divisor)
    lines = ax.plot(x, timeline.frame["requests_per_s"], color="#4c78a8", label="requests/s")
    users = timeline.frame["users"].to_numpy(dtype=float)
    title = "Throughput and users over time"
    if np.isfinite(users).any():
        right = ax.twinx()
        lines += right.plot(x, users, color="#54a24b", drawstyle="steps-post", label="users")
        right.set_ylabel("users")
        right.set_ylim(bottom=0)
    else:
        title += " (user count not recorded: no Locust history CSV)"
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("requests/s")
    ax.set_ylim(0, max(float(np.nanmax(timeline.frame["requests_per_s"])), 1.0) * HEADROOM)
    ax.grid(alpha=0.3)
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize="small")
    return Chart("Throughput and users over time", _save(fig, path))


def failures_over_time(timeline: Timeline, stages: list[dict[str, Any]], path: Path) -> Chart:
    """Failures/s, and the failure ratio per bucket on the right axis."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x, divisor, xlabel = _time_axis(timeline.frame["t_s"].to_numpy())
    _stage_bands(ax, stages, divisor)
    failures = timeline.frame["failures_per_s"].to_numpy(dtype=float)
    requests = timeline.frame["requests_per_s"].to_numpy(dtype=float)
    lines = ax.plot(x, failures, color="#d62728", label="failures/s")
    right = ax.twinx()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(requests > 0, failures / requests * 100.0, np.nan)
    lines += right.plot(x, ratio, color="#9d9d9d", linestyle=":", label="failure ratio (%)")
    right.set_ylabel("failure ratio (%)")
    right.set_ylim(bottom=0)
    ax.set_title(f"Failures over time ({_bucket_note(timeline)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("failures/s")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize="small")
    return Chart("Failures over time", _save(fig, path))


def start_rate(series: dict[str, list[float]], stages: list[dict[str, Any]], path: Path) -> Chart:
    """The open model: iterations the schedule asked to start per second, those started, those dropped."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x, divisor, xlabel = _time_axis(np.asarray(series["t_s"], dtype=float))
    _stage_bands(ax, stages, divisor)
    ax.plot(x, series["intended_per_s"], color="#9d9d9d", linestyle="--", drawstyle="steps-post", label="intended starts/s")
    ax.plot(x, series["achieved_per_s"], color="#4c78a8", drawstyle="steps-post", label="achieved starts/s")
    ax.plot(x, series["dropped_per_s"], color="#d62728", drawstyle="steps-post", label="dropped/s")
    ax.set_title("Iteration start rate: intended vs achieved (open model)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("iterations/s")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return Chart("Iteration start rate: intended vs achieved", _save(fig, path))


def endpoint_p95(summary: Summary, path: Path) -> Chart:
    """Each endpoint's p95 as a bar, coloured by its p95 threshold's status, with the levels marked."""
    rows = sorted((row for row in summary.endpoints if row["p95_ms"] is not None), key=lambda r: r["p95_ms"])
    fig = Figure(figsize=(10, max(3.0, 0.32 * len(rows) + 1.6)))
    ax = fig.add_subplot()
    p95_thresholds = [r for r in summary.thresholds if r["metric"] == "p95"]
    by_scope = {r["scope"]: r for r in p95_thresholds}
    y = np.arange(len(rows))
    colours = [STATUS_COLOURS[by_scope.get(f"endpoint:{endpoint_label(row)}", {}).get("status", "PASS")] for row in rows]
    ax.barh(y, [row["p95_ms"] for row in rows], color=colours, label="p95 (bar colour: its threshold's status)")
    marked = set()
    for i, row in enumerate(rows):
        result = by_scope.get(f"endpoint:{endpoint_label(row)}")
        for level in ("target", "critical") if result else ():
            if result[level] is not None:
                style = LEVEL_STYLE[level]
                ax.plot([result[level]], [i], marker="d", markersize=9, markeredgecolor="black", zorder=3,
                        color=style["color"], linestyle="none",
                        label=None if level in marked else f"endpoint p95 {level}")
                marked.add(level)
    aggregate = by_scope.get("aggregate")
    for level in ("target", "critical") if aggregate else ():
        if aggregate[level] is not None:
            ax.axvline(aggregate[level], linewidth=1, **LEVEL_STYLE[level], label=f"aggregate p95 {level} {aggregate[level]:g} ms")
    ax.set_yticks(y, [endpoint_label(row) for row in rows], fontsize="small")
    values = [row["p95_ms"] for row in rows if row["p95_ms"] > 0]
    if values and max(values) > LOG_SCALE_SPREAD * min(values):
        # a 10 s task beside 5 ms queries: only a log axis shows both
        ax.set_xscale("log")
        ax.set_xlabel("p95 response time (ms, log scale)")
    else:
        ax.set_xlabel("p95 response time (ms)")
    ax.set_title("p95 response time per endpoint against its threshold")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return Chart("p95 per endpoint", _save(fig, path))


def latency_distribution(distributions: list[Distribution], source: str, path: Path) -> Chart:
    """CDFs of the slowest endpoints on a log time axis (binned, or Locust's percentile columns)."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    for dist in distributions:
        ax.step(dist.x_ms, dist.cdf * 100.0, where="post", label=dist.label, linewidth=1.3)
    ax.axhline(95, color="#9d9d9d", linestyle=":", linewidth=1, label="95 %")
    ax.set_xscale("log")
    ax.set_ylim(0, 100.5)
    ax.set_xlabel("response time (ms, log scale)")
    ax.set_ylabel("requests at or below (%)")
    ax.set_title(f"Latency distribution (CDF) of the {len(distributions)} slowest endpoints by p95 ({source})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize="small")
    return Chart("Latency distribution of the slowest endpoints", _save(fig, path))


def _server_axis(summary: Summary, stats: RunStats) -> tuple[float, float, str]:
    """Origin (epoch s), divisor and label of the time axis the server charts share with the client ones.

    The origin is the load window's start, as for the client timeline, so a
    snapshot taken before the load began sits at a negative time.
    """
    snapshots = summary.server["snapshots"]
    origin = stats.window.start if stats.window.start is not None else snapshots["first_ts"]
    return (origin, *_time_unit(snapshots["last_ts"] - origin))


def _times(series: dict[str, Any], origin: float, divisor: float) -> np.ndarray:
    return (np.asarray(series["ts"], dtype=float) - origin) / divisor


def _values(series: dict[str, Any], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in series[key]], dtype=float)


def _intervals(series: dict[str, Any], values: np.ndarray, origin: float, divisor: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y for a "steps-pre" line holding each interval's value from its start to its end."""
    ends = _times(series, origin, divisor)
    first_start = ends[0] - series["interval_s"][0] / divisor
    return np.concatenate([[first_start], ends]), np.concatenate([values[:1], values])


def _missing(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#757575")


def server_over_time(summary: Summary, stats: RunStats, path: Path) -> Chart:
    """Client p95, cache hit rate and database time per snapshot interval, one above the other on one time axis.

    Interval figures are drawn as steps spanning their interval, between the
    two snapshots that bound it. Database time is per second of the interval, so the final,
    usually shorter, interval is not drawn lower than it was.
    """
    origin, divisor, xlabel = _server_axis(summary, stats)
    fig = Figure(figsize=(10, 8.5))
    client, cache_ax, db_ax = fig.subplots(3, 1, sharex=True)
    if stats.timeline is not None:
        frame = stats.timeline.frame
        client.plot(frame["t_s"] / divisor, frame["p95_ms"], color=QUANTILE_COLOURS["p95"], linewidth=1.2, label="p95")
        client.legend(loc="upper left", fontsize="small")
    else:
        _missing(client, "no client timeline")
    client.set_ylabel("client p95 (ms)")
    client.set_ylim(bottom=0)
    client.set_title("Client p95, cache hit rate and database time over time")

    cache = summary.server["cache"]
    if cache is not None and cache["series"]["ts"]:
        series = cache["series"]
        cache_ax.plot(*_intervals(series, _values(series, "hit_rate") * 100.0, origin, divisor), drawstyle="steps-pre",
                      color="#54a24b", label=f"hit rate per interval ({cache['source']})")
        for result in summary.thresholds:
            if result["metric"] == "cache_hit_rate":
                for level in ("target", "critical"):
                    if result[level] is not None:
                        cache_ax.axhline(result[level] * 100.0, linewidth=1, **LEVEL_STYLE[level],
                                         label=f"{level} {result[level] * 100:g} %")
        if cache["hit_rate"] is None:
            _missing(cache_ax, "cache disabled or no cache traffic: no hit rate")
        cache_ax.legend(loc="lower left", fontsize="small")
    else:
        _missing(cache_ax, "no cache snapshots")
    cache_ax.set_ylabel("cache hit rate (%)")
    cache_ax.set_ylim(0, 105)

    database = summary.server["database"]
    if database is not None and database["series"]["ts"]:
        series = database["series"]
        with np.errstate(invalid="ignore", divide="ignore"):
            per_second = _values(series, "db_ms") / _values(series, "interval_s")
        db_ax.plot(*_intervals(series, per_second, origin, divisor), drawstyle="steps-pre", color="#4c78a8",
                   label="statement execution time (pg_stat_statements)")
        db_ax.legend(loc="upper left", fontsize="small")
    else:
        _missing(db_ax, "no pg_stat_statements snapshots")
    db_ax.set_ylabel("database time (ms per s)")
    db_ax.set_ylim(bottom=0)
    db_ax.set_xlabel(xlabel)
    for ax in (client, cache_ax, db_ax):
        ax.grid(alpha=0.3)
    return Chart("Client p95, cache hit rate and database time over time", _save(fig, path))


def backend_over_time(summary: Summary, stats: RunStats, path: Path) -> Chart:
    """The backend's CPU and memory, and the database's connections by state, on the shared time axis."""
    origin, divisor, xlabel = _server_axis(summary, stats)
    fig = Figure(figsize=(10, 6))
    cpu_ax, conn_ax = fig.subplots(2, 1, sharex=True)
    process = summary.server["process"]
    if process is not None:
        series = process["series"]
        t = _times(series, origin, divisor)
        # psutil's CPU figure is the average since the previous snapshot: a step over that interval
        lines = cpu_ax.plot(t, _values(series, "cpu_percent"), drawstyle="steps-pre", color="#e45756", label="CPU (%)")
        memory = cpu_ax.twinx()
        lines += memory.plot(t, _values(series, "rss_bytes") / 2**20, color="#72b7b2", label="resident memory (MiB)")
        memory.set_ylabel("memory (MiB)")
        memory.set_ylim(bottom=0)
        cpu_ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize="small")
    else:
        _missing(cpu_ax, "no backend process snapshots")
    cpu_ax.set_ylabel("CPU (%, 100 = one core)")
    cpu_ax.set_ylim(bottom=0)
    cpu_ax.set_title("Backend process and database connections over time")
    connections = summary.server["connections"]
    if connections is not None:
        series = connections["series"]
        t = _times(series, origin, divisor)
        for state in ("total", "active", "idle", "idle_in_transaction"):
            conn_ax.plot(t, _values(series, state), marker=".", label=state.replace("_", " "))  # point samples
        conn_ax.legend(loc="upper left", fontsize="small")
    else:
        _missing(conn_ax, "no database connection snapshots")
    conn_ax.set_ylabel("connections")
    conn_ax.set_ylim(bottom=0)
    conn_ax.set_xlabel(xlabel)
    for ax in (cpu_ax, conn_ax):
        ax.grid(alpha=0.3)
    return Chart("Backend process and database connections over time", _save(fig, path))


def report_charts(summary: Summary, stats: RunStats, charts_dir: Path) -> list[Chart]:
    """Every chart of the report that the data allows, in the order the HTML shows them."""
    charts_dir.mkdir(parents=True, exist_ok=True)
    charts = []
    if stats.timeline is not None:
        charts.append(latency_over_time(summary, stats.timeline, charts_dir / "latency_over_time.png"))
        if stats.timeline.persona_p95_ms:
            charts.append(latency_per_persona(stats.timeline, summary.stages, charts_dir / "latency_per_persona.png"))
        charts.append(throughput_users(stats.timeline, summary.stages, charts_dir / "throughput_users.png"))
        charts.append(failures_over_time(stats.timeline, summary.stages, charts_dir / "failures_over_time.png"))
    if summary.open_model is not None and summary.open_model["over_time"] is not None:
        charts.append(start_rate(summary.open_model["over_time"], summary.stages, charts_dir / "start_rate.png"))
    if any(row["p95_ms"] is not None for row in summary.endpoints):
        charts.append(endpoint_p95(summary, charts_dir / "endpoint_p95.png"))
    if stats.distributions:
        charts.append(latency_distribution(stats.distributions, stats.percentile_source,
                                           charts_dir / "latency_distribution.png"))
    server = summary.server
    if server and (server["cache"] is not None or server["database"] is not None):
        charts.append(server_over_time(summary, stats, charts_dir / "server_over_time.png"))
    if server and (server["process"] is not None or server["connections"] is not None):
        charts.append(backend_over_time(summary, stats, charts_dir / "backend_over_time.png"))
    return charts


def comparison_chart(rows: list[dict[str, Any]], tolerance: float, path: Path) -> Chart:
    """Relative change of p50/p95/p99 per endpoint with bootstrap intervals, bars coloured by flag."""
    fig = Figure(figsize=(13, max(3.0, 0.32 * len(rows) + 1.8)))
    axes = fig.subplots(1, len(PERCENTILE_METRICS), sharey=True)
    y = np.arange(len(rows))
    handles = [Patch(color=colour, label=flag) for flag, colour in FLAG_COLOURS.items()]
    for ax, metric in zip(axes, PERCENTILE_METRICS):
        entries = [row[metric] for row in rows]
        change = np.array([np.nan if e["change"] is None else e["change"] * 100 for e in entries])
        low = np.array([np.nan if e["ci_low"] is None else e["ci_low"] * 100 for e in entries])
        high = np.array([np.nan if e["ci_high"] is None else e["ci_high"] * 100 for e in entries])
        ax.barh(y, np.nan_to_num(change), color=[FLAG_COLOURS[e["flag"]] for e in entries])
        has_interval = np.isfinite(low)
        # the interval is binned (within half a bin, 0.1 %): on a run of millions of requests it can be
        # narrower than that and miss the exact point estimate, which a negative bar length cannot draw
        interval = ax.errorbar(change[has_interval], y[has_interval],
                               xerr=[np.maximum(change[has_interval] - low[has_interval], 0),
                                     np.maximum(high[has_interval] - change[has_interval], 0)],
                               fmt="none", ecolor="black", capsize=3, linewidth=1, label="bootstrap interval")
        ax.axvline(0, color="black", linewidth=0.8)
        for side in (-1, 1):
            tol_line = ax.axvline(side * tolerance * 100, color="#555555", linestyle="--", linewidth=0.8,
                                  label=f"±{tolerance * 100:g} % tolerance")
        ax.set_xlabel(f"{metric} change (%)")
        ax.set_title(metric)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [row["label"] for row in rows], fontsize="small")
    fig.suptitle("Candidate vs base: percentile change per endpoint (positive = slower)")
    fig.legend(handles=[*handles, interval, tol_line], loc="lower center", ncol=len(handles) + 2, fontsize="small")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=DPI)
    return Chart("Percentile change per endpoint", path)
