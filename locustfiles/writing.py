"""WritingUser: the "writes" share of the mixed profile: adding, updating, applying, cleaning up."""

from __future__ import annotations

import random

from locustfiles.browsing import BrowsingUser, new_job, weighted

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
    task_weights = WRITING_WEIGHTS

    def on_start(self) -> None:
        super().on_start()
        self.created: list[int] = []

    def create_job(self) -> None:
        body = self.fetch("create_job", job=new_job())
        op = self.op("create_job")
        if body and op is not None:
            self.remember([body], op.id_field)
            self.created.append(body[op.id_field])

    def bulk_create(self) -> None:
        jobs = [new_job() for _ in range(random.randint(*BULK_SIZE))]
        body = self.fetch("bulk_create", jobs=jobs, count=len(jobs))
        op = self.op("bulk_create")
        if body and op is not None and isinstance(body.get(op.id_field), list):
            self.created.extend(body[op.id_field])
            self.remember([{"id": job_id} for job_id in body[op.id_field]])

    def delete_own_job(self) -> None:
        if not self.created:
            return self.create_job()
        job_id = self.created.pop(random.randrange(len(self.created)))
        if job_id in self.job_ids:
            self.job_ids.remove(job_id)
        self.fetch("delete_job", id=job_id)

    tasks = weighted(
        {**{name: getattr(BrowsingUser, name) for name in ("update_job", "apply", "list_jobs", "job_detail")},
         "create_job": create_job, "bulk_create": bulk_create, "delete_own_job": delete_own_job},
        WRITING_WEIGHTS,
    )
