"""ScrapingUser: starts background scrapes and waits for them, like the audit's second k6 script.

`POST /jobs/scrape` must answer 202 with a task id; the persona then polls
`GET /tasks/{task_id}` with exponential back-off until the task is done or
failed, and fires two completion times as their own requests (type TASK), so
completion time has percentiles like any endpoint:

- "scrape completion": what the user waits, from the first POST (429 back-off
  included) to the poll that sees the task finished. It is rounded up to the
  poll schedule: a task that finishes just after a poll is seen up to one poll
  interval (at most POLL_MAX_S) later.
- "scrape completion (server)": the backend's own `finished_at - created_at`
  from `/tasks/{id}`, exact but blind to queueing before the 202 and to 429s.

Every poll checks the task id, and a finished task that its counts add up
(`jobs_scraped == jobs_added + jobs_deduplicated`). The dedup counts are summed
into run.json's counters.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any

import gevent
from locust import events

from locustfiles._run_state import RUN
from locustfiles.common import API, MAX_RETRIES, CareerUser

KEYWORDS = ("python developer", "data engineer", "react", "golang", "site reliability", "machine learning")
LOCATIONS = ("Berlin", "Remote", "London", "Amsterdam", None)
# Poll back-off: first poll after 0.5 s, x1.5 each time, at most 5 s apart.
POLL_FIRST_S, POLL_FACTOR, POLL_MAX_S = 0.5, 1.5, 5.0
# A task not finished after this long counts as a failed completion.
COMPLETION_TIMEOUT_S = 300.0
TERMINAL = ("done", "failed")
COUNTS = ("jobs_scraped", "jobs_added", "jobs_deduplicated")


def server_duration_ms(task: dict[str, Any]) -> float | None:
    """The backend's `finished_at - created_at` in ms, or None when it did not send both timestamps."""
    try:
        return (datetime.fromisoformat(task["finished_at"]) - datetime.fromisoformat(task["created_at"])
                ).total_seconds() * 1000.0
    except (KeyError, TypeError, ValueError):
        return None


class ScrapingUser(CareerUser):
    # Between two scrapes: 5-15 s, someone reading the new results before searching again.
    think_time = (5.0, 15.0)

    def scrape(self) -> None:
        body = {"keywords": random.choice(KEYWORDS), "location": random.choice(LOCATIONS), "max_results": 20}
        template = f"{API}/jobs/scrape"
        started = time.time()  # the user's wait starts with the first POST, back-off included
        for attempt in range(MAX_RETRIES + 1):
            with self.client.post(template, json=body, name=template, catch_response=True) as resp:
                if resp.status_code != 429:
                    accepted = self.expect(resp, 202, keys=("task_id",))
                    break
                delay = self.retry_after(resp, template)
            if attempt < MAX_RETRIES:
                gevent.sleep(delay)
        else:
            return  # still rate-limited after MAX_RETRIES back-offs: every 429 is already counted
        if accepted:
            self.wait_for(accepted["task_id"], started)

    def poll(self, task_id: str) -> dict[str, Any] | None:
        """One GET /tasks/{task_id}, checked: shape, our task, and counts that add up once done."""
        with self.client.get(f"{API}/tasks/{task_id}", name=f"{API}/tasks/{{task_id}}", catch_response=True) as resp:
            task = self.expect(resp, 200, keys=("task_id", "status", *COUNTS))
            if task is None:
                return None
            if task["task_id"] != task_id:
                resp.failure(f"asked for task {task_id}, got task {task['task_id']}")
                return None
            if task["status"] == "done" and task["jobs_scraped"] != task["jobs_added"] + task["jobs_deduplicated"]:
                resp.failure(f"jobs_scraped {task['jobs_scraped']} != jobs_added {task['jobs_added']} "
                             f"+ jobs_deduplicated {task['jobs_deduplicated']}")
                return None
        return task

    def wait_for(self, task_id: str, started: float) -> None:
        """Poll with back-off; fire both completion times and keep the dedup counts."""
        delay, task, error = POLL_FIRST_S, None, None
        while time.time() - started < COMPLETION_TIMEOUT_S:
            gevent.sleep(delay)
            delay = min(delay * POLL_FACTOR, POLL_MAX_S)
            task = self.poll(task_id)
            if task is None:
                error = "polling the task failed"
                break
            if task["status"] in TERMINAL:
                break
        else:
            error = f"not finished after {COMPLETION_TIMEOUT_S:.0f}s"
        if task is not None and task["status"] == "failed":
            error = f"task failed: {task.get('error') or 'no reason given'}"
        exception = RuntimeError(error) if error else None
        self.fire_task("scrape completion", (time.time() - started) * 1000.0, started, exception)
        server_ms = server_duration_ms(task) if task is not None and task["status"] in TERMINAL else None
        if server_ms is not None:
            self.fire_task("scrape completion (server)", server_ms, started, exception)
        if error is None:
            RUN.count("scrape tasks done")
            for key in COUNTS:
                RUN.count(f"scrape {key}", task[key])

    def fire_task(self, name: str, response_time_ms: float, started: float, exception: Exception | None) -> None:
        events.request.fire(
            request_type="TASK", name=name, response_time=response_time_ms, response_length=0,
            exception=exception, context=self.context(), start_time=started, response=None, url=None,
        )

    tasks = [scrape]
