"""The reference backend's contract, checked against the real stack (PostgreSQL,
Redis and uvicorn processes from conftest's session `stack`); no mocks.

Every test creates its own users (unique emails) so tests never share rows.
The Redis-down test stops and restarts the session's Redis, so it comes last.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from foundation.fingerprint import job_fingerprint
from target_api.security import hash_password

PASSWORD = "correct horse battery staple"
# Few PBKDF2 iterations: the tests exercise the login path, not its cost.
PASSWORD_HASH = hash_password(PASSWORD, iterations=1_000)


class User:
    """A user created in the database, logged in through the API."""

    def __init__(self, client: httpx.Client, user_id: int, email: str, token: str) -> None:
        self.client, self.id, self.email = client, user_id, email
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers=self.headers)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.client.put(path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers=self.headers)

    def create_job(self, **fields: Any) -> dict[str, Any]:
        body = {"company": "Acme", "title": f"Engineer {uuid.uuid4().hex[:6]}", **fields}
        response = self.post("/jobs", body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture(scope="module")
def api_url(target_url: str) -> str:
    return f"{target_url}/api/v1"


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as http:
        yield http


@pytest.fixture
def make_user(client: httpx.Client, database_url: str) -> Callable[..., User]:
    def make(skills: list[str] | None = None) -> User:
        email = f"t-{uuid.uuid4().hex[:12]}@example.test"
        with psycopg.connect(database_url, autocommit=True) as conn:
            user_id = conn.execute(
                "INSERT INTO users (email, password_hash, full_name, skills) VALUES (%s, %s, %s, %s) RETURNING id",
                (email, PASSWORD_HASH, "Test User", skills or []),
            ).fetchone()[0]
        response = client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return User(client, user_id, email, response.json()["access_token"])

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user()


def wait_for_task(user: User, task_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = user.get(f"/tasks/{task_id}").json()
        if task["status"] in ("done", "failed"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still {task['status']} after {timeout} s")


def test_health_reports_both_dependencies(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_login_rejects_wrong_password_and_unknown_email(client: httpx.Client, user: User) -> None:
    assert client.post("/auth/login", json={"email": user.email, "password": "wrong"}).status_code == 401
    assert client.post("/auth/login", json={"email": "nobody@example.test", "password": PASSWORD}).status_code == 401
    assert client.post("/auth/login", json={"email": user.email}).status_code == 422


def test_missing_or_invalid_token_is_401(client: httpx.Client, user: User) -> None:
    for path in ("/jobs", "/jobs/stats", "/applications", "/logs", "/cache/metrics", "/analytics/dashboard"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer 1.9999999999.forged"}).status_code == 401, path
    assert client.post("/jobs", json={"company": "A", "title": "B"}).status_code == 401


def test_job_crud_and_owner_isolation(make_user: Callable[..., User]) -> None:
    owner, other = make_user(), make_user()
    job = owner.create_job(company="Globex", title="Data Engineer", location="Berlin", tech_stack=["python"])
    assert job["job_fingerprint"] == job_fingerprint("Globex", "Data Engineer", "Berlin")
    path = f"/jobs/{job['id']}"
    assert owner.get(path).json()["title"] == "Data Engineer"

    assert other.get(path).status_code == 404
    assert other.put(path, {"status": "applied"}).status_code == 404
    assert other.delete(path).status_code == 404
    assert other.post("/applications", {"job_id": job["id"]}).status_code == 404

    updated = owner.put(path, {"status": "interviewing", "salary_min": 50_000, "salary_max": 70_000})
    assert updated.status_code == 200 and updated.json()["status"] == "interviewing"
    assert owner.get(path).json()["salary_max"] == 70_000, "the cached detail was not invalidated"
    assert owner.delete(path).status_code == 204
    assert owner.get(path).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"title": "no company"},
        {"company": "", "title": "empty company"},
        {"company": "A", "title": "B", "status": "dreaming"},
        {"company": "A", "title": "B", "salary_min": 90_000, "salary_max": 50_000},
        {"company": "A", "title": "B", "unexpected": 1},
    ],
)
def test_invalid_job_is_422(user: User, body: dict[str, Any]) -> None:
    assert user.post("/jobs", body).status_code == 422


def test_other_invalid_input_is_422(user: User) -> None:
    job = user.create_job(salary_min=10_000)
    assert user.get("/jobs", page_size=101).status_code == 422
    assert user.get("/jobs", page=0).status_code == 422
    assert user.get("/jobs", status="dreaming").status_code == 422
    assert user.put(f"/jobs/{job['id']}", {}).status_code == 422
    assert user.put(f"/jobs/{job['id']}", {"salary_max": 5_000}).status_code == 422
    assert user.post("/jobs/bulk", {"jobs": []}).status_code == 422
    assert user.get("/jobs/export", format="xlsx").status_code == 422
    assert user.post("/jobs/scrape", {"keywords": "python", "max_results": 0}).status_code == 422
    assert user.post("/content/generate/cover-letter", {"job_id": job["id"], "style": "rude"}).status_code == 422


def test_list_envelope_pagination_filters_and_order(user: User) -> None:
    jobs = [
        {"company": "Initech" if i % 2 else "Hooli", "title": f"Role {i}", "location": "Paris" if i < 5 else "Lyon",
         "status": "applied" if i % 5 == 0 else "not_applied"}
        for i in range(25)
    ]
    created = user.post("/jobs/bulk", {"jobs": jobs})
    assert created.status_code == 201 and created.json()["created"] == 25

    last = user.get("/jobs", page=3, page_size=10).json()
    assert {k: last[k] for k in ("total", "page", "page_size", "total_pages", "has_next", "has_prev")} == {
        "total": 25, "page": 3, "page_size": 10, "total_pages": 3, "has_next": False, "has_prev": True,
    }
    assert len(last["items"]) == 5
    first = user.get("/jobs", page=1, page_size=10).json()
    assert first["has_next"] and not first["has_prev"]
    # One transaction → one created_at; the id breaks the tie, newest (highest) first.
    ids = [item["id"] for item in first["items"]]
    assert ids == sorted(ids, reverse=True) and ids[0] == max(created.json()["ids"])

    assert user.get("/jobs", status="applied").json()["total"] == 5
    assert user.get("/jobs", company="Initech").json()["total"] == 12
    assert user.get("/jobs", location="Paris", company="Hooli").json()["total"] == 3
    empty = user.get("/jobs", page=9).json()
    assert empty["items"] == [] and empty["total"] == 25


def test_write_invalidates_cached_list(user: User) -> None:
    user.create_job(title="first")
    assert user.get("/jobs").headers["X-Cache"] == "MISS"
    cached = user.get("/jobs")
    assert cached.headers["X-Cache"] == "HIT" and cached.json()["total"] == 1
    user.create_job(title="second")
    after = user.get("/jobs")
    assert after.json()["total"] == 2 and after.json()["items"][0]["title"] == "second"
    assert user.get("/jobs/stats").json() == {"total": 2, "by_status": {"not_applied": 2}}


def test_cache_hits_are_counted(user: User) -> None:
    before = user.get("/cache/metrics").json()
    user.create_job()
    for _ in range(3):
        user.get("/jobs", page_size=7)
    after = user.get("/cache/metrics").json()
    assert after["hits"] - before["hits"] >= 2
    assert after["misses"] - before["misses"] >= 1
    assert 0 < after["hit_rate"] <= 1 and after["source"] == "redis"


def test_full_text_search_spans_all_users(make_user: Callable[..., User]) -> None:
    word = f"zq{uuid.uuid4().hex[:10]}"
    alice, bob = make_user(), make_user()
    alice.create_job(title=f"Engineer {word}")
    bob.create_job(title="Designer", description=f"We love {word} people")
    bob.create_job(title="Unrelated")
    result = alice.get("/jobs/search", q=word).json()
    assert result["total"] == 2 and {item["title"] for item in result["items"]} == {f"Engineer {word}", "Designer"}
    assert alice.get("/jobs/search", q=word).headers["X-Cache"] == "HIT"
    assert alice.get("/jobs/search").status_code == 422


def test_csv_export_streams_every_row(user: User) -> None:
    user.post("/jobs/bulk", {"jobs": [{"company": f"Co {i}", "title": "T, with comma", "tech_stack": ["go", "sql"]}
                                      for i in range(40)]})
    with user.client.stream("GET", "/jobs/export", params={"format": "csv"}, headers=user.headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        text = "".join(response.iter_text())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 40
    assert {row["company"] for row in rows} == {f"Co {i}" for i in range(40)}
    assert rows[0]["title"] == "T, with comma" and rows[0]["tech_stack"] == "go;sql"


def test_applications_logs_and_dashboard(user: User) -> None:
    job = user.create_job(company="Stark")
    application = user.post("/applications", {"job_id": job["id"], "notes": "referral"})
    assert application.status_code == 201 and application.json()["company"] == "Stark"
    assert user.get(f"/jobs/{job['id']}").json()["status"] == "applied"
    listed = user.get("/applications").json()
    assert listed["total"] == 1 and listed["items"][0]["notes"] == "referral"
    assert user.get("/applications", status="offer").json()["total"] == 0

    logs = user.get("/logs").json()
    assert [item["action"] for item in logs["items"]] == ["apply", "create"]

    dashboard = user.get("/analytics/dashboard").json()
    assert dashboard["total_jobs"] == 1 and dashboard["total_applications"] == 1
    assert dashboard["jobs_by_status"] == {"applied": 1} and dashboard["application_rate"] == 1.0
    assert dashboard["top_companies"] == [{"company": "Stark", "jobs": 1}]


def test_recommendations_match_skills_and_skip_tracked_jobs(make_user: Callable[..., User]) -> None:
    skill = f"skill-{uuid.uuid4().hex[:8]}"
    seeker, poster = make_user(skills=[skill, "python"]), make_user()
    match = poster.create_job(company="Wayne", title="Matching role", tech_stack=[skill])
    poster.create_job(company="Wayne", title="Already tracked", tech_stack=[skill])
    seeker.create_job(company="Wayne", title="Already tracked", tech_stack=[skill])
    poster.create_job(company="Wayne", title="No overlap", tech_stack=[f"other-{skill}"])
    items = seeker.get("/recommendations", limit=100).json()["items"]
    mine = [item for item in items if skill in item["tech_stack"]]
    assert [item["id"] for item in mine] == [match["id"]]
    assert seeker.get("/recommendations", limit=101).status_code == 422


def test_database_performance_reports_pool_and_statements(user: User) -> None:
    report = user.get("/database/performance").json()
    assert report["pool"]["pool_max"] >= 1
    assert report["statements"]["available"] is True and report["statements"]["top"]


def test_the_fingerprint_is_the_md5_of_the_normalised_key() -> None:
    """The documented key, so another tool can compute it (the seed's stored rows: tests/test_seed.py)."""
    import hashlib

    assert job_fingerprint("Acme", "Senior Python Engineer", "Berlin") == \
        hashlib.md5(b"acme|senior python engineer|berlin").hexdigest()
    assert job_fingerprint(" Globex ", "SRE", None) == hashlib.md5(b"globex|sre|").hexdigest()


def test_scrape_runs_in_background_and_deduplicates(user: User) -> None:
    user.post("/jobs/bulk", {"jobs": [{"company": f"Seeded {i}", "title": "Python Developer", "location": "Remote"}
                                      for i in range(30)]})
    started = user.post("/jobs/scrape", {"keywords": "Python Developer", "location": "Remote", "max_results": 40})
    assert started.status_code == 202
    task = wait_for_task(user, started.json()["task_id"])
    assert task["status"] == "done", task
    assert task["jobs_scraped"] == 40
    assert task["jobs_added"] + task["jobs_deduplicated"] == 40
    assert 8 <= task["jobs_deduplicated"] <= 32, task  # 40-60 % drawn, binomial spread around it
    assert user.get("/jobs").json()["total"] == 30 + task["jobs_added"]


def test_tasks_are_private(make_user: Callable[..., User]) -> None:
    owner, other = make_user(), make_user()
    task_id = owner.post("/jobs/scrape", {"keywords": "go", "max_results": 3}).json()["task_id"]
    assert other.get(f"/tasks/{task_id}").status_code == 404
    wait_for_task(owner, task_id)


async def _burst(api_url: str, user: User, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=api_url, headers=user.headers, timeout=30) as http:
        return list(await asyncio.gather(*(http.post(path, json=body) for body in bodies)))


def test_scrape_past_the_limit_is_429(api_url: str, user: User) -> None:
    """SCRAPING_MAX_CONCURRENT is 3 in the test stack; 10 simultaneous requests must overflow it."""
    responses = asyncio.run(_burst(api_url, user, "/jobs/scrape", [{"keywords": "rust", "max_results": 5}] * 10))
    codes = sorted(r.status_code for r in responses)
    assert 202 in codes and 429 in codes, codes
    rejected = next(r for r in responses if r.status_code == 429)
    assert int(rejected.headers["Retry-After"]) >= 1
    for response in responses:
        if response.status_code == 202:
            wait_for_task(user, response.json()["task_id"])


def test_cover_letter_is_generated_then_cached(make_user: Callable[..., User]) -> None:
    owner, other = make_user(), make_user()
    job = owner.create_job(company="Tyrell", title="ML Engineer", tech_stack=["python", "pytorch"])
    first = owner.post("/content/generate/cover-letter", {"job_id": job["id"], "style": "concise"})
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    letter = first.json()
    assert "Tyrell" in letter["content"] and "ML Engineer" in letter["content"]
    assert letter["tokens"] > 50 and letter["latency_ms"] > 0
    again = owner.post("/content/generate/cover-letter", {"job_id": job["id"], "style": "concise"})
    assert again.headers["X-Cache"] == "HIT" and again.json() == letter
    assert other.post("/content/generate/cover-letter", {"job_id": job["id"]}).status_code == 404


def test_cover_letters_past_the_limit_are_429(api_url: str, user: User) -> None:
    """AI_MAX_CONCURRENT is 3 in the test stack and each call takes ~200 ms."""
    bodies = [{"job_id": user.create_job()["id"]} for _ in range(8)]
    responses = asyncio.run(_burst(api_url, user, "/content/generate/cover-letter", bodies))
    codes = [r.status_code for r in responses]
    assert codes.count(200) >= 3 and 429 in codes, codes
    assert all(int(r.headers["Retry-After"]) >= 1 for r in responses if r.status_code == 429)


def test_a_write_while_redis_is_down_leaves_nothing_stale_when_it_returns_with_its_data(
        stack: Any, redis_url: str, user: User) -> None:
    """Redis restarts from a snapshot (persistence, a failover) holding views from before a write."""
    import redis

    user.create_job(title="first")
    assert user.get("/jobs").json()["total"] == 1
    assert user.get("/jobs").headers["X-Cache"] == "HIT"
    redis.Redis.from_url(redis_url).save()  # dump.rdb in the server's directory, loaded at its next start
    stack.stop_redis()
    try:
        user.create_job(title="written while Redis is down")  # its invalidation cannot reach Redis
    finally:
        stack.start_redis()
        (stack.workdir / "dump.rdb").unlink()
    time.sleep(1.2)  # past REDIS_RETRY_AFTER_MS (1 s): the cache is used again
    listed = user.get("/jobs")
    assert listed.json()["total"] == 2, listed.headers.get("X-Cache")


# Keep last: it stops the session's Redis (and restarts it).
def test_redis_down_serves_from_postgres_and_health_degrades(stack: Any, client: httpx.Client, user: User) -> None:
    user.create_job(title="survives")
    stack.stop_redis()
    try:
        health = client.get("/health")
        assert health.status_code == 200 and health.json() == {"status": "degraded", "database": "ok", "redis": "down"}
        for _ in range(3):
            listed = user.get("/jobs")
            assert listed.status_code == 200 and listed.headers["X-Cache"] == "MISS"
            assert listed.json()["total"] == 1
        user.create_job(title="written while down")
        assert user.get("/jobs").json()["total"] == 2
        metrics = user.get("/cache/metrics").json()
        assert metrics["source"] == "local" and metrics["errors"] >= 1
    finally:
        stack.start_redis()
    assert client.get("/health").json()["status"] == "ok"
    assert user.get("/jobs").json()["total"] == 2
