"""The files of `careerload compare`: comparison.json, comparison.md and charts/comparison.png.

The statistics are analysis.compare's; this module loads the two runs, asks for
the comparison and writes it out through the chart and Markdown modules, as
analysis.report does for one run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis import charts, markdown
from analysis.compare import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_TOLERANCE, compare
from analysis.load import ENGINE_DUCKDB, load_run_dir
from foundation import rundir

COMPARISON_MD = "comparison.md"
COMPARISON_JSON = "comparison.json"
COMPARISON_CHART = "comparison.png"


def run_compare(base_dir: str | Path, candidate_dir: str | Path, *, out_dir: str | Path | None = None,
                tolerance: float = DEFAULT_TOLERANCE, confidence: float = DEFAULT_CONFIDENCE,
                resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                engine: str = ENGINE_DUCKDB) -> tuple[dict[str, Any], list[Path]]:
    """Compare two run directories and write comparison.json, comparison.md and charts/comparison.png."""
    result = compare(load_run_dir(base_dir, engine), load_run_dir(candidate_dir, engine), tolerance=tolerance,
                     confidence=confidence, resamples=resamples, seed=seed)
    out = Path(out_dir) if out_dir is not None else Path(candidate_dir)
    (out / rundir.CHARTS_DIR).mkdir(parents=True, exist_ok=True)
    chart = charts.comparison_chart(result["endpoints"], tolerance, out / rundir.CHARTS_DIR / COMPARISON_CHART)
    json_path = out / COMPARISON_JSON
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path = out / COMPARISON_MD
    md_path.write_text(markdown.render_comparison(result, f"{rundir.CHARTS_DIR}/{COMPARISON_CHART}"), encoding="utf-8")
    return result, [json_path, md_path, chart.path]
