"""The run directory: file names and the raw request log format, defined once.

`careerload run` and the Locust plugin write a run directory; `careerload report`
/ `compare` read it. Both sides import the names below so the format lives in
one place.

    results/<scenario>-<UTC timestamp YYYYmmddTHHMMSSZ>/
        run.json                  what ran (see RUN_JSON_KEYS)
        locust_stats.csv          Locust's final per-endpoint stats (can lag: see DESIGN.md)
        locust_stats_history.csv  Locust's --csv-full-history time series
        locust_failures.csv       Locust's failures
        locust_exceptions.csv     Locust's exceptions
        locust_report.html        Locust's own HTML report
        requests-<worker>.parquet the raw request log of one process (REQUEST_LOG_COLUMNS), Parquet, written
                                  at the end of the run from its segments ("local" in a single-process run)
        requests/<worker>-<n>.parquet  the segments: every few seconds each process (or the master, for a
                                  remote worker's shipped rows) closes one small whole Parquet file; a run
                                  that died is read from them (see "Parquet raw log" below)
        requests.csv              the raw request log as CSV (--request-log-format csv, and every run directory
                                  written before the Parquet log): one row per request
        requests-<worker>.csv     per-worker CSV logs in distributed runs (merged into requests.csv)
        requests-<worker>.unsent.csv  CSV rows a remote worker kept when its master died (copied in by hand)
        server/                   server-side snapshots (files and columns below)
        summary.json report.md report.html junit.xml charts/*.png   written by the analysis

The raw request log has these columns, one row per request, streamed by a
Locust listener (never held in memory); in CSV with a header line:

    ts           request start, Unix epoch seconds with millisecond precision
    type         request type / method: GET, POST, ..., SQL, TASK (scrape completion)
    name         route template, e.g. /api/v1/jobs/{id}; never a raw id
    rt_ms        response time in milliseconds (float, 3 decimals)
    size         response body length in bytes
    ok           1 success, 0 failure
    error        failure message (empty when ok); commas and newlines are quoted CSV-style
    user         the persona (Locust user class name), e.g. BrowsingUser
    worker       worker id ("local" in a single-process run)

Arrival-rate (open-model) scenarios add pseudo-rows, in the same 9 columns,
written to the raw log only (Locust's statistics never count them, the live
check never sees them, the analysis leaves them out of the aggregates):

    type ITER, name start    one per iteration started: ts = its *scheduled* start (its slot), rt_ms = its
                             lateness (actual start - scheduled start, >= 0), size 0, ok 1
    type ITER, name dropped  one per batch of slots nobody could start within --max-lateness: ts = the first
                             missed slot, rt_ms 0, size = how many slots were dropped (>= 1), ok 1, user = the
                             persona that noticed (empty in the last one, written when the load ends: the
                             slots nobody took because every user was busy until then). Intended iterations =
                             started + dropped, exactly.
    type SCHED, name "<TYPE> <name>" of the iteration's first request (e.g. "GET /api/v1/jobs"): ts = the
                             iteration's scheduled start, rt_ms = that request's end - scheduled start (its
                             latency from the schedule, coordinated omission included; >= the request's own
                             rt_ms), size, ok and error as the request's
Parquet raw log (the default): the same columns, typed (REQUEST_LOG_ARROW_TYPES:
ts and rt_ms float64 rounded to 3 decimals, size int64, ok int8, the rest
strings, dictionary-encoded and zstd-compressed). A process buffers its rows
and, every few seconds, writes them as one *segment*, a whole Parquet file
under a temporary name renamed into `requests/`: a segment is either complete
or absent, so a process killed outright loses only its unwritten buffer
(seconds of rows), never a file. When the process ends normally its segments
are compacted, in order, into `requests-<worker>.parquet` (large row groups),
written under a temporary name and renamed before the segments are removed: a
reader takes a worker's compacted file when there is one, else its segments.
"""


from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RUN_JSON = "run.json"
CSV_PREFIX = "locust"
STATS_CSV = f"{CSV_PREFIX}_stats.csv"
HISTORY_CSV = f"{CSV_PREFIX}_stats_history.csv"
FAILURES_CSV = f"{CSV_PREFIX}_failures.csv"
EXCEPTIONS_CSV = f"{CSV_PREFIX}_exceptions.csv"
LOCUST_HTML = f"{CSV_PREFIX}_report.html"
REQUEST_LOG = "requests.csv"
WORKER_REQUEST_LOG = "requests-{worker}.csv"
UNSENT_REQUEST_LOG = "requests-{worker}.unsent.csv"
PARQUET_REQUEST_LOG = "requests-{worker}.parquet"
SEGMENTS_DIR = "requests"
SEGMENT = "{worker}-{number:06d}.parquet"
SERVER_DIR = "server"

SUMMARY_JSON = "summary.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
JUNIT_XML = "junit.xml"
CHARTS_DIR = "charts"

REQUEST_LOG_COLUMNS = ("ts", "type", "name", "rt_ms", "size", "ok", "error", "user", "worker")
# The raw log's pseudo-rows (see the module docstring) and the scraping persona's completion times.
ITERATION_TYPE, ITERATION_START, ITERATION_DROPPED = "ITER", "start", "dropped"
SCHEDULE_TYPE = "SCHED"
TASK_TYPE = "TASK"
# Row types that are not requests the backend served.
NON_REQUEST_TYPES = (TASK_TYPE, ITERATION_TYPE, SCHEDULE_TYPE)
# Schedule rows: kept apart from the requests by the analysis (analysis.load).
SCHEDULE_ROW_TYPES = (ITERATION_TYPE, SCHEDULE_TYPE)
# The Parquet raw log's column types, as Arrow type names (pyarrow.type_for_alias); stdlib here, Arrow in its readers.
REQUEST_LOG_ARROW_TYPES = {"ts": "float64", "type": "string", "name": "string", "rt_ms": "float64", "size": "int64",
                           "ok": "int8", "error": "string", "user": "string", "worker": "string"}
REQUEST_LOG_FORMATS = ("parquet", "csv")

# run.json: a JSON object with (at least) these keys.
#   scenario     name of the scenario (str)
#   scenario_file path of the scenario file (str or null for --locust-csv)
#   host         target base URL (str)
#   options      the run's options as given (dict: time_scale, users, workers, ...)
#   thresholds   the scenario's thresholds, as dicts (see scenarios.thresholds)
#   versions     {"careerload": ..., "locust": ..., "python": ...}
#   start, end   ISO 8601 UTC timestamps of the load window
#   git_revision the repo's commit, or null
#   workers      list of worker ids that took part
#   lost_workers list of {"worker": id, "at": ISO timestamp}
#   aborted      null, or the reason the run ended early (threshold abort, Ctrl-C)
#   status       "running" from the start of the load until the run directory is
#                whole, then "complete"; "incomplete" when the run died and its
#                writer knew (see `incomplete`). A run.json still "running" after
#                the run's processes are gone was left by a writer that was killed.
#                (Run directories older than this key have none: complete.)
#   incomplete   null, or {"reason": one of INCOMPLETE_REASONS, "detail": a sentence}
#   abort        null, or the evidence of a live threshold abort: {"metric", "scope", "observed", "level"
#                (the critical level it missed), "window_start", "window_end"} (epoch seconds: the raw
#                rows whose ts falls in [window_start, window_end] are the ones the live check judged)
RUN_JSON_KEYS = (
    "scenario", "scenario_file", "host", "options", "thresholds", "versions",
    "start", "end", "git_revision", "workers", "lost_workers", "aborted", "status", "incomplete", "abort",
)

# server/: one CSV per source, a header line, one row per snapshot (pg_statements:
# one row per statement per snapshot). Counters are cumulative as the servers report
# them; the analysis takes deltas over the run window.
REDIS_CSV = "redis.csv"
STATEMENTS_CSV = "pg_statements.csv"
CONNECTIONS_CSV = "pg_connections.csv"
PROCESS_CSV = "process.csv"
REDIS_COLUMNS = ("ts", "keyspace_hits", "keyspace_misses", "evicted_keys", "ops_per_sec", "used_memory",
                 "app_hits", "app_misses", "app_errors")
STATEMENT_COLUMNS = ("ts", "queryid", "query", "calls", "total_ms", "mean_ms", "rows", "shared_blks_hit",
                     "shared_blks_read")
CONNECTION_COLUMNS = ("ts", "total", "active", "idle", "idle_in_transaction")
PROCESS_COLUMNS = ("ts", "pids", "cpu_percent", "rss_bytes")

# What the Locust plugin prints before each line `careerload run` relays (live status,
# waiting for workers), so the runner can tell them from Locust's own output.
STATUS_PREFIX = "[careerload] "
RUNNING, COMPLETE, INCOMPLETE = "running", "complete", "incomplete"
# Why a run did not complete, as far as anyone can tell afterwards.
MASTER_LOST = "master lost"        # the Locust master (or single Locust process) died mid-run
INTERRUPTED = "interrupted"        # what started Locust (`careerload run`) died first
UNKNOWN = "unknown"                # run.json still says running: every writer was killed
INCOMPLETE_REASONS = (MASTER_LOST, INTERRUPTED, UNKNOWN)


def write_json(path: Path, document: dict[str, Any]) -> Path:
    """Write a JSON file so that a reader never sees a torn one: a temporary file, then rename.

    run.json is rewritten while the run goes on, and its writer can be killed at
    any moment; rename within one directory is atomic, so the file is either the
    old document or the new one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def incomplete_of(run: dict[str, Any]) -> dict[str, str] | None:
    """Why a run.json's run did not complete ({"reason", "detail"}), or None for a complete run."""
    status = run.get("status", COMPLETE)
    if status == COMPLETE:
        return None
    if status == INCOMPLETE and isinstance(run.get("incomplete"), dict):
        return {"reason": run["incomplete"].get("reason", UNKNOWN), "detail": run["incomplete"].get("detail", "")}
    return {"reason": UNKNOWN, "detail": f"run.json still says {status!r}: the processes that ran the load were "
                                         "killed before they could finish it (kill -9, a CI timeout, a reboot), "
                                         "or the run is still going"}
