"""The applications table: one per applied job, for the job's owner, on the day it was applied."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data.copytext import DAY, PERIOD_SECONDS, Table, pool
from seed_data.generators.context import Context
from seed_data.generators.jobs import Jobs
from seed_data.generators.sampling import HOUR_WEIGHTS, in_time_order
from foundation.statuses import APPLICATION_STATUS, JOB_STATUSES


@dataclass(frozen=True)
class Applications:
    """The table, and each row's owner (index = id - 1), which the activity logs point by."""

    table: Table
    user: np.ndarray


def generate(ctx: Context, jobs: Jobs) -> Applications:
    sampler, rng, words, clock, ids = ctx.sampler, ctx.rng, ctx.words, ctx.clock, ctx.ids
    chosen = np.sort(rng.choice(jobs.applied, size=min(ctx.counts["applications"], len(jobs.applied)), replace=False))
    app_statuses = tuple(APPLICATION_STATUS.values())
    status_map = np.asarray([app_statuses.index(APPLICATION_STATUS[s]) if s in APPLICATION_STATUS else 0 for s in JOB_STATUSES])
    time_of_day = sampler.choice(HOUR_WEIGHTS, len(chosen)) * 3600 + rng.integers(0, 3600, len(chosen))
    applied_at = np.minimum(np.maximum(jobs.applied_day[chosen] * DAY + time_of_day, jobs.created[chosen] + 60), PERIOD_SECONDS - 1)
    applied_at, job = in_time_order(applied_at, chosen)
    n_apps = len(job)
    user = jobs.user[job]
    has_note = rng.random(n_apps) < 0.35
    table = Table("applications", ("id", "user_id", "job_id", "status", "applied_at", "updated_at", "notes"), n_apps, [
        (ids, np.arange(1, n_apps + 1)),
        (ids, user),
        (ids, job + 1),
        (pool(app_statuses), status_map[jobs.status[job]]),
        *clock.timestamp(applied_at),
        *clock.timestamp(sampler.later(applied_at, 10 * DAY)),
        (pool([None, *words.notes], "\n"),
         np.where(has_note, 1 + rng.integers(0, len(words.notes), n_apps), 0)),
    ])
    return Applications(table, user)
