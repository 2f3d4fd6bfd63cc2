"""WritingUser: the "writes" share of the mixed profile: adding, updating, applying, cleaning up."""

from __future__ import annotations

import random

from locustfiles.browsing import BrowsingUser, new_job, weighted
from locustfiles.common import API

# Relative task weights of a writing session (the mixed profile's 30 % writes):
# mostly single creates and status updates, a bulk import now and then, and the
# list reads a person does between writes. Deletes only remove jobs this user
# created itself, so the seeded data set is not eroded by long runs.
WRITING_WEIGHTS = {
    "create_job": 25, "update_job": 25, "apply": 12, "bulk_create": 5, "delete_own_job": 8,
    "list_jobs": 15, "job_detail": 10,
}
BULK_SIZE = (3, 10)


class WritingUser(BrowsingUser):
    # Think time: 3-10 s, filling in a form takes longer than reading a list.
    think_time = (3.0, 10.0)

    def on_start(self) -> None:
        super().on_start()
        self.created: list[int] = []

    def create_job(self) -> None:
        with self.client.post(f"{API}/jobs", json=new_job(), name=f"{API}/jobs", catch_response=True) as resp:
            body = self.expect(resp, 201, keys=("id",), owner_field="user_id")
        if body:
            self.remember([body])
            self.created.append(body["id"])

    def bulk_create(self) -> None:
        jobs = [new_job() for _ in range(random.randint(*BULK_SIZE))]
        with self.client.post(f"{API}/jobs/bulk", json={"jobs": jobs}, name=f"{API}/jobs/bulk",
                              catch_response=True) as resp:
            body = self.expect(resp, 201, keys=("created", "ids"))
            if body and body["created"] != len(jobs):
                resp.failure(f"bulk create of {len(jobs)} jobs created {body['created']}")
        if body:
            self.created.extend(body["ids"])
            self.remember([{"id": job_id} for job_id in body["ids"]])

    def delete_own_job(self) -> None:
        if not self.created:
            return self.create_job()
        job_id = self.created.pop(random.randrange(len(self.created)))
        if job_id in self.job_ids:
            self.job_ids.remove(job_id)
        with self.client.delete(f"{API}/jobs/{job_id}", name=f"{API}/jobs/{{id}}", catch_response=True) as resp:
            self.expect(resp, 204)

    tasks = weighted(
        {**{name: getattr(BrowsingUser, name) for name in ("update_job", "apply", "list_jobs", "job_detail")},
         "create_job": create_job, "bulk_create": bulk_create, "delete_own_job": delete_own_job},
        WRITING_WEIGHTS,
    )
