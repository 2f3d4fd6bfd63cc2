"""ScrapingUser: starts background scrapes and waits for them, like the audit's second k6 script.

`POST /jobs/scrape` must answer 202 with a task id; the persona then polls
`GET /tasks/{task_id}` with exponential back-off until the task is done or
failed, and fires the end-to-end time as its own request (type TASK, name
"scrape completion"), so completion time has percentiles like any endpoint.
The task's dedup counts are summed into run.json's counters.
"""

from __future__ import annotations

import random
import time

import gevent
from locust import events

from locustfiles._plugin import RUN
from locustfiles.common import API, CareerUser

KEYWORDS = ("python developer", "data engineer", "react", "golang", "site reliability", "machine learning")
LOCATIONS = ("Berlin", "Remote", "London", "Amsterdam", None)
# Poll back-off: first poll after 0.5 s, x1.5 each time, at most 5 s apart.
POLL_FIRST_S, POLL_FACTOR, POLL_MAX_S = 0.5, 1.5, 5.0
# A task not finished after this long counts as a failed completion.
COMPLETION_TIMEOUT_S = 300.0
TERMINAL = ("done", "failed")


class ScrapingUser(CareerUser):
    # Between two scrapes: 5-15 s, someone reading the new results before searching again.
    think_time = (5.0, 15.0)

    def scrape(self) -> None:
        body = {"keywords": random.choice(KEYWORDS), "location": random.choice(LOCATIONS), "max_results": 20}
        template = f"{API}/jobs/scrape"
        for _ in range(4):
            with self.client.post(template, json=body, name=template, catch_response=True) as resp:
                if resp.status_code == 429:
                    delay = self.retry_after(resp, template)
                else:
                    accepted = self.expect(resp, 202, keys=("task_id",))
                    break
            gevent.sleep(delay)
        else:
            return
        if accepted:
            self.wait_for(accepted["task_id"], time.time())

    def wait_for(self, task_id: str, started: float) -> None:
        """Poll with back-off; fire the completion time (TASK "scrape completion") and keep dedup counts."""
        delay, task, error = POLL_FIRST_S, None, None
        while time.time() - started < COMPLETION_TIMEOUT_S:
            gevent.sleep(delay)
            delay = min(delay * POLL_FACTOR, POLL_MAX_S)
            with self.client.get(f"{API}/tasks/{task_id}", name=f"{API}/tasks/{{task_id}}", catch_response=True) as resp:
                task = self.expect(resp, 200, keys=("status", "jobs_scraped", "jobs_added", "jobs_deduplicated"))
            if task is None:
                error = "polling the task failed"
                break
            if task["status"] in TERMINAL:
                break
        else:
            error = f"not finished after {COMPLETION_TIMEOUT_S:.0f}s"
        if task is not None and task["status"] == "failed":
            error = f"task failed: {task.get('error') or 'no reason given'}"
        elapsed_ms = (time.time() - started) * 1000.0
        events.request.fire(
            request_type="TASK", name="scrape completion", response_time=elapsed_ms, response_length=0,
            exception=RuntimeError(error) if error else None, context=self.context(), start_time=started,
            response=None, url=None,
        )
        if error is None:
            RUN.count("scrape tasks done")
            for key in ("jobs_scraped", "jobs_added", "jobs_deduplicated"):
                RUN.count(f"scrape {key}", task[key])

    tasks = [scrape]
