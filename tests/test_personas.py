"""The personas against the real backend: scraping completion, AI 429s, writes, isolation, checks."""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import psycopg

import pytest

from raw_log_support import raw_rows
from test_personas_support import careerload, seed_accounts

SEED_USERS = 5


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def stats(run_dir: Path) -> dict[tuple[str, str], tuple[int, int]]:
    with open(run_dir / "locust_stats.csv", newline="") as f:
        return {(r["Type"], r["Name"]): (int(r["Request Count"]), int(r["Failure Count"]))
                for r in csv.DictReader(f) if r["Type"]}


def scenario(tmp_path: Path, personas: str, users: int, seconds: int) -> Path:
    path = tmp_path / "personas.toml"
    path.write_text(
        f'question = "Do the personas work?"\n[personas]\n{personas}\n[shape]\n'
        f'[[shape.stages]]  # all users at once, then hold\nduration = "{seconds}s"\ntarget = {users}\n'
        '[[thresholds]]\nmetric = "failure_ratio"\ncritical = 0.0\n'
    )
    return path


def test_scraping_and_ai_personas_record_completion_dedup_and_429s(host: str, tmp_path: Path) -> None:
    # The test backend allows 3 concurrent scrapes and 3 concurrent generations: 8 busy users hit both limits.
    out = tmp_path / "run"
    result = careerload("run", str(scenario(tmp_path, "ScrapingUser = 1\nAIGenerationUser = 1", 8, 8)),
                        "--host", host, "--think-time-scale", "0", "--seed-users", str(SEED_USERS), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = stats(out)
    completions, failed = rows[("TASK", "scrape completion")]
    assert completions >= 1 and failed == 0
    assert rows[("TASK", "scrape completion (server)")] == (completions, 0)  # the backend's own duration too
    assert rows[("GET", "/api/v1/tasks/{task_id}")][1] == 0  # task ids and dedup counts add up
    assert rows[("POST", "/api/v1/jobs/scrape")][1] == 0
    generated, failed = rows[("POST", "/api/v1/content/generate/cover-letter")]
    assert generated >= 1 and failed == 0
    counters = json.loads((out / "run.json").read_text())["counters"]
    assert counters["scrape tasks done"] == completions
    assert counters["scrape jobs_scraped"] == counters["scrape jobs_added"] + counters["scrape jobs_deduplicated"]
    rate_limited = {name: n for (_, name), (n, _) in rows.items() if name.endswith("(429)")}
    assert rate_limited, rows  # 429s are recorded under their own name, as successes
    assert sum(v for k, v in counters.items() if k.startswith("429 ")) == sum(rate_limited.values())


def test_browsing_and_writing_with_a_database_pool_pass_every_check(host: str, database_url: str,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = careerload("run", str(scenario(tmp_path, "BrowsingUser = 1\nWritingUser = 1", 4, 6)),
                        "--host", host, "--think-time-scale", "0.02", "--database-url", database_url,
                        "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = stats(out)
    assert ("POST", "/api/v1/jobs") in rows and ("PUT", "/api/v1/jobs/{id}") in rows
    assert sum(failures for _, failures in rows.values()) == 0
    personas = {row["user"] for row in raw_rows(out)}
    assert personas == {"BrowsingUser", "WritingUser"}


def test_the_database_persona_reconnects_after_its_sessions_are_killed(host: str, database_url: str,
                                                                     tmp_path: Path) -> None:
    # Killing the persona's server sessions mid-run is what a database restart does to it.
    path = tmp_path / "db.toml"
    path.write_text('question = "Does DatabaseUser survive lost connections?"\n[personas]\nDatabaseUser = 1\n'
                    '[shape]\n[[shape.stages]]  # all users at once, then hold\nduration = "6s"\ntarget = 3\n')
    killed: list[int] = []

    def kill_sessions() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for _ in range(200):  # wait (at most 20 s) for the persona's sessions to exist
                rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE application_name = 'careerload DatabaseUser'").fetchall()
                if rows:
                    killed.append(len(rows))
                    return
                time.sleep(0.1)

    out = tmp_path / "run"
    killer = threading.Timer(2.0, kill_sessions)
    killer.start()
    result = careerload("run", str(path), "--host", host, "--database-url", database_url, "--out", str(out))
    killer.join()
    assert killed, "the persona's sessions never showed up in pg_stat_activity"
    rows = stats(out)
    reconnects, failed = rows[("SQL", "reconnect")]
    assert reconnects == killed[0] and failed == 0, rows
    # one failed query per killed session (the one that found it dead), the rest succeeded afterwards
    query_failures = sum(f for (kind, name), (_, f) in rows.items() if kind == "SQL" and name != "reconnect")
    assert query_failures == killed[0], (rows, result.stdout)
    assert sum(n for (kind, _), (n, _) in rows.items() if kind == "SQL") > 10 * reconnects
