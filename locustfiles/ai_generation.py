"""AIGenerationUser: cover letters for the user's own jobs, like the audit's third k6 script.

The simulated LLM answers in 2-5 s (log-normal, median about 3 s), so the
timeout is long. A 429 (the backend's AI_MAX_CONCURRENT) honours Retry-After,
is recorded under "<template> (429)" and counted in run.json's counters, and is
not a failure: the retry that follows is what the user experiences.
The route, body and answer are the profile's `cover_letter` operation.
"""

from __future__ import annotations

import random

import gevent

from locustfiles.common import MAX_RETRIES, CareerUser

STYLES = ("professional", "enthusiastic", "concise", "creative")


class AIGenerationUser(CareerUser):
    # A generation is slow; no request may be cut short before the backend's own limit.
    network_timeout = 120.0
    # Between two letters: 10-30 s, reading and editing the draft (the audit's
    # k6 script slept 10 s after each generation).
    think_time = (10.0, 30.0)
    task_weights = {"cover_letter": 1}

    def cover_letter(self) -> None:
        op = self.op("cover_letter")
        job_id = self.some_job_id()
        if op is None or job_id is None:
            return self.find_jobs()
        values = {"job_id": job_id, "style": random.choice(STYLES)}
        for _ in range(MAX_RETRIES + 1):
            with self.send(op, values) as resp:
                if resp.status_code != 429:
                    self.check(resp, op, values)
                    return
                delay = self.retry_after(resp, op.request_name)
            gevent.sleep(delay)

    def find_jobs(self) -> None:
        """Learn our own job ids from the first page of our list (no pool from a database)."""
        items = self.fetch("list_jobs", page=1, page_size=50)
        if items:
            self.remember(items)

    tasks = [cover_letter]
