"""Where a threshold looks: the whole run, a span of it (`stage`, `window`), and a baseline (`relative_to`).

`Scopes` turns a threshold's span (scenarios.thresholds.Span) into intervals of
the load window (analysis.spans) and computes, once per span, the figures a
threshold can judge there: the request rows of the span (aggregate, endpoints,
personas), its open-model figures (iterations, drops, latency from the schedule)
and its interval for the server's memory series. Stages are laid out from
run.json's shape (analysis.stages); windows from the load window's start and
end: ["-10m", "end"] is the last ten minutes of the load as measured.

A span needs the raw request log: from Locust's CSVs alone (cumulative totals)
a time-scoped threshold has no data, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.load import RunData
from analysis.open_model import IterationFigures, iteration_figures
from analysis.runstats import RunStats
from analysis.span_figures import RequestFigures, figures_in, has_raw_log
from analysis.spans import Interval
from analysis.stages import StageSpan, stage_spans
from analysis.window import Window
from scenarios.thresholds import Bound, Span


@dataclass
class Figures:
    """What a threshold is judged on in one scope of time."""

    requests: RequestFigures
    iterations: IterationFigures | None       # None: no schedule rows (a closed-model run, or an older one)
    intervals: list[Interval] | None          # None: the whole run
    scrape: dict[str, Any] | None = None      # run.json's scrape counters: the whole run only


def whole_run(stats: RunStats, iterations: IterationFigures | None) -> Figures:
    return Figures(RequestFigures(stats.aggregate, stats.endpoints, stats.personas), iterations, None, stats.scrape)


class Scopes:
    """The figures of each span thresholds ask for, computed once per span."""

    def __init__(self, data: RunData, stats: RunStats, iterations: IterationFigures | None) -> None:
        self.data = data
        self.window: Window = stats.window
        self.stages: list[StageSpan] = stage_spans(data.run)
        self.run = whole_run(stats, iterations)
        self._cache: dict[Span, tuple[Figures | None, str]] = {}

    def figures(self, span: Span | None) -> tuple[Figures | None, str]:
        """The figures of a span (the whole run for None), or None and why there are none."""
        if span is None:
            return self.run, ""
        if span not in self._cache:
            self._cache[span] = self._compute(span)
        return self._cache[span]

    def intervals(self, span: Span) -> tuple[list[Interval], str]:
        """The span's intervals within the load window, or [] and why."""
        if self.window.start is None or self.window.end is None:
            return [], "the run has no load window"
        if span.stages:
            if not self.stages:
                return [], "run.json records no shape: its stages are unknown"
            missing = [n for n in span.stages if n > len(self.stages)]
            if missing:
                return [], f"the run's shape has {len(self.stages)} stage(s), not {missing[0]}"
            intervals = [interval for n in span.stages if (interval := self.stages[n - 1].interval(self.window))]
            if not intervals:
                return [], f"the run ended before {span.text()} began"
            return intervals, ""
        assert span.window is not None
        start, end = (self._at(bound) for bound in span.window)
        start, end = max(start, self.window.start), min(end, self.window.end)
        if end <= start:
            return [], f"{span.text()} is empty in a load window of {self.window.duration_s or 0:.0f} s"
        return [Interval(start, end)], ""

    def _at(self, bound: Bound) -> float:
        assert self.window.start is not None and self.window.end is not None
        return self.window.end - bound.offset_s if bound.from_end else self.window.start + bound.offset_s

    def _compute(self, span: Span) -> tuple[Figures | None, str]:
        if not has_raw_log(self.data):
            return None, "time scopes need the raw request log (Locust's CSVs hold run-wide totals only)"
        intervals, why = self.intervals(span)
        if not intervals:
            return None, why
        return self.figures_of(intervals), ""

    def figures_of(self, intervals: list[Interval]) -> Figures:
        """The figures of the raw-log rows that start in these intervals."""
        return Figures(figures_in(self.data, intervals), iteration_figures(self.data.schedule, intervals), intervals)
