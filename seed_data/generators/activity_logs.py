"""The activity_logs table: busier users log more; job and application actions name one of the user's own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import Table, pool, raw_pool
from seed_data.generators.applications import Applications
from seed_data.generators.context import Context
from seed_data.generators.jobs import Jobs
from seed_data.generators.sampling import in_time_order
from foundation.statuses import JOB_STATUS_WEIGHTS, JOB_STATUSES
from seed_data.generators.users import Members

# Activity log actions: (action, entity_type, weight). Job actions point at a job of the user.
LOG_ACTIONS = (
    ("view_job", "job", 0.3),
    ("search_jobs", "search", 0.15),
    ("login", "session", 0.12),
    ("create_job", "job", 0.1),
    ("update_job", "job", 0.1),
    ("view_applications", "application", 0.06),
    ("create_application", "application", 0.05),
    ("scrape_jobs", "scrape_task", 0.04),
    ("generate_cover_letter", "job", 0.03),
    ("view_dashboard", "dashboard", 0.03),
    ("export_jobs", "export", 0.02),
)


@dataclass(frozen=True)
class ActivityLogs:
    """The table, and each row's owner and moment (index = id - 1), which date the users' sign-up."""

    table: Table
    user: np.ndarray
    created: np.ndarray


def generate(ctx: Context, members: Members, jobs: Jobs, applications: Applications) -> ActivityLogs:
    sampler, rng, words = ctx.sampler, ctx.rng, ctx.words
    n_users, n_logs = ctx.counts["users"], ctx.counts["activity_logs"]
    user = 1 + sampler.choice(members.jobs_per_user + 10.0, n_logs)
    created, user, action = in_time_order(
        sampler.instants(n_logs), user, sampler.choice(tuple(w for _, _, w in LOG_ACTIONS), n_logs)
    )
    entity_types = [entity for _, entity, _ in LOG_ACTIONS]
    action_names = [name for name, _, _ in LOG_ACTIONS]
    job_action = np.asarray([entity == "job" for entity in entity_types])[action]
    app_action = np.asarray([entity == "application" for entity in entity_types])[action]
    entity = np.where(job_action, sampler.pick_owned(jobs.user, user, n_users), 0)
    entity = np.where(app_action, sampler.pick_owned(applications.user, user, n_users), entity)
    # sorted(): a set's order follows the per-process string hash (issue 12).
    queries = [f"q={tech.lower()} {city.split(',')[0]}" for tech in sorted({t for _, ts in vocab.ROLE_FAMILIES.values() for t in ts})
               for city in words.cities[:: max(1, len(words.cities) // 12)]]
    search = action == action_names.index("search_jobs")
    update = action == action_names.index("update_job")
    details = np.where(search, 1 + rng.integers(0, len(queries), n_logs), 0)
    details = np.where(update, 1 + len(queries) + sampler.choice(JOB_STATUS_WEIGHTS, n_logs), details)
    table = Table("activity_logs", ("id", "user_id", "action", "entity_type", "entity_id", "created_at", "details"), n_logs, [
        (ctx.ids, np.arange(1, n_logs + 1)),
        (ctx.ids, user),
        (raw_pool([f"{name}\t{entity}" for name, entity, _ in LOG_ACTIONS]), action),
        (ctx.ids, entity),
        *ctx.clock.timestamp(created),
        (pool([None, *queries, *(f"status={s}" for s in JOB_STATUSES)], "\n"), details),
    ])
    return ActivityLogs(table, user, created)
