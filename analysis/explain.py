"""`careerload explain`: EXPLAIN (ANALYZE, BUFFERS) for the top statements of a run.

pg_stat_statements stores statements normalised (`WHERE user_id = $1`), so they
cannot be run as they are. Each one is PREPAREd (PostgreSQL infers the
parameter types), given representative values and run under EXPLAIN (ANALYZE,
BUFFERS) inside a transaction that is rolled back. "Representative" means the
hard case a load test cares about: the user owning the most jobs, that user's
rarest status (selective filters are where a wrong index hurts), the most
common company and location, a one-year window, a first page of 20.

The plan is summarised the way the audit asks: sequential scans on large
tables, scans whose filter throws most of what they read away (an index on the
wrong columns), bitmap scans that AND single-column indexes to keep a few rows
(the job list by status without its composite index), scans fetching many table
rows for two or three columns an index could hold (the dashboard's counts
without the composites: an index-only scan missed), estimates
off from actual rows by 10x or more, and a missing-index hint (the filtered
columns, then the order the plan needed) when no existing index leads with
those columns. Written to the run directory as `explain.md`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from analysis.server import read_snapshots, statement_increments
from analysis.server import top_statements as server_top_statements
from foundation.errors import first_line
from foundation.rundir import SERVER_DIR, STATEMENT_COLUMNS, STATEMENTS_CSV

EXPLAIN_MD = "explain.md"
# EXPLAIN ANALYZE runs the statement: a runaway plan is reported, not waited for.
STATEMENT_TIMEOUT_MS = 60_000
LARGE_TABLE_ROWS = 10_000
# A heap-reading scan returning at most this many plain columns of at least this many rows
# is flagged as a candidate for an index-only scan.
COVERING_MAX_COLUMNS = 3
COVERING_MIN_ROWS = 300
WASTED_ROWS = 1_000  # a scan whose filter throws away at least this many rows (and 10x what it keeps) is flagged
MISESTIMATE_FACTOR = 10.0
READ_ONLY = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
# pg_stat_statements turns `interval '30 days'` into `interval $2`, which does not parse: make it a cast.
TYPED_LITERAL = re.compile(r"\b(interval|date|timestamptz|timestamp)\s+\$(\d+)", re.IGNORECASE)
_OPERATOR = r"(?:=|<>|!=|<=|>=|<|>|\bI?LIKE\b|=\s*ANY\s*\()"


@dataclass
class Finding:
    kind: str  # "seq_scan", "filter_waste", "index_combination", "heap_fetches", "misestimate", "index_hint"
    text: str


@dataclass
class Explained:
    queryid: int
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    hit_ratio: float | None
    parameters: list[str] = field(default_factory=list)
    plan_lines: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    execution_ms: float | None = None
    skipped: str | None = None


def top_statements(run_dir: Path, limit: int = 10) -> tuple[pd.DataFrame, str]:
    """The run window's top statements by total time (analysis.server: increments between snapshots)."""
    notes: list[str] = []
    frame = read_snapshots(Path(run_dir) / SERVER_DIR / STATEMENTS_CSV, STATEMENT_COLUMNS, notes)
    if frame is None:
        return pd.DataFrame(), "; ".join(notes) or "no statements recorded"
    totals, _ = statement_increments(frame)
    window = f"{frame['ts'].max() - frame['ts'].min():.0f} s between the first and the last snapshot"
    return server_top_statements(totals, limit), window


class _Samples:
    """Representative parameter values, read once from the database."""

    def __init__(self, conn: psycopg.Connection) -> None:
        def one(query: str) -> str | None:
            row = conn.execute(query).fetchone()
            return None if row is None or row[0] is None else str(row[0])

        self.user_id = one("SELECT user_id FROM jobs GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1") or "1"
        self.job_id = one(f"SELECT min(id) FROM jobs WHERE user_id = {int(self.user_id)}") or "1"
        # The heavy user's rarest status: a selective filter is where a wrong index hurts most.
        self.status = one(f"SELECT status FROM jobs WHERE user_id = {int(self.user_id)} "
                          "GROUP BY status ORDER BY count(*), status LIMIT 1") or "not_applied"
        self.company = one("SELECT mode() WITHIN GROUP (ORDER BY company) FROM jobs") or "x"
        self.location = one("SELECT mode() WITHIN GROUP (ORDER BY location) FROM jobs") or "x"

    def for_parameter(self, query: str, number: int, type_name: str) -> str:
        """A value for $number, by the column it is compared with, else by its type."""
        ref = rf"\${number}\b"
        if re.search(rf"\bLIMIT\s+{ref}", query, re.IGNORECASE):
            return "20"
        if re.search(rf"\bOFFSET\s+{ref}", query, re.IGNORECASE):
            return "0"
        if re.search(rf"to_tsquery\s*\([^)]*{ref}", query, re.IGNORECASE):
            return "python developer"
        if re.search(rf"{ref}::interval", query):
            return "30 days"
        match = re.search(rf"\"?(\w+)\"?\s*{_OPERATOR}\s*{ref}", query, re.IGNORECASE)
        column = match.group(1).lower() if match else ""
        by_column = {"user_id": self.user_id, "id": self.job_id, "job_id": self.job_id, "status": self.status,
                     "company": self.company, "location": self.location}
        if column in by_column:
            return by_column[column]
        if type_name.startswith("timestamp") or type_name == "date":
            return "now() - 1 year"  # replaced below by a literal the type accepts
        return {"bigint": self.user_id, "integer": "20", "smallint": "1", "boolean": "true", "numeric": "1",
                "double precision": "1", "text[]": "{python}", "jsonb": "{}"}.get(type_name, "x")


def _parameter_literal(value: str, type_name: str) -> sql.Composable:
    if value == "now() - 1 year":
        return sql.SQL("(now() - interval '1 year')::{}").format(sql.SQL(type_name))
    return sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(type_name))


def _nodes(plan: dict[str, Any], depth: int = 0, parent: dict[str, Any] | None = None,
           limited: bool = False) -> Iterator[tuple[int, dict, dict | None, bool]]:
    """Every plan node with its depth, its parent, and whether a Limit above it may stop it early."""
    yield depth, plan, parent, limited
    for child in plan.get("Plans", []):
        yield from _nodes(child, depth + 1, plan, limited or plan["Node Type"] == "Limit")


def _filter_columns(condition: str) -> list[str]:
    columns: list[str] = []
    for column in re.findall(r"\(?(?:\w+\.)?(\w+)\s*(?:=|= ANY)\s", condition):
        if column not in columns and not column.isdigit():
            columns.append(column)
    return columns


def _sort_columns(keys: list[str]) -> list[str]:
    return [re.sub(r"^\w+\.", "", key.split()[0]) for key in keys if re.match(r"^[\w.]+( DESC| ASC)?$", key)]


def summarise(conn: psycopg.Connection, plan: dict[str, Any]) -> tuple[list[str], list[Finding]]:
    """A compact plan tree and the findings on it."""
    lines: list[str] = []
    findings: list[Finding] = []
    table_rows: dict[str, float] = {}
    for depth, node, parent, limited in _nodes(plan):
        relation = node.get("Relation Name")
        estimated = float(node.get("Plan Rows", 0))
        actual = float(node.get("Actual Rows", 0)) * float(node.get("Actual Loops", 1) or 1)
        label = node["Node Type"] + (f" on {relation}" if relation else "") + (f" using {node['Index Name']}" if node.get("Index Name") else "")
        lines.append(f"{'  ' * depth}{label}  (rows est {estimated:.0f}, actual {actual:.0f}, "
                     f"{node.get('Actual Total Time', 0):.2f} ms, shared hit {node.get('Shared Hit Blocks', 0)} "
                     f"read {node.get('Shared Read Blocks', 0)})")
        # Under a Limit actual rows stop early, and bitmap combinators always report 0: neither is a misestimate.
        if not limited and node["Node Type"] not in ("BitmapAnd", "BitmapOr") and max(estimated, actual) >= 100:
            ratio = (max(estimated, actual) + 1) / (min(estimated, actual) + 1)
            if ratio >= MISESTIMATE_FACTOR:
                findings.append(Finding("misestimate", f"{label}: estimated {estimated:.0f} rows, actual {actual:.0f} ({ratio:.0f}x off)"))
        if not relation:
            continue
        if relation not in table_rows:
            row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (relation,)).fetchone()
            table_rows[relation] = float(row[0]) if row else 0.0
        removed = float(node.get("Rows Removed by Filter", 0)) * float(node.get("Actual Loops", 1) or 1)
        covering = _covering_columns(node, parent, actual, table_rows[relation])
        if node["Node Type"] == "Seq Scan" and table_rows[relation] >= LARGE_TABLE_ROWS:
            findings.append(Finding("seq_scan", f"sequential scan on {relation} (~{table_rows[relation]:,.0f} rows), "
                                                f"filter: {node.get('Filter', 'none')}"))
        elif removed >= max(WASTED_ROWS, MISESTIMATE_FACTOR * actual):
            findings.append(Finding("filter_waste", f"{label} reads {removed + actual:,.0f} rows to keep {actual:,.0f}, "
                                                    f"filter: {node.get('Filter')}"))
        elif _combined_entries(node) >= max(WASTED_ROWS, MISESTIMATE_FACTOR * actual):
            indexes = sorted({n.get("Index Name", "") for _, n, _, _ in _nodes(node) if n.get("Index Name")})
            findings.append(Finding("index_combination", f"{label} ANDs {', '.join(indexes)}: "
                                                         f"{_combined_entries(node):,.0f} index entries for {actual:,.0f} rows"))
        elif covering:
            findings.append(Finding("heap_fetches", f"{label} fetches {actual:,.0f} rows from the table for "
                                                    f"{', '.join(covering)}: "
                                                    "an index holding them would answer from the index alone"))
        else:
            continue
        equality = _filter_columns(node.get("Filter", "") or node.get("Recheck Cond", "") or node.get("Index Cond", ""))
        columns = _most_selective_first(conn, relation, table_rows[relation], equality)
        # The hint: the filtered columns, then the order the plan needed (a Sort above, or the scanned
        # index's), or for heap fetches the columns read, so the scan can become index-only.
        if covering:
            rest = covering
        elif parent is not None and parent.get("Node Type") in ("Sort", "Incremental Sort"):
            rest = _sort_columns(parent.get("Sort Key", []))
        elif node.get("Index Name"):
            rest = _index_columns(conn, node["Index Name"])
        else:
            rest = []
        columns += [c for c in rest if c not in columns]
        hint = f"CREATE INDEX ON {relation} ({', '.join(columns)});"
        if columns and not _has_leading_index(conn, relation, columns) and all(f.text != hint for f in findings):
            findings.append(Finding("index_hint", hint))
    return lines, findings


def _covering_columns(node: dict[str, Any], parent: dict[str, Any] | None, actual: float,
                      table_rows: float) -> list[str]:
    """The few columns a heap-reading scan of many rows is read for, when an index could hold them all.

    A Bitmap Heap Scan or Index Scan that fetches COVERING_MIN_ROWS rows or more from
    a large table while the node above it uses at most COVERING_MAX_COLUMNS of its
    columns (in its output, filter, grouping or sort) is what a composite index
    turns into an index-only scan: the dashboard's application and activity-log
    counts. (The scan's own Output lists every column, so the parent is what tells.)
    Empty when that is not the case.
    """
    if node["Node Type"] not in ("Bitmap Heap Scan", "Index Scan") or parent is None:
        return []
    if table_rows < LARGE_TABLE_ROWS or actual < COVERING_MIN_ROWS:
        return []
    relation = node.get("Alias") or node.get("Relation Name")
    uses = json.dumps({key: value for key, value in parent.items() if key != "Plans"})
    columns = list(dict.fromkeys(re.findall(rf"\b{re.escape(relation)}\.(\w+)", uses)))
    return columns if 0 < len(columns) <= COVERING_MAX_COLUMNS else []


def _combined_entries(node: dict[str, Any]) -> float:
    """Index entries read by a Bitmap Heap Scan over a BitmapAnd of single-column indexes (0 otherwise)."""
    children = node.get("Plans", [])
    if node["Node Type"] != "Bitmap Heap Scan" or not children or children[0]["Node Type"] != "BitmapAnd":
        return 0.0
    return sum(float(n.get("Actual Rows", 0)) for _, n, _, _ in _nodes(children[0]) if n["Node Type"] == "Bitmap Index Scan")


def _most_selective_first(conn: psycopg.Connection, relation: str, rows: float, columns: list[str]) -> list[str]:
    """Equality columns ordered by distinct values, most first (pg_stats), as a composite index wants them."""
    stats = dict(conn.execute("SELECT attname, n_distinct FROM pg_stats WHERE tablename = %s AND attname = ANY(%s)",
                              (relation, columns)).fetchall())
    distinct = {c: (-stats[c] * rows if stats.get(c, 0) < 0 else stats.get(c, 0)) for c in columns}
    return sorted(columns, key=lambda c: -distinct[c])


def _index_columns(conn: psycopg.Connection, index: str) -> list[str]:
    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (index,)).fetchone()
    match = re.search(r"\((.*)\)\s*$", row[0]) if row else None
    return [c.strip().split()[0] for c in match.group(1).split(",")] if match else []


def _has_leading_index(conn: psycopg.Connection, relation: str, columns: list[str]) -> bool:
    """True when an index on `relation` starts with exactly these columns."""
    rows = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (relation,)).fetchall()
    wanted = ", ".join(columns)
    return any(re.search(rf"\({re.escape(wanted)}[,)]", definition) for (definition,) in rows)


def explain_statement(conn: psycopg.Connection, samples: _Samples, query: str) -> tuple[list[str], dict[str, Any] | str]:
    """The parameter values used and the JSON plan, or the reason it was skipped."""
    if not READ_ONLY.match(query):
        return [], "not a read-only statement (only SELECT/WITH are explained)"
    query = TYPED_LITERAL.sub(r"$\2::\1", query)
    declared: dict[int, str] = {}  # parameters PostgreSQL cannot type (e.g. in jsonb_build_object) become text
    for _attempt in range(32):
        try:
            with conn.transaction(force_rollback=True):
                return _explain_prepared(conn, samples, query, declared)
        except psycopg.errors.IndeterminateDatatype as exc:
            match = re.search(r"parameter \$(\d+)", str(exc))
            if not match or int(match.group(1)) in declared:
                return [], f"could not be explained: {first_line(exc)}"
            declared[int(match.group(1))] = "text"
        except psycopg.Error as exc:
            return [], f"could not be explained: {first_line(exc)}"
        finally:
            # A rollback does not undo PREPARE: without this, one failed EXPLAIN would
            # make every later statement fail with "already exists".
            conn.execute("DEALLOCATE ALL")
    return [], "could not be explained: too many untyped parameters"


def _explain_prepared(conn: psycopg.Connection, samples: _Samples, query: str,
                      declared: dict[int, str]) -> tuple[list[str], dict[str, Any]]:
    count = max((int(n) for n in re.findall(r"\$(\d+)", query)), default=0)
    types = sql.SQL("")
    if declared:
        types = sql.SQL(" ({})").format(sql.SQL(", ").join(sql.SQL(declared.get(i, "unknown")) for i in range(1, count + 1)))
    conn.execute(sql.SQL("PREPARE careerload_explain{} AS {}").format(types, sql.SQL(query)))
    row = conn.execute("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'careerload_explain'").fetchone()
    inferred = list(row[0] or [])
    values = [samples.for_parameter(query, i + 1, t) for i, t in enumerate(inferred)]
    arguments = sql.SQL(", ").join(_parameter_literal(v, t) for v, t in zip(values, inferred))
    statement = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) EXECUTE careerload_explain") + (
        sql.SQL("({})").format(arguments) if inferred else sql.SQL(""))
    plan = conn.execute(statement).fetchone()[0][0]
    return values, plan


def explain_run(run_dir: Path, database_url: str, limit: int = 10) -> tuple[list[Explained], str]:
    statements, window = top_statements(run_dir, limit)
    results: list[Explained] = []
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        samples = _Samples(conn)
        for row in statements.itertuples():
            item = Explained(int(row.queryid), str(row.query), int(row.calls), float(row.total_ms), float(row.mean_ms),
                             None if pd.isna(row.hit_ratio) else float(row.hit_ratio))
            values, plan = explain_statement(conn, samples, item.query)
            if isinstance(plan, str):
                item.skipped = plan
            else:
                item.parameters = values
                item.execution_ms = float(plan.get("Execution Time", 0.0))
                item.plan_lines, item.findings = summarise(conn, plan["Plan"])
            results.append(item)
    return results, window


def to_markdown(results: list[Explained], window: str) -> str:
    out = ["# EXPLAIN (ANALYZE, BUFFERS) of the run's top statements", "",
           f"Statements ranked by total execution time over the run window ({window}). "
           "Parameters are representative values (the user with the most jobs, that user's rarest status...); "
           "each statement ran inside a rolled-back transaction.", ""]
    for rank, item in enumerate(results, 1):
        hit = "n/a" if item.hit_ratio is None else f"{item.hit_ratio:.1%}"
        out += [f"## {rank}. {item.calls:,} calls, mean {item.mean_ms:.2f} ms, total {item.total_ms:,.0f} ms, buffer hit ratio {hit}",
                "", "```sql", item.query.strip(), "```", ""]
        if item.skipped:
            out += [f"Skipped: {item.skipped}.", ""]
            continue
        out += [f"Parameters: {', '.join(item.parameters) or 'none'}; execution {item.execution_ms:.2f} ms.", ""]
        if item.findings:
            out += [f"- **{f.kind.replace('_', ' ')}**: {f.text}" for f in item.findings] + [""]
        else:
            out += ["- no sequential scan on a large table, no estimate off by 10x or more", ""]
        out += ["```", *item.plan_lines, "```", ""]
    return "\n".join(out)


def write_explain(run_dir: Path, database_url: str, limit: int = 10) -> Path:
    results, window = explain_run(run_dir, database_url, limit)
    path = Path(run_dir) / EXPLAIN_MD
    path.write_text(to_markdown(results, window))
    return path
