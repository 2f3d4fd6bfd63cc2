"""A capacity search's answer: capacity.json, capacity.md and a self-contained capacity.html with charts.

`summarise` turns the judged steps (analysis.step_verdict) into one document,
every writer reads that document:

- `steps`, in the order played, each with its run directory, wall time and figures;
- `max_sustainable`: the highest passing step;
- `first_failure`: the lowest failing step above it and what failed there
  (every reason, the critical thresholds first, then the saturation signals);
- `knee`: where throughput stops following offered load. Steps sorted by
  offered load, the achieved requests/s per unit of offered load of the lowest
  one is the reference; the knee is the highest step up to which every step
  keeps within FOLLOW_TOLERANCE of it. None when no step fell behind ("not
  reached"). It may lie above `max_sustainable` (latency thresholds break
  before throughput flattens) or at it (drops);
- `bottleneck`: where the first failing step's time went, from its server-side
  figures (`BOTTLENECK_RULES`); None without a failing step.

The charts are PNGs drawn with matplotlib (analysis.charts' conventions) and
embedded in capacity.html as base64, as report.html embeds its own.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.figure import Figure

from analysis import charts, formatting as fmt
from analysis.charts import LEVEL_STYLE, QUANTILE_COLOURS, STATUS_COLOURS, Chart
from analysis.html import STYLE
from analysis.step_verdict import FOLLOW_TOLERANCE, StepResult
from foundation import rundir
from scenarios.step_scenario import BY_RATE, UNITS
from scenarios.thresholds import LATENCY_METRICS, PASS

CAPACITY_JSON, CAPACITY_MD, CAPACITY_HTML, CHARTS_DIR = "capacity.json", "capacity.md", "capacity.html", "charts"
# A backend process busier than this share of one core (a Python process's ceiling under the GIL) is CPU-bound.
CPU_SATURATED = 0.80
# Requests that spend at least this share of their mean time in database statements wait on the database.
DATABASE_BOUND = 0.50
# The whole machine this busy (100 % = every core) has no CPU to spare for anyone.
MACHINE_SATURATED = 90.0
SCOPED_COLOURS = ("#54a24b", "#b279a2", "#9d755d", "#72b7b2")
_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("analysis", "templates"), autoescape=True,
                                undefined=jinja2.StrictUndefined)


def knee(steps: list[StepResult]) -> dict[str, Any] | None:
    """Where achieved throughput stops following offered load (see the module docstring)."""
    ordered = sorted((s for s in steps if s.per_unit is not None), key=lambda s: s.offered)
    if len(ordered) < 2 or not ordered[0].per_unit:
        return None
    reference = ordered[0].per_unit
    for below, step in zip(ordered, ordered[1:]):
        if step.per_unit < (1 - FOLLOW_TOLERANCE) * reference:
            return {"offered": below.offered, "achieved_rps": below.achieved_rps, "next_offered": step.offered,
                    "next_achieved_rps": step.achieved_rps,
                    "plateau_rps": max(s.achieved_rps or 0.0 for s in ordered)}
    return None


def bottleneck(failing: StepResult | None, passing: StepResult | None,
               generator: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Where the first failing step's time went, by the first of these rules that holds (its hold's figures):

    1. backend CPU: the backend's processes averaged more than CPU_SATURATED of
       one core each (a Python process's ceiling);
    2. database: requests spent at least DATABASE_BOUND of their mean response
       time in statements (statement time per second / (requests/s x mean ms));
    3. load generator: the Locust processes averaged more than CPU_SATURATED of
       one core each (`generator`, measured by the command);
    4. machine: every core was busy (MACHINE_SATURATED): backend, database,
       load generator and everything else on the machine share too few cores;
    5. otherwise none of these saturates: a concurrency limit (a pool, a
       semaphore, the number of worker processes) holds the throughput.

    Without any server figure `where` is None and `why` says what to give.
    """
    if failing is None:
        return None
    server, generator = failing.server, generator or {}
    cpu, processes, db_ms = server.get("backend_cpu_percent"), server.get("backend_processes"), server.get("db_ms_per_s")
    evidence = {"at": failing.offered, "below": passing.offered if passing else None,
                "server_at": server, "server_below": passing.server if passing else None, "generator_at": generator}
    if cpu is None and db_ms is None:
        return {"where": None, "why": "no server-side figures: give --database-url and --redis-url, and run the "
                                      "backend on this machine for its CPU", **evidence}
    cpu_share = cpu / (100.0 * max(processes or 1, 1)) if cpu is not None else None
    busy_ms = (failing.achieved_rps or 0.0) * (failing.avg_ms or 0.0)
    db_share = db_ms / busy_ms if db_ms is not None and busy_ms > 0 else None
    load_cpu, machine = generator.get("cpu_percent"), generator.get("machine_cpu_percent")
    load_share = load_cpu / (100.0 * max(generator.get("processes") or 1, 1)) if load_cpu is not None else None
    figures = [f"backend CPU {fmt.cpu(cpu)} over {processes or '?'} process(es)" if cpu is not None
               else "backend CPU not measured",
               f"database {db_ms:,.0f} ms of statements per second ({db_share:.0%} of request time)"
               if db_share is not None else "database time not measured"]
    if load_cpu is not None:
        figures.append(f"load generator CPU {fmt.cpu(load_cpu)} over {generator.get('processes')} process(es)")
    if machine is not None:
        figures.append(f"machine CPU {fmt.cpu(machine)} of {generator.get('cores')} cores")
    if cpu_share is not None and cpu_share >= CPU_SATURATED:
        where = "backend CPU"
    elif db_share is not None and db_share >= DATABASE_BOUND:
        where = "database"
    elif load_share is not None and load_share >= CPU_SATURATED:
        where = "load generator CPU (add --workers, or workers on other machines)"
    elif machine is not None and machine >= MACHINE_SATURATED:
        where = "machine CPU (backend, database and load generator share too few cores)"
    else:
        where = "no CPU or database saturated: a concurrency limit (pool, semaphore, worker processes)"
    return {"where": where, "why": f"at {failing.offered:g}: " + ", ".join(figures), **evidence}


def summarise(steps: list[StepResult], walls: list[float], dirs: list[str], generators: list[dict[str, Any]], *, scenario: str, host: str, by: str,
              stopped: str, require: float | None, search: dict[str, Any], started_at: str,
              wall_s: float) -> dict[str, Any]:
    """The capacity document every writer reads (see the module docstring)."""
    rows = [{"index": i, "run_dir": d, "wall_s": round(w, 2), **s.to_dict(), "generator": g}
            for i, (s, w, d, g) in enumerate(zip(steps, walls, dirs, generators), 1)]
    passing = [r for r in rows if r["verdict"] == PASS]
    best = max(passing, key=lambda r: r["offered"]) if passing else None
    failing = [r for r in rows if r["verdict"] != PASS and (best is None or r["offered"] > best["offered"])]
    first = min(failing, key=lambda r: r["offered"]) if failing else None
    step_of = {r["index"]: s for r, s in zip(rows, steps)}
    return {
        "scenario": scenario, "host": host, "by": by, "unit": UNITS[by], "search": search, "require": require,
        "started_at": started_at, "wall_s": round(wall_s, 2),
        "steps_wall_s": round(sum(walls), 2), "load_s": sum(s.warmup_s + s.hold_s for s in steps),
        "stopped": stopped, "steps": rows,
        "max_sustainable": best,
        "first_failure": first,
        "knee": knee(steps),
        "bottleneck": bottleneck(step_of[first["index"]] if first else None,
                                 step_of[best["index"]] if best else None, first["generator"] if first else None),
    }


# ------------------------------------------------------------------------------------------------ charts


def _by_load(document: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(document["steps"], key=lambda r: r["offered"])


def _axes() -> tuple[Figure, Any]:
    fig = Figure(figsize=(10, 4.5))
    return fig, fig.add_subplot()


def _finish(fig: Figure, ax: Any, document: dict[str, Any], title: str, ylabel: str, path: Path) -> Path:
    """The axes every capacity chart shares: offered load across, both axes from 0, legend top left."""
    ax.set_title(title)
    ax.set_xlabel(f"offered load ({document['unit']})")
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return charts._save(fig, path)


def _scatter_status(ax: Any, rows: list[dict[str, Any]], key: str, scale: float = 1.0) -> None:
    for status in sorted({r["verdict"] for r in rows}):
        mine = [r for r in rows if r["verdict"] == status and r[key] is not None]
        ax.scatter([r["offered"] for r in mine], [r[key] * scale for r in mine], color=STATUS_COLOURS[status],
                   zorder=3, label=f"{status} step")


def achieved_chart(document: dict[str, Any], path: Path) -> Chart:
    """Achieved requests/s against offered load, the line it would follow, the knee and the capacity marked."""
    rows = _by_load(document)
    fig, ax = _axes()
    x = [r["offered"] for r in rows]
    ax.plot(x, [r["achieved_rps"] or np.nan for r in rows], color="#4c78a8", linewidth=1.2, label="achieved req/s")
    if rows and rows[0]["per_unit"]:
        ax.plot([0, max(x)], [0, max(x) * rows[0]["per_unit"]], color="#9d9d9d", linestyle=":",
                label="following offered load (lowest step's req/s per unit)")
    _scatter_status(ax, rows, "achieved_rps")
    if document["max_sustainable"]:
        ax.axvline(document["max_sustainable"]["offered"], color="#2e7d32", linewidth=1,
                   label=f"max sustainable {document['max_sustainable']['offered']:g}")
    if document["knee"]:
        ax.axvline(document["knee"]["offered"], color="#f2a900", linestyle="--", linewidth=1,
                   label=f"knee {document['knee']['offered']:g}")
    return Chart("Achieved vs offered load", _finish(fig, ax, document, "Achieved throughput vs offered load "
                                                     f"({document['unit']})", "achieved requests/s (hold)", path))


def latency_chart(document: dict[str, Any], path: Path) -> Chart:
    """p95 and p99 of each step's hold against offered load, with the aggregate latency thresholds' critical lines."""
    rows = _by_load(document)
    fig, ax = _axes()
    x = [r["offered"] for r in rows]
    for key in ("p95", "p99"):
        ax.plot(x, [r[f"{key}_ms"] or np.nan for r in rows], marker="o", color=QUANTILE_COLOURS[key], label=key)
    levels = {(t["metric"], t["critical"]) for r in rows for t in r["thresholds"]
              if t["scope"] == "aggregate" and t["metric"] in LATENCY_METRICS and t["critical"] is not None}
    for metric, level in sorted(levels):
        ax.axhline(level, linewidth=1, **LEVEL_STYLE["critical"], label=f"{metric} critical {level:g} ms")
    # latency thresholds on an endpoint or persona: their observed values per step, and their critical level
    scoped = sorted({(t["metric"], t["scope"], t["critical"]) for r in rows for t in r["thresholds"]
                     if t["scope"] != "aggregate" and t["metric"] in LATENCY_METRICS and t["critical"] is not None})
    for n, (metric, scope, level) in enumerate(scoped):
        colour = SCOPED_COLOURS[n % len(SCOPED_COLOURS)]
        observed = [next((t["observed"] for t in r["thresholds"] if (t["metric"], t["scope"]) == (metric, scope)),
                         None) for r in rows]
        where = scope.partition(":")[2]
        ax.plot(x, [np.nan if v is None else v for v in observed], marker="^", linestyle="--", color=colour,
                label=f"{metric} {where}")
        ax.axhline(level, linewidth=1, linestyle=":", color=colour, label=f"{metric} {where} critical {level:g} ms")
    return Chart("p95/p99 vs offered load", _finish(fig, ax, document, "Response time vs offered load "
                                                    "(each step's hold)", "response time (ms)", path))


def drops_chart(document: dict[str, Any], path: Path) -> Chart:
    """Dropped iterations (arrival steps) and failed requests, as percentages, against offered load."""
    rows = _by_load(document)
    fig, ax = _axes()
    x = [r["offered"] for r in rows]
    if document["by"] == BY_RATE:
        ax.plot(x, [(r["dropped_ratio"] or 0.0) * 100 for r in rows], marker="o", color="#e45756",
                label="dropped iterations (% of intended)")
    ax.plot(x, [(r["failure_ratio"] or 0.0) * 100 for r in rows], marker="s", color="#9d9d9d",
            label="failed requests (% of the hold's)")
    return Chart("Drop ratio vs offered load", _finish(fig, ax, document, "Drop ratio and error ratio vs offered "
                                                       "load", "%", path))


def capacity_charts(document: dict[str, Any], charts_dir: Path) -> list[Chart]:
    if not document["steps"]:
        return []
    charts_dir.mkdir(parents=True, exist_ok=True)
    return [achieved_chart(document, charts_dir / "capacity_achieved.png"),
            latency_chart(document, charts_dir / "capacity_latency.png"),
            drops_chart(document, charts_dir / "capacity_drops.png")]


# ------------------------------------------------------------------------------------------------ text


STEP_HEADERS = ["step", "offered", "verdict", "achieved req/s", "p50 (ms)", "p95 (ms)", "p99 (ms)", "failures",
                "dropped", "backend CPU", "db ms/s", "cache hits", "Locust CPU", "machine CPU", "wall (s)"]


def step_cells(row: dict[str, Any]) -> list[str]:
    server = row["server"]
    return [str(row["index"]), f"{row['offered']:g}", row["verdict"], fmt.rps(row["achieved_rps"]),
            fmt.ms(row["p50_ms"]), fmt.ms(row["p95_ms"]), fmt.ms(row["p99_ms"]),
            f"{row['failures']:,} ({fmt.ratio(row['failure_ratio'])})", fmt.ratio(row["dropped_ratio"]),
            fmt.cpu(server.get("backend_cpu_percent")),
            "–" if server.get("db_ms_per_s") is None else f"{server['db_ms_per_s']:,.0f}",
            fmt.ratio(server.get("cache_hit_rate")), fmt.cpu(row["generator"].get("cpu_percent")),
            fmt.cpu(row["generator"].get("machine_cpu_percent")), f"{row['wall_s']:.0f}"]


def headline(document: dict[str, Any]) -> list[str]:
    """The answer in sentences: capacity, what failed first, the knee, the bottleneck, what the search cost."""
    unit, best, first = document["unit"], document["max_sustainable"], document["first_failure"]
    lines = []
    if best:
        lines.append(f"Max sustainable: {best['offered']:g} {unit} ({fmt.rps(best['achieved_rps'])} req/s, "
                     f"p95 {fmt.ms(best['p95_ms'])} ms, p99 {fmt.ms(best['p99_ms'])} ms).")
    else:
        lines.append(f"No step passed: the capacity is below {document['search']['start']:g} {unit}.")
    if first:
        lines.append(f"First failure at {first['offered']:g} {unit}: " + "; ".join(first["failed"]) + ".")
    knee_ = document["knee"]
    lines.append(f"Knee: throughput follows offered load up to {knee_['offered']:g} {unit}, not at "
                 f"{knee_['next_offered']:g} ({fmt.rps(knee_['next_achieved_rps'])} req/s; plateau "
                 f"{fmt.rps(knee_['plateau_rps'])} req/s)." if knee_ else
                 "Knee: not reached (throughput followed offered load at every step).")
    neck = document["bottleneck"]
    if neck:
        lines.append(f"Bottleneck: {neck['where'] or 'unknown'} ({neck['why']}).")
    if document["require"] is not None:
        met = best is not None and best["offered"] >= document["require"]
        lines.append(f"Required: {document['require']:g} {unit}: {'met' if met else 'NOT met'}.")
    lines.append(f"Search: {len(document['steps'])} steps, stopped because {document['stopped']}; "
                 f"{document['wall_s']:.0f} s in all, {document['steps_wall_s']:.0f} s in steps, "
                 f"{document['load_s']:.0f} s of load.")
    return lines


def render_markdown(document: dict[str, Any]) -> str:
    lines = [f"# Capacity of {document['scenario']} by {document['by']} ({document['unit']})", "",
             f"Host {document['host']}, started {document['started_at']}.", ""]
    lines += [f"- {line}" for line in headline(document)]
    lines += ["", "| " + " | ".join(STEP_HEADERS) + " |", "|" + "---|" * len(STEP_HEADERS)]
    lines += ["| " + " | ".join(step_cells(r)) + " |" for r in document["steps"]]
    lines += ["", "Steps in the order played; each is a run directory (`careerload report DIR` re-judges it):", ""]
    lines += [f"- {r['index']}: `{r['run_dir']}`" + "".join(f"; {why}" for why in r["failed"])
              for r in document["steps"]]
    return "\n".join(lines) + "\n"


def render_html(document: dict[str, Any], drawn: list[Chart]) -> str:
    return _TEMPLATES.get_template("capacity.html.j2").render(
        style=STYLE, document=document, headline=headline(document), headers=STEP_HEADERS,
        rows=[step_cells(r) for r in document["steps"]], steps=document["steps"],
        charts=[{"title": c.title, "data": base64.b64encode(c.path.read_bytes()).decode("ascii")} for c in drawn],
        search=json.dumps(document["search"]),
    ) + "\n"


def write(document: dict[str, Any], out_dir: Path) -> list[Path]:
    """capacity.json, capacity.md, charts/*.png and capacity.html (last) into the capacity directory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = rundir.write_json(out_dir / CAPACITY_JSON, document)
    md_path = out_dir / CAPACITY_MD
    md_path.write_text(render_markdown(document), encoding="utf-8")
    drawn = capacity_charts(document, out_dir / CHARTS_DIR)
    html_path = out_dir / CAPACITY_HTML
    html_path.write_text(render_html(document, drawn), encoding="utf-8")
    return [json_path, md_path, *(c.path for c in drawn), html_path]
