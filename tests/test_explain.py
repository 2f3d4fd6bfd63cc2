"""`careerload explain` on a seeded database, with and without the audit's composite indexes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from careerload.snapshots import ServerSnapshots
from target_api.routes.analytics import QUERY as DASHBOARD

CAREERLOAD = [sys.executable, "-m", "careerload"]
JOB_LIST_BY_STATUS = "SELECT id, title FROM jobs WHERE user_id = %s AND status = %s ORDER BY created_at DESC LIMIT %s"
AUDIT_COMPOSITE = "CREATE INDEX ON jobs (user_id, status, created_at);"
# What the dashboard's CTE needs: the audit's composites make its counts index-only scans.
DASHBOARD_COMPOSITES = ("CREATE INDEX ON applications (user_id, status);",
                        "CREATE INDEX ON activity_logs (user_id, created_at);")


def _explain_after_load(database_url: str, run_dir: Path, composite: bool) -> str:
    flags = [] if composite else ["--without-composite-indexes"]
    subprocess.run(CAREERLOAD + ["seed", "--database-url", database_url, "--scale", "0.6", "--seed", "7", *flags],
                   check=True, capture_output=True, timeout=120)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    snapshots = ServerSnapshots(run_dir, database_url=database_url, interval_s=60)
    snapshots.start()
    with psycopg.connect(database_url) as conn:
        for user_id in range(1, 40):
            for status in ("applied", "offer"):
                conn.execute(JOB_LIST_BY_STATUS, (user_id, status, 20)).fetchall()
            conn.execute(DASHBOARD, {"user_id": user_id}).fetchall()
    snapshots.stop()
    done = subprocess.run(CAREERLOAD + ["explain", "--database-url", database_url, "--run", str(run_dir), "--top", "4"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run_dir / "explain.md")
    return (run_dir / "explain.md").read_text()


def test_without_composite_indexes_the_job_list_gets_the_audits_index_hint(fresh_database_url: str, tmp_path: Path) -> None:
    report = _explain_after_load(fresh_database_url, tmp_path, composite=False)
    assert "ORDER BY created_at DESC" in report
    assert "EXPLAIN (ANALYZE, BUFFERS)" in report
    assert any(kind in report for kind in ("**index combination**", "**filter waste**", "**seq scan**"))
    assert AUDIT_COMPOSITE in report
    # The dashboard does not seq-scan (jobs, applications and activity_logs keep their user_id
    # indexes); what it misses are index-only scans, and the hints are the audit's composites.
    assert "WITH my_jobs AS" in report and "**heap fetches**" in report
    assert all(hint in report for hint in DASHBOARD_COMPOSITES)


def test_with_composite_indexes_there_is_no_hint(fresh_database_url: str, tmp_path: Path) -> None:
    report = _explain_after_load(fresh_database_url, tmp_path, composite=True)
    assert "jobs_user_status_created_idx" in report
    assert "index hint" not in report


def test_explain_needs_database_snapshots(tmp_path: Path, database_url: str) -> None:
    done = subprocess.run(CAREERLOAD + ["explain", "--database-url", database_url, "--run", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("careerload: error:") and "pg_statements.csv" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_statement_that_fails_does_not_spoil_the_next(database_url: str) -> None:
    from analysis.explain import _Samples, explain_statement

    with psycopg.connect(database_url, autocommit=True) as conn:
        samples = _Samples(conn)
        failed = explain_statement(conn, samples, "SELECT 1 / (SELECT count(*) FROM jobs WHERE false)")
        assert isinstance(failed[1], str) and "division by zero" in failed[1]
        values, plan = explain_statement(conn, samples, "SELECT count(*) FROM jobs WHERE user_id = $1")
        assert isinstance(plan, dict) and plan["Plan"]["Node Type"] == "Aggregate"
        assert len(values) == 1
