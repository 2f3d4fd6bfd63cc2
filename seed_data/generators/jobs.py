"""The jobs table: each user's tracked jobs, postings shared between users.

Jobs per user follow a power law (drawn with the members), mostly in the
user's own role family; statuses are skewed towards not_applied; a job in an
applied status has the day it was applied, a few days after it was saved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import DAY, PERIOD_DAYS, Table, pool
from seed_data.generators.context import Context
from seed_data.generators.postings import POSTING_COLUMNS
from seed_data.generators.sampling import in_time_order
from foundation.statuses import APPLICATION_STATUS, JOB_STATUS_WEIGHTS, JOB_STATUSES
from seed_data.generators.users import Members

SOURCES = ("linkedin", "indeed", "scraper", "manual", "company_site")
SOURCE_WEIGHTS = (0.34, 0.2, 0.22, 0.14, 0.1)


@dataclass(frozen=True)
class Jobs:
    """The table, and per row (index = id - 1) what the tables pointing at jobs need."""

    table: Table
    user: np.ndarray         # owner's id
    created: np.ndarray      # seconds since PERIOD_START
    posting: np.ndarray      # index into Context.postings
    status: np.ndarray       # index into JOB_STATUSES
    applied_day: np.ndarray  # day number, -1 when the job was not applied to
    applied: np.ndarray      # the rows whose status has an application, in id order


def generate(ctx: Context, members: Members) -> Jobs:
    sampler, rng, postings = ctx.sampler, ctx.rng, ctx.postings
    n_users, n_jobs = ctx.counts["users"], ctx.counts["jobs"]
    created, user = in_time_order(sampler.instants(n_jobs), np.repeat(np.arange(1, n_users + 1), members.jobs_per_user))
    family = np.where(rng.random(n_jobs) < 0.7, members.family[user - 1], sampler.choice(vocab.FAMILY_WEIGHTS, n_jobs))
    in_family = postings.family_count[family]
    draw = rng.random(n_jobs)
    posting = np.where(
        in_family > 0,
        postings.family_start[family] + (draw * in_family).astype(np.int64),
        (draw * len(postings.segment)).astype(np.int64),
    )
    status = sampler.choice(JOB_STATUS_WEIGHTS, n_jobs)
    applied = np.isin(status, [JOB_STATUSES.index(name) for name in APPLICATION_STATUS])
    applied_day = np.where(
        applied, np.minimum(created // DAY + rng.geometric(1 / 3, n_jobs) - 1, PERIOD_DAYS - 1), -1
    )
    updated = sampler.later(np.maximum(created, applied_day * DAY + 12 * 3600), np.where(status == 0, DAY, 8 * DAY))
    clock = ctx.clock
    table = Table("jobs", ("id", "user_id", "status", "source", "created_at", "updated_at", "date_applied", *POSTING_COLUMNS), n_jobs, [
        (ctx.ids, np.arange(1, n_jobs + 1)),
        (ctx.ids, user),
        (pool(JOB_STATUSES), status),
        (pool(SOURCES), sampler.choice(SOURCE_WEIGHTS, n_jobs)),
        *clock.timestamp(created),
        *clock.timestamp(updated),
        clock.date(applied_day),
        (postings.segment, posting),
    ])
    return Jobs(table, user, created, posting, status, applied_day, np.flatnonzero(applied))
