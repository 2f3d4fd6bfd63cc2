"""The load window: the span throughput is divided by and the time axis starts at.

run.json's start/end when the run recorded them, else the raw log's span, else
Locust's history span; the same window for every row so the rows add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from analysis.load import RunData
from analysis.raw_query import RawQuery


def _iso_to_epoch(value: Any) -> float | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Window:
    """The load window: where throughput's denominator and the time axis come from."""

    start: float | None     # epoch seconds
    end: float | None
    origin: str             # "run.json", "raw request log span", "locust history", "unknown"; see load_window

    @property
    def duration_s(self) -> float | None:
        if self.start is None or self.end is None or self.end <= self.start:
            return None
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": None if self.start is None else iso_utc(self.start),
            "end": None if self.end is None else iso_utc(self.end),
            "duration_s": self.duration_s,
            "source": self.origin,
        }


def raw_span(data: RunData) -> tuple[int, float, float, float]:
    """The raw log's rows, first start, last start and last end (start + response time); 0 rows without one."""
    if data.requests is not None:
        if not len(data.requests):
            return 0, 0.0, 0.0, 0.0
        ts = data.requests["ts"].to_numpy()
        return len(ts), float(ts.min()), float(ts.max()), float((ts + data.requests["rt_ms"].to_numpy() / 1000.0).max())
    if data.raw_log is not None:
        query = RawQuery(data.raw_log)
        try:
            rows, first, last, end = query.span()
        finally:
            query.close()
        return (rows, float(first), float(last), float(end)) if rows else (0, 0.0, 0.0, 0.0)
    return 0, 0.0, 0.0, 0.0


def load_window(data: RunData) -> Window:
    """run.json start/end when present, else the raw log's span, else Locust's history span.

    A run that did not complete ends at its last measured request (the latest
    start plus response time): run.json's end, when there is one, is when its
    writer gave up, not when the load stopped.
    """
    start, end = _iso_to_epoch(data.run.get("start")), _iso_to_epoch(data.run.get("end"))
    rows, first_ts, last_ts, last_end = raw_span(data)
    if data.incomplete is not None and rows:
        first = start if start is not None and start < last_end else first_ts
        return Window(first, last_end, "run.json start, last request (incomplete run)"
                      if first == start else "raw request log span (incomplete run)")
    if start is not None and end is not None and end > start:
        return Window(start, end, "run.json")
    if rows:
        return Window(first_ts, last_ts, "raw request log span")
    if data.history is not None and len(data.history):
        stamps = data.history["Timestamp"].to_numpy(dtype=float)
        return Window(float(stamps.min()), float(stamps.max()), "locust history")
    return Window(None, None, "unknown")
