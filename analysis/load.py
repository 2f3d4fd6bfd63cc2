"""Reading a run directory (or plain Locust CSVs) into pandas, refusing unusable input.

Everything the analysis knows about a run comes through `RunData`. Files are
checked before they are parsed so that a cut-off or foreign file is reported as
one sentence naming it (exit code 2), never as a pandas traceback or, worse, as
silently wrong numbers:

- a file that does not end with a newline was cut mid-line (the writer died or
  the copy is partial): "truncated";
- a raw request log whose header is not `foundation.rundir.REQUEST_LOG_COLUMNS`,
  or a Locust CSV without Locust's columns, is "truncated or not ..." as well;
- a Locust `_stats.csv` without its final "Aggregated" row was cut between rows.

Server-side snapshots (server/) are the exception: they are evidence beside the
load, so a missing or cut-off one is a note in the report (analysis.server), not
a refusal.

So is a run that did not complete (run.json `status` is not "complete": see
foundation.rundir): its writer died, so cut-off files are what it left, not a
sign of a foreign input. The per-process raw logs are merged here (torn rows
left out and counted, foundation.rawlog), a Locust CSV that cannot be read is
left out with a note, and `RunData.incomplete` says why the run is incomplete.

The raw log is Parquet (foundation.rundir) or, in run directories written
before it or with --request-log-format csv, CSV. It can be far larger than
memory (an hour at 30,000 requests/s is 108 M rows), so by default it is not
read here at all: `RunData.raw_log` says which files hold it and the out-of-core
engine (analysis.raw_query, DuckDB) scans them. The in-memory engine
(`engine="memory"`, the reference the out-of-core one is tested against) reads
it into `RunData.requests` with pyarrow, with explicit types and the repetitive
string columns dictionary-encoded (pandas categories) as they are parsed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis.server import read_server
from foundation import rundir
from foundation.rawlog import parquet_logs, recover_request_log

ENGINE_DUCKDB, ENGINE_MEMORY = "duckdb", "memory"
ENGINES = (ENGINE_DUCKDB, ENGINE_MEMORY)

# The raw log's columns the analysis reads, with their dtypes (see foundation/rundir.py);
# `worker` is not used and not read; `size` is read for the schedule rows' dropped counts.
REQUEST_LOG_DTYPES: dict[str, str] = {
    "ts": "float64",
    "type": "category",
    "name": "category",
    "rt_ms": "float64",
    "size": "int32",
    "ok": "int8",
    "error": "category",
    "user": "category",
}
_ARROW_TYPES = {"float64": pa.float64(), "int32": pa.int32(), "int8": pa.int8(),
                "category": pa.dictionary(pa.int32(), pa.string())}

# The columns this analysis needs from each Locust CSV (Locust 2.x names).
STATS_COLUMNS = ("Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                 "Average Response Time", "Min Response Time", "Max Response Time",
                 "Average Content Size", "Requests/s", "Failures/s")
HISTORY_COLUMNS = ("Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                   "Total Request Count", "Total Failure Count")
FAILURES_COLUMNS = ("Method", "Name", "Error", "Occurrences")
EXCEPTIONS_COLUMNS = ("Count", "Message", "Traceback", "Nodes")
AGGREGATED = "Aggregated"


class RunDirError(Exception):
    """The input cannot be analysed; the message names the file and what is wrong with it."""


@dataclass
class RawLog:
    """Which files hold a run's raw request log: Parquet (compacted files and segments) or CSV, checked."""

    format: str          # "parquet" or "csv" (foundation.rundir.REQUEST_LOG_FORMATS)
    paths: list[Path]


@dataclass
class RunData:
    """What was read: the raw log when there is one, Locust's CSVs when present, run.json."""

    source: str                          # the run directory or the CSV prefix, for messages
    out_dir: Path                        # where the reports go
    run: dict[str, Any]                  # run.json ({} for plain Locust CSVs)
    requests: pd.DataFrame | None        # the raw request log, REQUEST_LOG_DTYPES, requests only
    stats: pd.DataFrame | None = None    # Locust's _stats.csv
    history: pd.DataFrame | None = None  # Locust's _stats_history.csv
    failures: pd.DataFrame | None = None
    exceptions: pd.DataFrame | None = None
    # the `server` section of summary.json from server/ (analysis.server); {} when the run took no snapshots
    server: dict[str, Any] = field(default_factory=dict)
    # a run that did not complete: {"reason", "detail", "torn_rows", "left_out": [sentences]}; None when complete
    incomplete: dict[str, Any] | None = None
    # the raw log's files, whichever engine reads them (None without a raw log); `requests` is read from
    # them only by the in-memory engine
    raw_log: RawLog | None = None
    # the raw log's schedule rows (ITER, SCHED: rundir.SCHEDULE_ROW_TYPES) of an arrival-rate run, apart from
    # the requests so that no request figure counts them; None when there are none
    schedule: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.requests is not None and self.schedule is None:
            self.requests, self.schedule = split_schedule_rows(self.requests)


def read_schedule_rows(raw: RawLog) -> pd.DataFrame | None:
    """The schedule rows alone (the out-of-core engine), filtered batch by batch as the files are read (Parquet
    or CSV), so memory follows the schedule rows, not the requests."""
    csv_format = ds.CsvFileFormat(  # quoted newlines allowed: an error message may hold one
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={
            column: pa.string() if dtype == "category" else _ARROW_TYPES[dtype]
            for column, dtype in REQUEST_LOG_DTYPES.items()}))
    try:
        source = ds.dataset(raw.paths, format="parquet" if raw.format == "parquet" else csv_format)
        table = source.to_table(columns=list(REQUEST_LOG_DTYPES),
                                filter=ds.field("type").isin(list(rundir.SCHEDULE_ROW_TYPES)))
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunDirError(f"the raw request log of {raw.paths[0].parent} is malformed: {exc}") from exc
    if not table.num_rows:
        return None
    return table.unify_dictionaries().cast(pa.schema(
        [(column, _ARROW_TYPES[dtype]) for column, dtype in REQUEST_LOG_DTYPES.items()])).to_pandas()


def split_schedule_rows(log: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(the requests, the schedule rows or None): one pass over the type codes, a copy only when there are some."""
    types = log["type"].cat
    codes = [code for code, name in enumerate(types.categories) if name in rundir.SCHEDULE_ROW_TYPES]
    if not codes:
        return log, None
    mask = np.isin(types.codes.to_numpy(), codes)
    if not mask.any():
        return log, None
    requests, schedule = log[~mask].reset_index(drop=True), log[mask].reset_index(drop=True)
    for column in ("type", "name"):
        requests[column] = requests[column].cat.remove_unused_categories()
    return requests, schedule


def _check_complete(path: Path) -> None:
    """Refuse an empty file or one whose last line was cut (no final newline)."""
    size = path.stat().st_size
    if size == 0:
        raise RunDirError(f"{path} is truncated: the file is empty")
    with path.open("rb") as handle:
        handle.seek(size - 1)
        if handle.read(1) != b"\n":
            raise RunDirError(f"{path} is truncated: its last line is cut off (no final newline)")


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(io.StringIO(handle.readline())), [])


def check_request_log(path: Path) -> None:
    """Refuse a CSV raw log that was cut off or is not one (its header)."""
    _check_complete(path)
    header = _header(path)
    if tuple(header) != rundir.REQUEST_LOG_COLUMNS:
        raise RunDirError(
            f"{path} is truncated or not a request log: header is {','.join(header)!r}, "
            f"expected {','.join(rundir.REQUEST_LOG_COLUMNS)!r}"
        )


def read_request_log(path: Path) -> pd.DataFrame:
    """Read one raw request log, checking that it is complete first.

    pyarrow's CSV reader is called directly rather than through
    `pd.read_csv(engine="pyarrow")`: pandas parses category columns as plain
    strings and converts afterwards (GH#56044), which for 10 M rows costs over
    a GiB more than reading them dictionary-encoded; and only pyarrow itself
    can be told that quoted values may contain newlines (an error message
    with a line break), which is tried only when the fast parse trips on one.
    """
    check_request_log(path)
    convert = pa_csv.ConvertOptions(
        column_types={column: _ARROW_TYPES[dtype] for column, dtype in REQUEST_LOG_DTYPES.items()},
        include_columns=list(REQUEST_LOG_DTYPES),
    )
    try:
        table = pa_csv.read_csv(path, convert_options=convert)
    except pa.ArrowInvalid as exc:
        if "newlines_in_values" not in str(exc):
            raise RunDirError(f"{path} is malformed: {exc}") from exc
        try:
            table = pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                                    convert_options=convert)
        except pa.ArrowInvalid as exc2:
            raise RunDirError(f"{path} is malformed: {exc2}") from exc2
    # column by column, freeing Arrow's buffers as pandas takes them over
    return table.to_pandas(split_blocks=True, self_destruct=True)


def read_parquet_logs(paths: list[Path]) -> pd.DataFrame:
    """The Parquet raw log's files in one frame (the in-memory engine), string columns as categories."""
    strings = [column for column, dtype in REQUEST_LOG_DTYPES.items() if dtype == "category"]
    try:
        table = pq.read_table(paths, columns=list(REQUEST_LOG_DTYPES), read_dictionary=strings)
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunDirError(f"the raw request log of {paths[0].parent} is malformed: {exc}") from exc
    table = table.unify_dictionaries().cast(pa.schema(
        [(column, _ARROW_TYPES[dtype]) for column, dtype in REQUEST_LOG_DTYPES.items()]))
    return table.to_pandas(split_blocks=True, self_destruct=True)


def find_raw_log(run_dir: Path) -> RawLog | None:
    """The run's raw log: its Parquet files when there are any, else requests.csv (or the per-worker CSVs)."""
    parquet = parquet_logs(run_dir)
    if parquet:
        return RawLog("parquet", parquet)
    merged = run_dir / rundir.REQUEST_LOG
    csvs = [merged] if merged.is_file() else sorted(run_dir.glob(rundir.WORKER_REQUEST_LOG.format(worker="*")))
    for path in csvs:
        check_request_log(path)
    return RawLog("csv", csvs) if csvs else None


def read_raw_log(raw: RawLog) -> pd.DataFrame:
    """The whole raw log in memory (the in-memory engine)."""
    return read_parquet_logs(raw.paths) if raw.format == "parquet" else _read_request_logs(raw.paths)


def _read_request_logs(paths: list[Path]) -> pd.DataFrame:
    """One frame from requests.csv, or from the per-worker logs when the merge never happened."""
    frames = [read_request_log(path) for path in paths]
    if len(frames) == 1:
        return frames[0]
    from pandas.api.types import union_categoricals

    merged: dict[str, Any] = {}
    for column, dtype in REQUEST_LOG_DTYPES.items():
        parts = [frame[column] for frame in frames]
        merged[column] = (pd.Series(union_categoricals(parts, ignore_order=True)) if dtype == "category"
                          else pd.concat(parts, ignore_index=True))
    return pd.DataFrame(merged)


def _read_locust_csv(path: Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    _check_complete(path)
    header = _header(path)
    missing = [column for column in required if column not in header]
    if missing:
        raise RunDirError(f"{path} is truncated or not Locust's {what}: missing column(s) {', '.join(missing)}")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=["N/A", ""])
    except (pd.errors.ParserError, ValueError) as exc:
        raise RunDirError(f"{path} is malformed: {exc}") from exc
    for column in ("Type", "Name", "Method", "Error", "Message", "Traceback", "Nodes"):
        if column in frame:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def _read_stats(path: Path) -> pd.DataFrame:
    frame = _read_locust_csv(path, STATS_COLUMNS, "_stats.csv")
    if not (frame["Name"] == AGGREGATED).any():
        raise RunDirError(f"{path} is truncated: it has no final '{AGGREGATED}' row")
    return frame


def _read_optional(path: Path, required: tuple[str, ...], what: str) -> pd.DataFrame | None:
    return _read_locust_csv(path, required, what) if path.is_file() else None


def _read_left_by_a_dead_run(read: Any, path: Path, *args: Any, left_out: list[str]) -> pd.DataFrame | None:
    """A Locust CSV of a run that did not complete: one Locust could not finish writing is left out, with why."""
    try:
        return read(path, *args) if path.is_file() else None
    except RunDirError as exc:
        left_out.append(f"{exc}; left out.")
        return None


def load_run_dir(path: str | Path, engine: str = ENGINE_DUCKDB) -> RunData:
    """Read a `careerload run` directory: run.json plus the raw log, or Locust's CSVs without one.

    engine ENGINE_MEMORY reads the raw log into `requests`; ENGINE_DUCKDB only finds its files (`raw_log`).
    """
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir} is not a directory")
    run_json = run_dir / rundir.RUN_JSON
    if not run_json.is_file():
        raise RunDirError(
            f"{run_json} is missing: not a careerload run directory (for plain Locust CSVs use --locust-csv PREFIX)"
        )
    try:
        run = json.loads(run_json.read_text())
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{run_json} is truncated or not JSON: {exc}") from exc
    if not isinstance(run, dict):
        raise RunDirError(f"{run_json} is not a JSON object")

    incomplete: dict[str, Any] | None = rundir.incomplete_of(run)
    if incomplete is not None:
        return _load_incomplete(run_dir, run, incomplete, engine)
    raw = find_raw_log(run_dir)
    stats_path = run_dir / rundir.STATS_CSV
    if raw is None and not stats_path.is_file():
        raise RunDirError(f"{run_dir} has neither {rundir.REQUEST_LOG} nor {rundir.STATS_CSV}: nothing to analyse")
    return RunData(
        source=str(run_dir),
        out_dir=run_dir,
        run=run,
        requests=read_raw_log(raw) if raw is not None and engine == ENGINE_MEMORY else None,
        raw_log=raw,
        schedule=read_schedule_rows(raw) if raw is not None and engine == ENGINE_DUCKDB else None,
        stats=_read_stats(stats_path) if stats_path.is_file() else None,
        history=_read_optional(run_dir / rundir.HISTORY_CSV, HISTORY_COLUMNS, "_stats_history.csv"),
        failures=_read_optional(run_dir / rundir.FAILURES_CSV, FAILURES_COLUMNS, "_failures.csv"),
        exceptions=_read_optional(run_dir / rundir.EXCEPTIONS_CSV, EXCEPTIONS_COLUMNS, "_exceptions.csv"),
        server=read_server(run_dir),
    )


def _load_incomplete(run_dir: Path, run: dict[str, Any], incomplete: dict[str, Any], engine: str) -> RunData:
    """A run whose writer died: merge what every process wrote, keep every Locust CSV that can still be read.

    CSV logs are merged (torn rows left out and counted); Parquet segments are
    whole by construction and read as they are, without a merge.
    """
    try:
        merged = recover_request_log(run_dir)
    except OSError as exc:
        raise RunDirError(f"cannot merge the raw request logs of {run_dir} (the run did not complete): "
                          f"{exc.strerror or exc}") from exc
    raw = find_raw_log(run_dir)
    left_out: list[str] = []
    stats = _read_left_by_a_dead_run(_read_stats, run_dir / rundir.STATS_CSV, left_out=left_out)
    if raw is None and stats is None:
        raise RunDirError(f"{run_dir} has neither a raw request log nor a readable {rundir.STATS_CSV}: the run "
                          f"did not complete ({incomplete['reason']}) and left nothing to analyse")
    csvs = {name: _read_left_by_a_dead_run(_read_locust_csv, run_dir / name, columns, what, left_out=left_out)
            for name, columns, what in ((rundir.HISTORY_CSV, HISTORY_COLUMNS, "_stats_history.csv"),
                                        (rundir.FAILURES_CSV, FAILURES_COLUMNS, "_failures.csv"),
                                        (rundir.EXCEPTIONS_CSV, EXCEPTIONS_COLUMNS, "_exceptions.csv"))}
    return RunData(
        source=str(run_dir),
        out_dir=run_dir,
        run=run,
        requests=read_raw_log(raw) if raw is not None and engine == ENGINE_MEMORY else None,
        raw_log=raw,
        schedule=read_schedule_rows(raw) if raw is not None and engine == ENGINE_DUCKDB else None,
        stats=stats,
        history=csvs[rundir.HISTORY_CSV],
        failures=csvs[rundir.FAILURES_CSV],
        exceptions=csvs[rundir.EXCEPTIONS_CSV],
        server=read_server(run_dir),
        incomplete={**incomplete, "torn_rows": merged.torn, "left_out": left_out},
    )


def load_locust_csv(prefix: str | Path, out_dir: str | Path | None = None) -> RunData:
    """Read what `locust --csv PREFIX --csv-full-history` wrote: no run.json, no raw log.

    PREFIX_stats.csv and PREFIX_stats_history.csv are required (totals and the
    over-time charts); PREFIX_failures.csv and PREFIX_exceptions.csv are read when present.
    """
    prefix = str(prefix)
    stats_path = Path(f"{prefix}_stats.csv")
    history_path = Path(f"{prefix}_stats_history.csv")
    for required in (stats_path, history_path):
        if not required.is_file():
            raise RunDirError(f"{required} is missing (expected the files of `locust --csv {prefix} --csv-full-history`)")
    target = Path(out_dir) if out_dir is not None else stats_path.parent
    return RunData(
        source=prefix,
        out_dir=target,
        run={},
        requests=None,
        stats=_read_stats(stats_path),
        history=_read_locust_csv(history_path, HISTORY_COLUMNS, "_stats_history.csv"),
        failures=_read_optional(Path(f"{prefix}_failures.csv"), FAILURES_COLUMNS, "_failures.csv"),
        exceptions=_read_optional(Path(f"{prefix}_exceptions.csv"), EXCEPTIONS_COLUMNS, "_exceptions.csv"),
    )
