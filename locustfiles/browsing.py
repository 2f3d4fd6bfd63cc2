"""BrowsingUser: someone checking their job tracker: lists, details, stats, search, now and then a write."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from locustfiles._run_state import RUN
from locustfiles._statuses import job_status
from locustfiles.common import CareerUser

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
    """Locust's `tasks = {function: weight}` from a table of method names, skipping zero weights.

    The table Locust starts with (every operation present, as in the reference
    profile); `CareerUser.retable` rebuilds it from `task_weights` for the run's profile.
    """
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
    task_weights = BROWSING_WEIGHTS

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        # Our own jobs per status, from the last job stats we read: filters pick statuses we have.
        self.status_counts: dict[str, int] = {}

    def list_jobs(self) -> None:
        items = self.fetch("list_jobs", page=random.randint(1, 3), page_size=20)
        if items:
            self.remember(items)

    def filter_jobs(self) -> None:
        items = self.fetch("filter_jobs", status=job_status(self.status_counts), page_size=20)
        if items:
            self.remember(items)

    def job_detail(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        self.fetch("job_detail", id=job_id)

    def job_stats(self) -> None:
        body = self.fetch("job_stats")
        if body and isinstance(body.get("by_status"), dict):
            self.status_counts = body["by_status"]

    def search_jobs(self) -> None:
        self.fetch("search_jobs", q=random.choice(SEARCH_TERMS), page=1)

    def recommendations(self) -> None:
        self.fetch("recommendations", limit=10)

    def dashboard(self) -> None:
        self.fetch("dashboard")

    def applications(self) -> None:
        self.fetch("applications", page=1)

    def activity_log(self) -> None:
        self.fetch("activity_log", page=1)

    def create_job(self) -> None:
        body = self.fetch("create_job", job=new_job())
        if body:
            self.remember([body])

    def update_job(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        self.fetch("update_job", id=job_id, status=job_status())

    def apply(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.list_jobs()
        self.fetch("apply", job_id=job_id)

    def export_jobs(self) -> None:
        self.fetch("export_jobs")

    def other_users_job(self) -> None:
        """Isolation: another user's job must be a 404 (only with a database pool, which knows other ids)."""
        job_id = RUN.pool.foreign_job_id(self.user_id) if RUN.pool else None
        op = self.op("job_detail")
        if job_id is None or op is None:
            return self.job_detail()
        with self.send(op, {"id": job_id}, name=f"{op.request_name} (other user's)") as resp:
            self.expect(resp, 404)

    tasks = weighted(locals(), BROWSING_WEIGHTS)
