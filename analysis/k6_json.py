"""A k6 run's JSON lines (`k6 run --out json=FILE`) -> a careerload run directory the analysis reads as any other.

Streamed line by line (a k6 run writes some ten lines per request, so the file
is large; `--out json=FILE.gz` is read through gzip): each `http_req_duration` point becomes one row of the raw request
log (foundation.rundir.REQUEST_LOG_COLUMNS), written as it is read; nothing
but the running window and the thresholds is held in memory. The run directory
(run.json + requests.csv) then goes through the same analysis as a careerload
run: exact percentiles, per-endpoint tables, charts, the verdict, JUnit, and
`careerload compare` between two k6 runs' directories.

A row from a point:

    ts     the point's time (k6 stamps a request when its response was processed) less its duration
    type   the method tag;  name  the name tag (k6's default is the URL: its path is kept, as our names are)
    rt_ms  the point's value;  ok  k6's expected_response tag (http_req_failed's definition: by default a
           status 200-399), or status < 400 when the script switched the tag off
    error  "HTTP <status>" for a failed request ("HTTP 0" is k6's connection error)
    user   "k6:<scenario tag>";  worker  "k6"

Thresholds: the `Metric` lines carry the script's thresholds on whole metrics
(`"thresholds": ["p(95)<500"]`); they are parsed with scenarios.k6_thresholds
into run.json (a tag filter, should one come, gets the method and path of the
requests it names), so the verdict judges the k6 run by its own thresholds
unless --thresholds/--scenario say otherwise. A submetric's thresholds
(`http_req_duration{name:...}`) are not in k6's JSON output, only its name: a
note on stderr says so and points at --scenario. One that cannot be mapped (a
custom metric) is skipped with a note on stderr.
Percentiles differ from k6's own summary by design: careerload takes the nearest
rank, k6 interpolates linearly between the two samples around the rank.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analysis.load import RunDirError
from analysis.window import iso_utc
from foundation import rundir
from scenarios.k6_thresholds import parse_expression, rewrite_selector
from scenarios.thresholds import ScenarioError, Threshold

_STAMP = re.compile(r"^(?P<base>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d\d:\d\d)$")
REQUEST_METRIC = "http_req_duration"


def epoch(stamp: str) -> float:
    """k6's RFC 3339 time with nanoseconds -> epoch seconds (datetime parses at most microseconds)."""
    match = _STAMP.match(stamp)
    if not match:
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    tz = "+00:00" if match["tz"] == "Z" else match["tz"]
    base = datetime.fromisoformat(match["base"] + tz)
    return base.timestamp() + float(f"0.{match['frac'] or 0}")


def _name(tags: dict[str, Any]) -> str:
    name = str(tags.get("name") or tags.get("url") or "")
    parts = urlsplit(name)
    return (parts.path or "/") if parts.scheme else name


def _ok(tags: dict[str, Any]) -> bool:
    if "expected_response" in tags:
        return tags["expected_response"] == "true"
    status = str(tags.get("status", "0"))
    return status.isdigit() and 0 < int(status) < 400


def _thresholds(declared: list[tuple[str, str, str]], names: set[tuple[str, str, str]]) -> list[Threshold]:
    """The script's thresholds, (where, metric, expression) as declared, once the requests' names are known."""
    out = []
    for where, metric, expression in declared:
        try:
            out.append(parse_expression(rewrite_selector(metric, sorted(names)), expression, f"{where}: {metric}"))
        except ScenarioError as exc:
            print(f"careerload: note: threshold not judged: {exc}", file=sys.stderr)
    return out


def convert(source: str | Path, run_dir: str | Path) -> Path:
    """Write run_dir/requests.csv and run.json from a k6 JSON lines file; returns the run directory."""
    source, run_dir = Path(source), Path(run_dir)
    if not source.is_file():
        raise RunDirError(f"{source}: no such k6 JSON output file")
    run_dir.mkdir(parents=True, exist_ok=True)
    declared: list[tuple[str, str, str]] = []
    names: set[tuple[str, str, str]] = set()  # (k6 name tag, method, our name): one per endpoint
    first = last = None
    rows = 0
    opened = gzip.open(source, "rt", encoding="utf-8") if source.suffix == ".gz" else source.open(encoding="utf-8")
    with opened as lines, (run_dir / rundir.REQUEST_LOG).open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rundir.REQUEST_LOG_COLUMNS)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{source}:{number}"
            try:
                record = json.loads(line)
                kind, metric, data = record["type"], record["metric"], record["data"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RunDirError(f"{where} is not a line of k6's JSON output ({exc})") from None
            if kind == "Metric":
                declared += [(where, metric, expression) for expression in data.get("thresholds") or []]
                for sub in data.get("submetrics") or []:
                    print(f"careerload: note: k6's JSON output names the submetric {sub.get('name')} but not its "
                          "thresholds: judge them with --scenario (a scenario from `careerload import k6`) or "
                          "--thresholds FILE", file=sys.stderr)
                continue
            if kind != "Point" or metric != REQUEST_METRIC:
                continue
            try:
                tags = data.get("tags") or {}
                duration = float(data["value"])
                end = epoch(data["time"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise RunDirError(f"{where}: an {REQUEST_METRIC} point without time and value ({exc})") from None
            start = end - duration / 1000.0
            ok = _ok(tags)
            method, name = tags.get("method", "GET"), _name(tags)
            names.add((str(tags.get("name") or tags.get("url") or ""), method, name))
            writer.writerow((f"{start:.6f}", method, name, f"{duration:.3f}", 0,
                             int(ok), "" if ok else f"HTTP {tags.get('status', 0)}",
                             f"k6:{tags.get('scenario', 'default')}", "k6"))
            rows += 1
            first = start if first is None else min(first, start)
            last = end if last is None else max(last, end)
    if not rows:
        raise RunDirError(f"{source} has no {REQUEST_METRIC} points: not the JSON output of a k6 run with HTTP "
                          "requests")
    run = {
        "scenario": source.stem, "scenario_file": None, "host": None, "tool": "k6",
        "options": {"k6_json": str(source)}, "thresholds": [t.to_dict() for t in _thresholds(declared, names)],
        "versions": {}, "start": iso_utc(first), "end": iso_utc(last), "status": "complete", "incomplete": None,
        "workers": ["k6"], "lost_workers": [], "aborted": None,
    }
    rundir.write_json(run_dir / rundir.RUN_JSON, run)
    return run_dir
