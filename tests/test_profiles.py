"""Profiles against two real backends: the reference (target_api) and a Career Copilot dialect (copilot_backend).

The second backend runs as a real uvicorn process on loopback, one per variant
(logged in, single-user, a foreign row in every job list, a route removed).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.model import BUILTIN_DIR, ProfileError, load, parse
from test_personas_support import REPO, careerload, seed_accounts

TESTS = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Copilot:
    """One copilot_backend process; stopped by PID."""

    def __init__(self, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "copilot_backend:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], cwd=TESTS, env={**os.environ, **env})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("copilot_backend did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def copilot() -> Iterator[Copilot]:
    backend = Copilot()
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def reference_host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, 5, 30)
    return target_url


def stats(run_dir: Path) -> dict[tuple[str, str], tuple[int, int]]:
    with open(run_dir / "locust_stats.csv", newline="") as f:
        return {(r["Type"], r["Name"]): (int(r["Request Count"]), int(r["Failure Count"]))
                for r in csv.DictReader(f) if r["Type"]}


def short_run(scenario: str, host: str, out: Path, *extra: str, time_scale: str = "0.05",
              users: int = 6) -> subprocess.CompletedProcess:
    # One account per user: two users sharing an account race (one deletes the job the other then
    # updates, a 404 that is the test's doing, not the backend's); the backend seeds 12.
    return careerload("run", scenario, "--host", host, "--time-scale", time_scale, "--users", str(users),
                      "--think-time-scale", "0.05", "--seed-users", str(users), "--out", str(out), *extra)


# ---------------------------------------------------------------------------- the files


def test_both_builtins_load_and_say_where_each_operation_comes_from() -> None:
    for name in ("reference", "career-copilot"):
        profile = load(name)
        assert all(op.source for op in profile.operations.values()), name
    copilot = load("career-copilot")
    assert copilot.operations["list_jobs"].url({"page": 2, "page_size": 20}) == "/api/v1/jobs?skip=20&limit=20"
    assert copilot.operations["job_detail"].request_name == "/api/v1/jobs/{id}"  # thresholds keep their scope
    assert load("reference").operations["list_jobs"].url({"page": 2, "page_size": 20}) == \
        "/api/v1/jobs?page=2&page_size=20"


def test_a_broken_profile_names_file_field_and_expectation(tmp_path: Path, copilot: Copilot) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((BUILTIN_DIR / "career-copilot.toml").read_text().replace(
        '[operations.list_jobs]\nsource = "backend/app/api/v1/jobs.py (list_jobs)"\n',
        '[operations.list_jobs]\nsource = "x"\nmethod = "FETCH"\n'))
    with pytest.raises(ProfileError, match=r"bad.toml: operations.list_jobs.method: expected one of GET"):
        parse(bad.read_text(), str(bad))
    for command in (("profile", "check", "--host", copilot.url, "--profile", str(bad)),
                    ("run", "api", "--host", copilot.url, "--profile", str(bad))):
        result = careerload(*command)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "operations.list_jobs.method: expected one of GET" in lines[0] \
            and str(bad) in lines[0], result.stderr


def test_the_operation_table_names_what_each_persona_does() -> None:
    """profiles.operations.PERSONA_OPERATIONS (what `profile check` judges a scenario by) against the personas."""
    code = ("import json, locustfiles.locustfile, locustfiles.browsing as b, locustfiles.writing as w, "
            "locustfiles.scraping as s, locustfiles.ai_generation as a; from locustfiles.common import TASK_OPERATION; "
            "print(json.dumps({c.__name__: sorted({TASK_OPERATION.get(t, t) for t in c.task_weights}) "
            "for c in (b.BrowsingUser, w.WritingUser, s.ScrapingUser, a.AIGenerationUser)}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    from profiles.operations import PERSONA_OPERATIONS

    for persona, tasks in json.loads(out.stdout).items():
        assert set(tasks) <= set(PERSONA_OPERATIONS[persona]), persona


# ---------------------------------------------------------------------------- profile check


def test_profile_check_passes_each_backend_with_its_own_profile(reference_host: str, copilot: Copilot) -> None:
    ref = careerload("profile", "check", "--host", reference_host)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    assert all(line.startswith("ok ") for line in ref.stdout.splitlines()), ref.stdout
    cc = careerload("profile", "check", "--host", copilot.url, "--profile", "career-copilot")
    assert cc.returncode == 0, cc.stdout + cc.stderr
    assert "absent   job_stats" in cc.stdout and "ok       create_job       POST /api/v1/jobs" in cc.stdout
    wrong = careerload("profile", "check", "--host", copilot.url, "--profile", "reference")
    assert wrong.returncode == 1
    assert "mismatch create_job       POST /api/v1/jobs: answers 200/422, the profile expects 201" in wrong.stdout


def test_profile_check_names_a_removed_route_and_run_refuses(tmp_path: Path) -> None:
    backend = Copilot(COPILOT_REMOVE="/api/v1/analytics/summary")
    try:
        result = careerload("profile", "check", "--host", backend.url, "--profile", "career-copilot")
        assert result.returncode == 1
        assert "missing  dashboard        GET /api/v1/analytics/summary: no such route" in result.stdout
        refused = short_run("api", backend.url, tmp_path / "run", "--profile", "career-copilot")
        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines() == [
            refused.stderr.strip()] and "dashboard missing" in refused.stderr, refused.stderr
        assert not (tmp_path / "run").exists()
        # A scenario that does not use the dashboard is not held to it.
        scraping_only = careerload("profile", "check", "--host", backend.url, "--profile", "career-copilot",
                                   "--scenario", "scraping")
        assert scraping_only.returncode == 0, scraping_only.stdout
    finally:
        backend.stop()


def test_profile_check_without_an_openapi_document_exits_2(tmp_path: Path, copilot: Copilot) -> None:
    result = careerload("profile", "check", "--host", copilot.url, "--openapi", str(tmp_path / "none.json"))
    assert result.returncode == 2 and "no OpenAPI document" in result.stderr


def test_profile_init_drafts_a_profile_that_loads_and_finds_the_routes(tmp_path: Path, copilot: Copilot) -> None:
    out = tmp_path / "mine.toml"
    result = careerload("profile", "init", "--openapi", copilot.url + "/openapi.json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    draft = load(str(out))
    assert draft.base_path == "/api/v1"
    assert (draft.operations["list_jobs"].method, draft.operations["list_jobs"].path) == ("GET", "/jobs")
    assert draft.operations["delete_job"].status == (204,) and draft.operations["delete_job"].response == "empty"
    assert draft.operations["cover_letter"].path == "/resume/content/generate"
    assert draft.operations["job_stats"].absent
    assert "# also:" in out.read_text()


# ---------------------------------------------------------------------------- runs


@pytest.mark.parametrize("scenario,time_scale,users", [("api", "0.05", 6), ("mixed", "0.015", 10)])
def test_career_copilot_runs_with_no_failures(scenario: str, time_scale: str, users: int, tmp_path: Path,
                                              copilot: Copilot) -> None:
    out = tmp_path / "run"
    result = short_run(scenario, copilot.url, out, "--profile", "career-copilot", time_scale=time_scale, users=users)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = stats(out)
    assert sum(n for n, _ in rows.values()) > 50
    assert sum(f for _, f in rows.values()) == 0, rows
    assert ("GET", "/api/v1/users/me") in rows and ("GET", "/api/v1/jobs/{id}") in rows
    run = json.loads((out / "run.json").read_text())
    assert run["profile"]["name"] == "career-copilot" and run["profile"]["ownership_checks"] is True
    assert "job_stats" in run["profile"]["not_exercised"]
    assert ("GET", "/api/v1/jobs/stats") not in rows  # absent: never requested
    assert "operations not exercised (absent on this deployment): " in (out / "report.md").read_text()
    if scenario == "mixed":
        assert ("DELETE", "/api/v1/jobs/{id}") in rows and ("POST", "/api/v1/jobs/scrape") in rows
        assert run["counters"].get("scrape tasks done", 0) > 0


def test_a_worker_uses_the_masters_profile(tmp_path: Path, copilot: Copilot) -> None:
    """The worker has no --profile of its own: the profile's text comes with the master's spawn message."""
    out = tmp_path / "run"
    result = short_run("api", copilot.url, out, "--profile", "career-copilot", "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = stats(out)
    assert ("GET", "/api/v1/users/me") in rows and sum(f for _, f in rows.values()) == 0, rows


def test_a_foreign_row_in_a_list_is_a_failure(tmp_path: Path) -> None:
    backend = Copilot(COPILOT_FOREIGN_ROW="1")
    try:
        out = tmp_path / "run"
        result = short_run("api", backend.url, out, "--profile", "career-copilot")
        assert result.returncode == 1, result.stdout + result.stderr
        requests, failures = stats(out)[("GET", "/api/v1/jobs")]
        assert failures == requests > 0
        failed = (out / "locust_failures.csv").read_text()
        assert "user_id is" in failed and "not this user's" in failed
    finally:
        backend.stop()


def test_single_user_mode_without_login(tmp_path: Path) -> None:
    backend = Copilot(COPILOT_AUTH="none")
    profile = tmp_path / "single.toml"
    text = (BUILTIN_DIR / "career-copilot.toml").read_text()
    start, end = text.index("\n[auth]\n") + 1, text.index("\n[own_id]\n") + 1
    profile.write_text(text[:start] + '[auth]\nkind = "none"\n\n' + text[end:])
    try:
        out = tmp_path / "run"
        result = short_run("api", backend.url, out, "--profile", str(profile))
        assert result.returncode == 0, result.stdout + result.stderr
        rows = stats(out)
        assert sum(f for _, f in rows.values()) == 0 and ("POST", "/api/v1/auth/login") not in rows
    finally:
        backend.stop()


def test_an_accounts_file_logs_in_without_recording_passwords(tmp_path: Path) -> None:
    secret = "s3cret-Pa55word"
    backend = Copilot(COPILOT_PASSWORD=secret)
    accounts = tmp_path / "users.jsonl"
    accounts.write_text("".join(json.dumps({"username": f"user{n}", "password": secret}) + "\n" for n in (2, 3)))
    try:
        out = tmp_path / "run"
        result = short_run("api", backend.url, out, "--profile", "career-copilot", "--accounts", str(accounts))
        assert result.returncode == 0, result.stdout + result.stderr
        assert secret not in result.stdout + result.stderr
        run = json.loads((out / "run.json").read_text())
        assert run["accounts"] == {"file": str(accounts), "accounts": 2}
        assert stats(out)[("POST", "/api/v1/auth/login")][1] == 0
        for path in out.rglob("*"):
            if path.is_file():
                assert secret not in path.read_text(errors="replace"), path
        bad = tmp_path / "bad.csv"
        bad.write_text("email\nuser1\n")
        refused = careerload("run", "api", "--host", backend.url, "--accounts", str(bad))
        assert refused.returncode == 2
        assert "expected a CSV header with email (or username) and password" in refused.stderr
    finally:
        backend.stop()


def test_locust_takes_the_profile_itself(tmp_path: Path, copilot: Copilot) -> None:
    """`locust -f locustfiles --profile career-copilot`: no careerload run in between."""
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfiles", "--headless", "--host", copilot.url, "--scenario",
         "smoke", "--time-scale", "0.2", "--profile", "career-copilot", "--seed-users", "5", "--run-dir",
         str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((out / "run.json").read_text())["profile"]["name"] == "career-copilot"
