"""The report pipeline: read → statistics → thresholds → summary → every writer.

One entry point (`report`) serves `careerload report`, `python -m analysis`, the
notebook and the benchmark, so they all produce the same files:

    summary.json  report.md  report.html  junit.xml  charts/*.png
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis import charts, html, junit, markdown, open_model, summary as summary_mod, verdict
from analysis.live_check import abort_evidence
from analysis.load import ENGINE_DUCKDB, RunData, load_locust_csv, load_run_dir
from analysis.stages import stage_entries
from analysis.time_scopes import Scopes
from analysis.runstats import RunStats
from analysis.stats import compute
from analysis.summary import Summary
from foundation import rundir
from scenarios.thresholds import Threshold


@dataclass
class Report:
    summary: Summary
    stats: RunStats
    files: list[Path]
    exit_code: int


def choose_thresholds(data: RunData, thresholds_file: str | None, scenario: str | None) -> tuple[list[Threshold], str]:
    """--thresholds FILE, else --scenario NAME, else run.json's; and a phrase saying which."""
    if thresholds_file:
        return verdict.read_thresholds_file(thresholds_file), f"file {thresholds_file}"
    if scenario:
        return verdict.scenario_thresholds(scenario), f"scenario {scenario}"
    return verdict.run_thresholds(data.run), "run.json" if data.run else "none"


def analyse(data: RunData, thresholds: list[Threshold], origin: str) -> tuple[Summary, RunStats]:
    stats = compute(data)
    iterations = open_model.iteration_figures(data.schedule, None)
    scopes = Scopes(data, stats, iterations)
    results = verdict.evaluate(thresholds, stats, data.server, scopes)
    time_aware = summary_mod.TimeAware(
        stages=stage_entries(data, stats.window),
        open_model=open_model.summarise(data.run, data.schedule, iterations, stats),
        abort=abort_evidence(data.run, scopes, data.server),
    )
    return summary_mod.build(data, stats, results, verdict.verdict(results), origin, time_aware), stats


def write_all(summary: Summary, stats: RunStats, out_dir: Path, strict: bool) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = charts.report_charts(summary, stats, out_dir / rundir.CHARTS_DIR)
    return [
        summary_mod.write(summary, out_dir / rundir.SUMMARY_JSON),
        markdown.write(summary, out_dir / rundir.REPORT_MD),
        html.write(summary, drawn, out_dir / rundir.REPORT_HTML),
        junit.write(summary, strict, out_dir / rundir.JUNIT_XML),
        *(chart.path for chart in drawn),
    ]


def report(run_dir: str | Path | None = None, *, locust_csv: str | None = None, thresholds_file: str | None = None,
           scenario: str | None = None, strict: bool = False, out_dir: str | Path | None = None,
           engine: str = ENGINE_DUCKDB) -> Report:
    """Analyse a run directory (or plain Locust CSVs) and write every report file.

    `engine`: how the raw log is read (analysis.load.ENGINES): out of core (DuckDB) or all in memory.

    Raises `analysis.load.RunDirError` for unusable input and
    `scenarios.thresholds.ScenarioError` for unusable thresholds.
    """
    data = load_locust_csv(locust_csv, out_dir) if locust_csv else load_run_dir(run_dir, engine)
    if out_dir is not None:
        data.out_dir = Path(out_dir)
    thresholds, origin = choose_thresholds(data, thresholds_file, scenario)
    summary, stats = analyse(data, thresholds, origin)
    files = write_all(summary, stats, data.out_dir, strict)
    return Report(summary, stats, files, verdict.exit_code(summary.verdict, strict))
