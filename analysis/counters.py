"""Counters the personas add up during a run (run.json's `counters`), turned into figures.
"""

from __future__ import annotations

from typing import Any


# run.json counters (locustfiles/scraping.py) behind the scraping figures.
SCRAPE_COUNTERS = {"tasks_done": "scrape tasks done", "jobs_scraped": "scrape jobs_scraped",
                   "jobs_added": "scrape jobs_added", "jobs_deduplicated": "scrape jobs_deduplicated"}

def scrape_counts(run: dict[str, Any]) -> dict[str, Any] | None:
    """The finished scrape tasks' job counts and the dedup rate (deduplicated / scraped), None without any.

    The counters are the backend's own per-task figures, summed by the scraping
    persona; only finished tasks count, so a rate covers exactly the jobs counted.
    """
    counters = run.get("counters") or {}
    if not counters.get(SCRAPE_COUNTERS["tasks_done"]):
        return None
    out: dict[str, Any] = {key: int(counters.get(name, 0)) for key, name in SCRAPE_COUNTERS.items()}
    out["dedup_rate"] = out["jobs_deduplicated"] / out["jobs_scraped"] if out["jobs_scraped"] else None
    return out
