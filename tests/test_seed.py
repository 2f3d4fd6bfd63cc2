"""The seed against a real PostgreSQL: determinism, integrity, skew, indexes, atomicity, CLI errors.

Small scales (0.02-0.1) keep each seed around a second; skew checks compare
with what a uniform draw would give, not with fixed numbers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.copy import QueuedLibpqWriter

from foundation.processes import free_port
from seed_data import loader, schema
from foundation.fingerprint import job_fingerprint as fingerprint
from foundation.statuses import JOB_STATUSES
from seed_data.generators import row_counts
from target_api.security import verify_password

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPOSITES = {
    "jobs_user_status_created_idx", "applications_user_status_idx", "users_team_active_idx",
    "jobs_company_status_idx", "jobs_status_created_idx", "activity_logs_user_created_idx",
}


# Each table's primary key; scrape_tasks' text ids in code-point order, so a
# checksum does not depend on the database's collation.
PRIMARY_KEY_ORDER = {name: "id" for name in schema.TABLES} | {"scrape_tasks": 'id COLLATE "C"'}


def checksums(url: str) -> dict[str, str]:
    """md5 of every table's rows (every column) in primary-key order."""
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(
                f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY {PRIMARY_KEY_ORDER[name]})) FROM {name} t").fetchone()[0]
            for name in schema.TABLES
        }


def index_names(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def run_cli(
    *args: str, command: str = "seed_data", timeout: float = 60, env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The seed in a process of its own (without $DATABASE_URL), `env` added to its environment."""
    argv = [str(BIN / "python"), "-m", "seed_data"] if command == "seed_data" else [str(BIN / "careerload"), "seed"]
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"} | (env or {})
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=environment)


def staging_exists(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return one(conn, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{loader.STAGING}'") > 0


def test_same_seed_same_bytes_across_processes_hash_seeds_and_jobs(fresh_database_url: str) -> None:
    """Separate processes with different string hash seeds, building on 1 or 2 connections, load the same bytes.

    Inside one process the hash seed is fixed, so an order that follows it (a
    set's) cannot show; only processes with different PYTHONHASHSEED values
    catch it (issue 12: Faker's it_IT cities changed jobs, logs and scrape tasks).
    """
    runs: dict[tuple[str, str], dict[str, str]] = {}
    for hash_seed, jobs in (("1", "1"), ("2", "1"), ("2", "2")):
        result = run_cli("--database-url", fresh_database_url, "--scale", "0.1", "--seed", "42", "--reset",
                         "--jobs", jobs, env={"PYTHONHASHSEED": hash_seed})
        assert result.returncode == 0, result.stderr
        runs[hash_seed, jobs] = checksums(fresh_database_url)
    first = runs["1", "1"]
    differing = {run: [name for name in schema.TABLES if sums[name] != first[name]] for run, sums in runs.items()}
    assert all(not tables for tables in differing.values()), f"tables differing from PYTHONHASHSEED=1 --jobs 1: {differing}"
    assert all(first.values())


def test_other_seed_other_data(fresh_database_url: str) -> None:
    loader.seed(fresh_database_url, 0.05, 7, "pw")
    first = checksums(fresh_database_url)
    loader.seed(fresh_database_url, 0.05, 8, "pw", reset=True)
    other = checksums(fresh_database_url)
    assert all(other[name] != first[name] for name in schema.TABLES)


@pytest.fixture
def seeded(fresh_database_url: str) -> tuple[str, loader.Summary]:
    summary = loader.seed(fresh_database_url, 0.1, 3, "s3cret")
    return fresh_database_url, summary


def one(conn: psycopg.Connection, query: str) -> object:
    return conn.execute(query).fetchone()[0]


def test_rows_scale_linearly_and_summary(seeded: tuple[str, loader.Summary]) -> None:
    url, summary = seeded
    expected = row_counts(0.1)
    assert expected["jobs"] == 5_000 and expected["users"] == 100
    with psycopg.connect(url) as conn:
        for name in schema.TABLES:
            assert one(conn, f"SELECT count(*) FROM {name}") == summary.rows[name]
    for name in ("users", "jobs", "activity_logs", "content_generations", "scrape_tasks"):
        assert summary.rows[name] == expected[name]
    assert 0.9 * expected["applications"] <= summary.rows["applications"] <= expected["applications"]
    assert summary.total_bytes > 5e6
    line = summary.line()
    assert "\n" not in line and "rows/s" in line and "MB/s" in line and "jobs 5,000" in line


def test_referential_integrity_and_logins(seeded: tuple[str, loader.Summary]) -> None:
    url, summary = seeded
    with psycopg.connect(url) as conn:
        # Children point at jobs of the same user.
        assert one(conn, "SELECT count(*) FROM applications a JOIN jobs j ON j.id = a.job_id WHERE j.user_id <> a.user_id") == 0
        assert one(conn, "SELECT count(*) FROM content_generations g JOIN jobs j ON j.id = g.job_id WHERE j.user_id <> g.user_id") == 0
        assert one(conn, """SELECT count(*) FROM activity_logs l JOIN jobs j ON j.id = l.entity_id
                            WHERE l.entity_type = 'job' AND j.user_id <> l.user_id""") == 0
        assert one(conn, """SELECT count(*) FROM activity_logs l JOIN applications a ON a.id = l.entity_id
                            WHERE l.entity_type = 'application' AND a.user_id <> l.user_id""") == 0
        assert one(conn, "SELECT count(*) FROM applications a JOIN jobs j ON j.id = a.job_id WHERE j.status = 'not_applied'") == 0
        assert one(conn, "SELECT count(*) FROM applications a JOIN jobs j ON j.id = a.job_id WHERE a.applied_at < j.created_at") == 0
        assert one(conn, "SELECT count(*) FROM jobs WHERE updated_at < created_at OR salary_max < salary_min") == 0
        assert one(conn, """SELECT count(*) FROM users u WHERE u.created_at > (SELECT min(created_at) FROM jobs WHERE user_id = u.id)""") == 0
        # The FKs exist and were validated by PostgreSQL when they were added.
        assert one(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated") == 7
        # Seeded logins: user{N}@careerload.test for ids 1..n, the given password.
        n_users = summary.rows["users"]
        assert one(conn, f"""SELECT count(*) FROM users WHERE email = 'user' || id || '@careerload.test'
                             AND id BETWEEN 1 AND {n_users}""") == n_users
        assert verify_password("s3cret", one(conn, "SELECT password_hash FROM users WHERE id = 1"))
        # Skills share the vocabulary of tech stacks (the recommendations query matches them).
        assert one(conn, """SELECT count(*) FROM users u
                            WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.tech_stack && u.skills)""") == n_users
        # Fingerprints are the md5 of normalised company|title|location, and shared by duplicates.
        rows = conn.execute("SELECT company, title, location, job_fingerprint FROM jobs").fetchall()
        assert all(fingerprint(company, title, location) == stored for company, title, location, stored in rows)
        duplicate_share = one(conn, "SELECT 1 - count(DISTINCT job_fingerprint)::float / count(*) FROM jobs")
        assert 0.3 < duplicate_share < 0.7
        # The backend's inserts get ids after the seeded ones.
        new_id = one(conn, "INSERT INTO jobs (user_id, company, title) VALUES (1, 'Acme', 'Engineer') RETURNING id")
        assert new_id == summary.rows["jobs"] + 1
        conn.rollback()


def test_distributions_are_skewed_like_production(seeded: tuple[str, loader.Summary]) -> None:
    url, _ = seeded
    with psycopg.connect(url) as conn:
        # Power law: the top 5 % of users own far more than 5 % of the jobs.
        top_users = one(conn, """SELECT sum(n)::float / (SELECT count(*) FROM jobs) FROM (
                                 SELECT count(*) AS n FROM jobs GROUP BY user_id ORDER BY n DESC
                                 LIMIT (SELECT greatest(1, count(*) / 20) FROM users)) t""")
        assert top_users > 0.25
        # Zipf companies: the top 1 % of companies hold far more than 1 % of the postings.
        top_companies = one(conn, """SELECT sum(n)::float / (SELECT count(*) FROM jobs) FROM (
                                     SELECT count(*) AS n FROM jobs GROUP BY company ORDER BY n DESC
                                     LIMIT (SELECT count(DISTINCT company) / 100 FROM jobs)) t""")
        assert top_companies > 0.15
        # Statuses skewed towards not_applied, every status present.
        statuses = dict(conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
        assert set(statuses) == set(JOB_STATUSES)
        assert max(statuses, key=statuses.get) == "not_applied"
        assert statuses["not_applied"] > 0.4 * sum(statuses.values())
        # Weekday rhythm over one year.
        weekday, weekend = conn.execute("""SELECT
            count(*) FILTER (WHERE extract(isodow FROM created_at) < 6) / 5.0,
            count(*) FILTER (WHERE extract(isodow FROM created_at) >= 6) / 2.0 FROM activity_logs""").fetchone()
        assert weekday > 2 * weekend
        span_days = one(conn, "SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM jobs")
        assert 330 < span_days <= 366
        # Log-normal salaries whose median grows with the level (right-skewed: mean > median).
        medians = [row[0] for row in conn.execute("""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY salary_min)
            FROM jobs WHERE salary_min IS NOT NULL GROUP BY experience_level
            ORDER BY array_position(ARRAY['junior','mid','senior','lead','principal'], experience_level)""")]
        assert len(medians) == 5 and medians == sorted(medians)
        assert one(conn, "SELECT avg(salary_min) > percentile_cont(0.5) WITHIN GROUP (ORDER BY salary_min) FROM jobs")
        # EU job languages, English the most common but not all.
        languages = dict(conn.execute("SELECT job_language, count(*) FROM jobs GROUP BY 1").fetchall())
        assert len(languages) >= 6 and max(languages, key=languages.get) == "en"
        assert languages["en"] < 0.7 * sum(languages.values())
        # Full-text search finds postings through the GIN expression.
        assert one(conn, """SELECT count(*) FROM jobs WHERE to_tsvector('english', title || ' ' || coalesce(description, ''))
                            @@ plainto_tsquery('english', 'python')""") > 0


def test_composite_indexes_present_or_absent_as_asked(seeded: tuple[str, loader.Summary]) -> None:
    url, _ = seeded
    assert COMPOSITES <= index_names(url)
    assert "jobs_fts_idx" in index_names(url)
    loader.seed(url, 0.02, 3, "pw", reset=True, composite_indexes=False)
    names = index_names(url)
    assert not COMPOSITES & names and "jobs_fts_idx" in names


def test_empty_schema_from_up_is_replaced_without_reset(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url) as conn:
        schema.apply(conn)
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    assert checksums(fresh_database_url)["jobs"] is not None


def test_schema_validates_only_its_own_foreign_keys(fresh_database_url: str) -> None:
    """`careerload up` in a shared schema leaves other applications' NOT VALID constraints alone."""
    with psycopg.connect(fresh_database_url) as conn:
        conn.execute("CREATE TABLE other_parent (id int PRIMARY KEY); CREATE TABLE other_child (parent int)")
        conn.execute("""ALTER TABLE other_child ADD CONSTRAINT other_fk FOREIGN KEY (parent)
                        REFERENCES other_parent (id) NOT VALID""")
        schema.apply(conn)
        validated = dict(conn.execute("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'").fetchall())
    assert validated.pop("other_fk") is False
    assert len(validated) == 7 and all(validated.values())


def test_seeded_database_is_refused_with_one_line(fresh_database_url: str) -> None:
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    before = checksums(fresh_database_url)
    result = run_cli("--database-url", fresh_database_url, "--scale", "0.02", "--seed", "2")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "already seeded" in result.stderr and "--reset" in result.stderr
    assert checksums(fresh_database_url) == before


def test_failure_mid_load_leaves_the_database_as_it_was(fresh_database_url: str) -> None:
    def fail_in_logs(step: str, done: int, total: int) -> None:
        if step == "activity_logs":
            raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected"):
        loader.seed(fresh_database_url, 0.05, 1, "pw", progress=fail_in_logs)
    with psycopg.connect(fresh_database_url) as conn:
        assert not schema.exists(conn)
    assert not staging_exists(fresh_database_url)
    # With --reset over a seeded database, the old data survives a failed reseed.
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    before = checksums(fresh_database_url)
    with pytest.raises(RuntimeError, match="injected"):
        loader.seed(fresh_database_url, 0.05, 2, "pw", reset=True, progress=fail_in_logs)
    assert checksums(fresh_database_url) == before
    assert not staging_exists(fresh_database_url)


def test_failed_index_build_stops_the_seed_and_leaves_the_database_as_it_was(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    before = checksums(fresh_database_url)
    real = loader.build_statements

    def with_a_broken_index(composite_indexes: bool) -> dict[str, list[schema.Statement]]:
        statements = real(composite_indexes)
        broken = schema.Statement("indexes", "jobs", "jobs_broken_idx", "CREATE INDEX jobs_broken_idx ON jobs (no_such_column)")
        return {**statements, "jobs": [*statements["jobs"], broken]}

    monkeypatch.setattr(loader, "build_statements", with_a_broken_index)
    with pytest.raises(psycopg.errors.UndefinedColumn, match="no_such_column"):
        loader.seed(fresh_database_url, 0.05, 2, "pw", reset=True, jobs=2)
    assert checksums(fresh_database_url) == before
    assert not staging_exists(fresh_database_url)
    assert "jobs_broken_idx" not in index_names(fresh_database_url)


def test_reset_behind_a_session_holding_the_tables_fails_clearly_and_changes_nothing(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    before = checksums(fresh_database_url)
    monkeypatch.setattr(loader, "LOCK_TIMEOUT", "1s")
    with psycopg.connect(fresh_database_url) as busy:
        busy.execute("SELECT count(*) FROM jobs")  # an open transaction holding ACCESS SHARE on jobs
        with pytest.raises(loader.SeedError, match="locked by another session for 1s"):
            loader.seed(fresh_database_url, 0.02, 2, "pw", reset=True)
        busy.rollback()
    assert checksums(fresh_database_url) == before
    assert not staging_exists(fresh_database_url)


def test_staging_left_by_a_killed_seed_is_dropped_by_the_next(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url) as conn:
        conn.execute(f"CREATE SCHEMA {loader.STAGING}; CREATE TABLE {loader.STAGING}.jobs (leftover int)")
    loader.seed(fresh_database_url, 0.02, 1, "pw")
    assert not staging_exists(fresh_database_url)
    with psycopg.connect(fresh_database_url) as conn:
        assert one(conn, "SELECT count(*) FROM jobs") == row_counts(0.02)["jobs"]


@pytest.mark.parametrize("during", ["COPY", "CREATE INDEX jobs_fts_idx"])
def test_ctrl_c_rolls_back(fresh_database_url: str, during: str) -> None:
    """Ctrl-C while the main connection loads, or while a build connection builds, changes nothing."""
    argv = [str(BIN / "python"), "-m", "seed_data", "--database-url", fresh_database_url, "--scale", "1", "--jobs", "2"]
    process = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        with psycopg.connect(fresh_database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute("""SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                                      AND state = 'active' AND query LIKE %s""", (during + "%",)).fetchone()[0]:
                assert time.monotonic() < deadline and process.poll() is None, f"the seed never ran {during}"
                time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "seed_data: interrupted; nothing was written"
    with psycopg.connect(fresh_database_url) as conn:
        assert not schema.exists(conn)
        # The build connections were cancelled and closed, not left running.
        assert one(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()") == 1
    assert not staging_exists(fresh_database_url)


class CtrlCWhileDraining(QueuedLibpqWriter):
    """A Ctrl-C landing while the seed waits for the COPY writer to drain: the connection stays inside COPY."""

    def finish(self, exc: BaseException | None = None) -> None:
        if exc is not None:
            return super().finish(exc)
        self.write(b"")  # an empty buffer ends the writer thread, like psycopg's own finish() does
        raise KeyboardInterrupt


def test_ctrl_c_mid_copy_protocol_does_not_hang(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stuck connection, whose transaction locks a staging table, is terminated before staging is dropped."""
    monkeypatch.setattr(loader, "QueuedLibpqWriter", CtrlCWhileDraining)
    raised: list[BaseException] = []

    def seed() -> None:
        try:
            loader.seed(fresh_database_url, 0.02, 1, "pw", jobs=2)
        except BaseException as exc:  # noqa: BLE001 - looked at below
            raised.append(exc)

    # A thread, so a hang fails the test (the fixture's forced DROP DATABASE then ends it).
    seeding = threading.Thread(target=seed, daemon=True)
    seeding.start()
    seeding.join(timeout=60)
    assert not seeding.is_alive(), "the interrupted seed hung"
    assert [type(exc) for exc in raised] == [KeyboardInterrupt]
    assert not staging_exists(fresh_database_url)
    with psycopg.connect(fresh_database_url) as conn:
        assert not schema.exists(conn)
        assert one(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()") == 1


@pytest.mark.parametrize("command", ["seed_data", "careerload"])
@pytest.mark.parametrize("scale", ["0", "-1", "nan"])
def test_bad_scale_is_one_line_exit_2(command: str, scale: str) -> None:
    result = run_cli("--database-url", "postgresql://127.0.0.1:1/x", f"--scale={scale}", command=command)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--scale must be" in result.stderr


@pytest.mark.parametrize("command", ["seed_data", "careerload"])
def test_bad_jobs_is_one_line_exit_2(command: str) -> None:
    result = run_cli("--database-url", "postgresql://127.0.0.1:1/x", "--scale", "1", "--jobs", "0", command=command)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--jobs must be at least 1" in result.stderr


@pytest.mark.parametrize("command", ["seed_data", "careerload"])
def test_unreachable_database_is_one_line_exit_2(command: str) -> None:
    began = time.monotonic()
    result = run_cli("--database-url", f"postgresql://nobody@127.0.0.1:{free_port()}/x", "--scale", "1", command=command)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot connect to the database" in result.stderr
    assert time.monotonic() - began < 20
