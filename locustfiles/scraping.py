"""ScrapingUser: starts scrapes and waits for them, like the audit's second k6 script.

Asynchronous scraping (the profile's `scraping = "async"`, the reference):
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

Synchronous scraping (`scraping = "sync"`, Career Copilot): the answer itself
carries the counts; "scrape completion" is the time from the first POST (429
back-off included) to that answer, and there is no server-side time.

Every poll checks the task id, and a finished task (or a synchronous answer)
that its counts add up (`jobs_scraped == jobs_added + jobs_deduplicated`). The
dedup counts are summed into run.json's counters.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any

import gevent
from locust import events

from locustfiles._profile import PROFILE
from locustfiles._run_state import RUN
from locustfiles.common import MAX_RETRIES, CareerUser

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
    task_weights = {"scrape": 1}

    def scrape(self) -> None:
        op = self.op("scrape")
        if op is None:
            return
        values = {"keywords": random.choice(KEYWORDS), "location": random.choice(LOCATIONS), "max_results": 20}
        started = time.time()  # the user's wait starts with the first POST, back-off included
        for attempt in range(MAX_RETRIES + 1):
            with self.send(op, values) as resp:
                if resp.status_code != 429:
                    answer = self.check(resp, op, values)
                    if answer and PROFILE.profile.scraping == "sync" and not self.counts_add_up(resp, answer):
                        answer = None
                    break
                delay = self.retry_after(resp, op.request_name)
            if attempt < MAX_RETRIES:
                gevent.sleep(delay)
        else:
            return  # still rate-limited after MAX_RETRIES back-offs: every 429 is already counted
        if PROFILE.profile.scraping == "sync":
            error = None if answer else "the scrape failed"
            self.fire_task("scrape completion", (time.time() - started) * 1000.0, started,
                           RuntimeError(error) if error else None)
            if answer:
                self.count_done(answer)
        elif answer:
            self.wait_for(answer[op.id_field], started)

    @staticmethod
    def counts_add_up(resp: Any, task: dict[str, Any]) -> bool:
        if all(isinstance(task.get(key), int) for key in COUNTS) and \
                task["jobs_scraped"] == task["jobs_added"] + task["jobs_deduplicated"]:
            return True
        resp.failure(f"jobs_scraped {task.get('jobs_scraped')} != jobs_added {task.get('jobs_added')} "
                     f"+ jobs_deduplicated {task.get('jobs_deduplicated')}")
        return False

    def poll(self, task_id: str) -> dict[str, Any] | None:
        """One task poll, checked: shape, our task, and counts that add up once done."""
        op = self.op("task_poll")
        values = {"task_id": task_id}
        with self.send(op, values) as resp:
            task = self.check(resp, op, values)
            if task is None or (task["status"] == "done" and not self.counts_add_up(resp, task)):
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
            self.count_done(task)

    @staticmethod
    def count_done(task: dict[str, Any]) -> None:
        RUN.count("scrape tasks done")
        for key in COUNTS:
            RUN.count(f"scrape {key}", task[key])

    def fire_task(self, name: str, response_time_ms: float, started: float, exception: Exception | None) -> None:
        events.request.fire(
            request_type="TASK", name=name, response_time=response_time_ms, response_length=0,
            exception=exception, context=self.context(), start_time=started, response=None, url=None,
        )

    tasks = [scrape]
