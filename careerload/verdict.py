"""The verdict `careerload run` prints: from the analysis of the run directory, as a table in each metric's unit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from foundation import rundir


def analyse(run_dir: Path) -> dict[str, Any] | None:
    """The run's verdict, {"status", "thresholds": [rows]}, from the analysis of the run directory.

    `careerload report` computes it from the raw request log (exact percentiles,
    server-side metrics from the snapshots) and writes every report file. When the
    directory cannot be analysed (a run interrupted before any request, say) or the
    analysis fails, the verdict falls back to the one the master computed from
    Locust's statistics, and the run directory stays complete for a later report.
    """
    from analysis.load import RunDirError
    from analysis.report import report

    try:
        summary = report(run_dir).summary
    except Exception as exc:  # noqa: BLE001 - a failed analysis must not lose a finished run
        why = str(exc) if isinstance(exc, RunDirError) else f"the analysis failed: {type(exc).__name__}: {exc}"
        print(f"careerload: warning: no report ({why}); verdict from Locust's own statistics; "
              f"`careerload report {run_dir}` retries", file=sys.stderr)
        path = run_dir / rundir.RUN_JSON
        return json.loads(path.read_text(encoding="utf-8")).get("verdict") if path.exists() else None
    return {"status": summary.verdict, "thresholds": summary.thresholds,
            "incomplete": summary.incomplete["note"] if summary.incomplete else None}


def verdict_table(result: dict[str, Any]) -> list[str]:
    from analysis.formatting import result_value, threshold_scope

    rows = [("STATUS", "METRIC", "SCOPE", "OBSERVED", "TARGET", "CRITICAL")]
    for row in result["thresholds"]:
        rows.append((row["status"], row["metric"], threshold_scope(row), result_value(row, "observed"),
                     result_value(row, "target"), result_value(row, "critical")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
