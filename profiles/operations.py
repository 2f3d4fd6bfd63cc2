"""The operations the personas perform, by name: the vocabulary a profile maps onto one deployment's routes.

Each operation names the values a persona supplies (the placeholders a profile's
path, query and body templates may use) and, for an id in the path, the
placeholder the request is *named* with, whatever the deployment calls it: a
request to `/jobs/{job_id}` is recorded as `/jobs/{id}`, so scenario thresholds
scoped to `endpoint:GET /api/v1/jobs/{id}` hold under every profile.

`PERSONA_OPERATIONS` says which operations each persona may perform (its task
table's entries and the fallbacks they use); `careerload profile check` judges
a scenario by the operations of its personas with a weight above 0. A test
holds it against the personas' own weight tables.
"""

from __future__ import annotations

# operation -> the values a persona supplies (usable as {name} in templates)
OPERATIONS: dict[str, tuple[str, ...]] = {
    "list_jobs": ("page", "page_size", "skip", "limit"),
    "filter_jobs": ("status", "page", "page_size", "skip", "limit"),
    "job_detail": ("id",),
    "job_stats": (),
    "search_jobs": ("q", "page", "page_size", "skip", "limit"),
    "recommendations": ("limit",),
    "dashboard": (),
    "applications": ("page", "page_size", "skip", "limit"),
    "activity_log": ("page", "page_size", "skip", "limit"),
    "create_job": ("job",),
    "update_job": ("id", "status"),
    "apply": ("job_id",),
    "export_jobs": (),
    "bulk_create": ("jobs", "count"),
    "delete_job": ("id",),
    "scrape": ("keywords", "location", "max_results"),
    "task_poll": ("task_id",),
    "cover_letter": ("job_id", "style"),
}

# operation -> the name its path placeholder gets in request names (one id per path at most)
PATH_ID: dict[str, str] = {
    "job_detail": "id", "update_job": "id", "delete_job": "id", "task_poll": "task_id",
}

PERSONA_OPERATIONS: dict[str, tuple[str, ...]] = {
    "BrowsingUser": ("list_jobs", "filter_jobs", "job_detail", "job_stats", "search_jobs", "recommendations",
                     "dashboard", "applications", "activity_log", "create_job", "update_job", "apply",
                     "export_jobs"),
    "WritingUser": ("create_job", "update_job", "apply", "bulk_create", "delete_job", "list_jobs", "job_detail"),
    "AIGenerationUser": ("cover_letter", "list_jobs"),
    "ScrapingUser": ("scrape", "task_poll"),
    "DatabaseUser": (),
}


def scenario_operations(personas: dict[str, float], scraping: str = "async") -> list[str]:
    """The operations a scenario's personas with weight > 0 perform, in vocabulary order."""
    used = {op for persona, weight in personas.items() if weight > 0 for op in PERSONA_OPERATIONS.get(persona, ())}
    if scraping == "sync":
        used.discard("task_poll")
    return [op for op in OPERATIONS if op in used]
