"""BrowsingUser: someone checking their job tracker: lists, details, stats, search, now and then a write."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from locustfiles._run_state import RUN
from locustfiles._statuses import job_status
from locustfiles.common import API, CareerUser

SEARCH_TERMS = ("python", "senior engineer", "remote", "react", "data", "backend", "devops", "machine learning")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises")
TITLES = ("Backend Engineer", "Data Engineer", "Frontend Developer", "SRE", "ML Engineer", "Product Engineer")

# Relative task weights of a reading session. No measured production mix was
# available: these follow the audit's description of the dashboard (job list and
# detail dominate, the expensive recommendations and analytics queries are
# occasional, reads outnumber writes about 19 to 1). Change them here.
BROWSING_WEIGHTS = {
    "list_jobs": 22, "filter_jobs": 10, "job_detail": 20, "job_stats": 8, "search_jobs": 8,
    "recommendations": 3, "dashboard": 4, "applications": 6, "activity_log": 4,
    "create_job": 2, "update_job": 2, "apply": 1, "export_jobs": 1, "other_users_job": 1,
}


def weighted(namespace: dict[str, Any], weights: dict[str, int]) -> dict[Callable, int]:
    """Locust's `tasks = {function: weight}` from a table of method names, skipping zero weights."""
    return {namespace[name]: weight for name, weight in weights.items() if weight > 0}


def new_job() -> dict[str, Any]:
    low = random.randrange(60, 160) * 1000
    return {
        "company": random.choice(COMPANIES), "title": random.choice(TITLES), "location": "Berlin",
        "description": "Added by a careerload persona.", "tech_stack": random.sample(["python", "go", "sql", "k8s"], 2),
        "salary_min": low, "salary_max": low + 20000, "source": "careerload",
    }


class BrowsingUser(CareerUser):
    # Think time between pages: 2-8 s, the range a person reading a list and
    # opening a posting takes (the audit's k6 script used sleep(1..5) per request).
    think_time = (2.0, 8.0)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        # Our own jobs per status, from the last /jobs/stats we read: filters pick statuses we have.
        self.status_counts: dict[str, int] = {}

    def list_jobs(self) -> None:
        page = random.randint(1, 3)
        with self.client.get(f"{API}/jobs?page={page}&page_size=20", name=f"{API}/jobs", catch_response=True) as resp:
            body = self.expect(resp, 200, page=True, owner_field="user_id")
        if body:
            self.remember(body["items"])

    def filter_jobs(self) -> None:
        status = job_status(self.status_counts)
        with self.client.get(f"{API}/jobs?status={status}&page_size=20", name=f"{API}/jobs", catch_response=True) as resp:
            body = self.expect(resp, 200, page=True, owner_field="user_id")
            bad = [item.get("status") for item in body["items"] if item.get("status") != status] if body else []
            if bad:
                resp.failure(f"status filter {status} returned {bad[0]}")
        if body:
            self.remember(body["items"])

    def job_detail(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        with self.client.get(f"{API}/jobs/{job_id}", name=f"{API}/jobs/{{id}}", catch_response=True) as resp:
            self.expect(resp, 200, keys=("id", "title", "company", "status"), owner_field="user_id")

    def job_stats(self) -> None:
        with self.client.get(f"{API}/jobs/stats", name=f"{API}/jobs/stats", catch_response=True) as resp:
            body = self.expect(resp, 200, keys=("total", "by_status"))
        if body and isinstance(body["by_status"], dict):
            self.status_counts = body["by_status"]

    def search_jobs(self) -> None:
        term = random.choice(SEARCH_TERMS)
        with self.client.get(f"{API}/jobs/search?q={term}&page=1", name=f"{API}/jobs/search", catch_response=True) as resp:
            self.expect(resp, 200, page=True)

    def recommendations(self) -> None:
        with self.client.get(f"{API}/recommendations?limit=10", name=f"{API}/recommendations", catch_response=True) as resp:
            self.expect(resp, 200, keys=("items",))

    def dashboard(self) -> None:
        with self.client.get(f"{API}/analytics/dashboard", name=f"{API}/analytics/dashboard", catch_response=True) as resp:
            self.expect(resp, 200, keys=("total_jobs", "jobs_by_status"))

    def applications(self) -> None:
        with self.client.get(f"{API}/applications?page=1", name=f"{API}/applications", catch_response=True) as resp:
            self.expect(resp, 200, page=True, owner_field="user_id")

    def activity_log(self) -> None:
        with self.client.get(f"{API}/logs?page=1", name=f"{API}/logs", catch_response=True) as resp:
            self.expect(resp, 200, page=True, owner_field="user_id")

    def create_job(self) -> None:
        with self.client.post(f"{API}/jobs", json=new_job(), name=f"{API}/jobs", catch_response=True) as resp:
            body = self.expect(resp, 201, keys=("id",), owner_field="user_id")
        if body:
            self.remember([body])

    def update_job(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        status = job_status()
        with self.client.put(f"{API}/jobs/{job_id}", json={"status": status}, name=f"{API}/jobs/{{id}}",
                             catch_response=True) as resp:
            body = self.expect(resp, 200, keys=("id", "status"), owner_field="user_id")
            if body and body["status"] != status:
                resp.failure(f"update to {status} returned status {body['status']}")

    def apply(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        with self.client.post(f"{API}/applications", json={"job_id": job_id}, name=f"{API}/applications",
                              catch_response=True) as resp:
            body = self.expect(resp, 201, keys=("id", "job_id", "status"))
            if body and body["job_id"] != job_id:
                resp.failure(f"applied to job {job_id}, the application is for job {body['job_id']}")

    def export_jobs(self) -> None:
        with self.client.get(f"{API}/jobs/export?format=csv", name=f"{API}/jobs/export", catch_response=True) as resp:
            if resp.status_code == 200 and not (resp.text or "").startswith("id,"):
                resp.failure("export is not CSV with an id column first")
            else:
                self.expect(resp, 200)

    def other_users_job(self) -> None:
        """Isolation: another user's job must be a 404 (only with a database pool, which knows other ids)."""
        job_id = RUN.pool.foreign_job_id(self.user_id) if RUN.pool else None
        if job_id is None:
            return self.job_detail()
        with self.client.get(f"{API}/jobs/{job_id}", name=f"{API}/jobs/{{id}} (other user's)",
                             catch_response=True) as resp:
            self.expect(resp, 404)

    tasks = weighted(locals(), BROWSING_WEIGHTS)
