"""AIGenerationUser: cover letters for the user's own jobs, like the audit's third k6 script.

The simulated LLM answers in 2-5 s (log-normal, median about 3 s), so the
timeout is long. A 429 (the backend's AI_MAX_CONCURRENT) honours Retry-After,
is recorded under "<template> (429)" and counted in run.json's counters, and is
not a failure: the retry that follows is what the user experiences.
"""

from __future__ import annotations

import random

import gevent

from locustfiles.common import API, MAX_RETRIES, CareerUser

STYLES = ("professional", "enthusiastic", "concise", "creative")
TEMPLATE = f"{API}/content/generate/cover-letter"


class AIGenerationUser(CareerUser):
    # A generation is slow; no request may be cut short before the backend's own limit.
    network_timeout = 120.0
    # Between two letters: 10-30 s, reading and editing the draft (the audit's
    # k6 script slept 10 s after each generation).
    think_time = (10.0, 30.0)

    def cover_letter(self) -> None:
        job_id = self.some_job_id()
        if job_id is None:
            return self.find_jobs()
        body = {"job_id": job_id, "style": random.choice(STYLES)}
        for _ in range(MAX_RETRIES + 1):
            with self.client.post(TEMPLATE, json=body, name=TEMPLATE, catch_response=True) as resp:
                if resp.status_code != 429:
                    letter = self.expect(resp, 200, keys=("job_id", "content", "tokens", "latency_ms"))
                    if letter and letter["job_id"] != job_id:
                        resp.failure(f"asked for a letter for job {job_id}, got one for job {letter['job_id']}")
                    return
                delay = self.retry_after(resp, TEMPLATE)
            gevent.sleep(delay)

    def find_jobs(self) -> None:
        """Learn our own job ids from the first page of our list (no pool from a database)."""
        with self.client.get(f"{API}/jobs?page=1&page_size=50", name=f"{API}/jobs", catch_response=True) as resp:
            body = self.expect(resp, 200, page=True, owner_field="user_id")
        if body:
            self.remember(body["items"])

    tasks = [cover_letter]
