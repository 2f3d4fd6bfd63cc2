"""The live abort beside the report: the figure that stopped the run and the exact figure of the same window.

When an abort_on_fail threshold stops a run, the master writes run.json's
`abort`: the metric, scope, level, the figure it observed and the sliding
window it judged (epoch seconds). The report recomputes that window from the
raw log with the report's own code, so a reader sees both numbers side by side;
where they can differ (rows still in flight on the workers when the master
judged, rows that started in the window but ended after the check) is in the
README's `careerload run` section.
"""

from __future__ import annotations

from typing import Any

from analysis.span_figures import has_raw_log
from analysis.spans import Interval
from analysis.time_scopes import Scopes
from analysis.verdict import observe
from scenarios.thresholds import ScenarioError, Threshold


def abort_evidence(run: dict[str, Any], scopes: Scopes, server: dict[str, Any]) -> dict[str, Any] | None:
    """summary.json's `abort`: run.json's live figure plus `exact` (and why it is missing); None without one."""
    live = run.get("abort")
    if not isinstance(live, dict):
        return None
    evidence = {**live, "exact": None, "exact_note": ""}
    try:
        threshold = Threshold.from_dict({"metric": live.get("metric"), "scope": live.get("scope", "aggregate"),
                                         "critical": live.get("level")}, "run.json: abort")
        start, end = float(live["window_start"]), float(live["window_end"])
    except (ScenarioError, KeyError, TypeError, ValueError) as exc:
        evidence["exact_note"] = f"run.json's abort record cannot be read back: {exc}"
        return evidence
    if not has_raw_log(scopes.data):
        evidence["exact_note"] = "no raw request log to recompute the window from"
        return evidence
    # the live window is closed at both ends, [start, end] (scenarios.sliding_window)
    observed, why = observe(threshold, scopes.figures_of([Interval(start, end, closed=True)]), server)
    evidence["exact"] = observed
    evidence["exact_note"] = why or (f"the raw-log rows that started in the same {end - start:.0f} s window, "
                                     "judged by the report's code")
    return evidence
