"""summary.json's `stages`: one entry per stage (or step) of the shape, with the figures of the rows that start in it.

The spans come from run.json's `shape` (the scenario as played: durations
already multiplied by --time-scale) laid from run.json's `start`, which is when
the shape's clock started. A stage the run never reached (it was aborted or
died) is listed with `played_s` 0 and no figures; one it left early is cut at
the load window's end. Each entry has the aggregate and per-endpoint rows in
summary.json's own form; arrival-rate stages add the intended and achieved
start rates and the drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.load import RunData
from analysis.open_model import intended, is_arrival, iteration_figures
from analysis.span_figures import figures_in, has_raw_log
from analysis.spans import Interval
from analysis.window import Window


@dataclass(frozen=True)
class StageSpan:
    index: int           # from 1, as thresholds' `stage = N` counts
    label: str
    start_s: float       # seconds from the load's start
    end_s: float         # as scheduled
    value_from: float    # users, or iterations/s for arrival
    value_to: float

    def interval(self, window: Window) -> Interval | None:
        """The epoch interval of this stage within the load window; None when it never began."""
        if window.start is None:
            return None
        start = window.start + self.start_s
        end = window.start + self.end_s
        if window.end is not None:
            end = min(end, window.end)
        return Interval(start, end) if end > start else None


def stage_spans(run: dict[str, Any]) -> list[StageSpan]:
    """The stages of run.json's shape, with their scheduled times and user (or rate) targets."""
    shape = run.get("shape") or {}
    kind = shape.get("kind")
    spans, t = [], 0.0
    previous = float(shape.get("start_rate") or 0.0) if kind == "arrival" else 0.0
    for index, stage in enumerate(shape.get("stages") or [], start=1):
        end = t + float(stage["duration_s"])
        target = float(stage["target"])
        start_value = target if kind == "steps" else previous
        spans.append(StageSpan(index, str(stage.get("label") or ""), t, end, start_value, target))
        t, previous = end, target
    return spans


def stage_entries(data: RunData, window: Window) -> list[dict[str, Any]]:
    """One summary entry per stage; [] when the run has no shape or no raw log to cut."""
    if not has_raw_log(data):
        return []
    run, schedule = data.run, data.schedule
    arrival = is_arrival(run)
    entries = []
    for span in stage_spans(run):
        interval = span.interval(window)
        entry: dict[str, Any] = {
            "index": span.index, "label": span.label, "start_s": span.start_s, "end_s": span.end_s,
            "played_s": interval.duration_s if interval else 0.0,
            ("rate_per_s" if arrival else "users"): [span.value_from, span.value_to],
            "aggregate": None, "endpoints": [],
        }
        if interval is not None:
            figures = figures_in(data, [interval])
            entry["aggregate"], entry["endpoints"] = figures.aggregate, figures.endpoints
            if arrival:
                played_to = span.start_s + interval.duration_s
                entry["intended_per_s"] = round(intended(run["shape"], span.start_s, played_to)
                                                / interval.duration_s, 3)
                iterations = iteration_figures(schedule, [interval])
                if iterations is not None:
                    entry["achieved_per_s"] = round(iterations.started[None] / interval.duration_s, 3)
                    entry["dropped_iterations"] = iterations.dropped[None]
                    entry["dropped_ratio"] = iterations.dropped_ratio()
        entries.append(entry)
    return entries
