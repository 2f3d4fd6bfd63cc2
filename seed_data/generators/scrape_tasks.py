"""The scrape_tasks table: finished runs, 40-60 % of what they scraped already known.

Only finished ones (done or failed): the backend's workers never see them as
queued. Their ids are UUID-shaped text drawn from the seeded stream, never uuid4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import PERIOD_SECONDS, Table, pool
from seed_data.generators.context import Context, per_row
from seed_data.generators.sampling import in_time_order
from seed_data.generators.users import Members


@dataclass(frozen=True)
class ScrapeTasks:
    """The table, and each row's owner and moment, which date the users' sign-up."""

    table: Table
    user: np.ndarray
    created: np.ndarray


def generate(ctx: Context, members: Members) -> ScrapeTasks:
    sampler, rng, clock, cities = ctx.sampler, ctx.rng, ctx.clock, ctx.words.cities
    n_tasks = ctx.counts["scrape_tasks"]
    user = 1 + sampler.choice(members.jobs_per_user + 1.0, n_tasks)
    created, user = in_time_order(sampler.instants(n_tasks), user)
    max_results = np.asarray([10, 25, 50, 100])[sampler.choice((0.2, 0.4, 0.3, 0.1), n_tasks)]
    failed = rng.random(n_tasks) < 0.08
    scraped = np.where(failed, 0, rng.binomial(max_results, 0.85))
    deduplicated = rng.binomial(scraped, rng.uniform(0.4, 0.6, n_tasks))
    started = np.minimum(created + rng.integers(0, 5, n_tasks), PERIOD_SECONDS - 1)
    finished = np.minimum(started + np.round(rng.lognormal(np.log(40), 0.5, n_tasks)).astype(np.int64), PERIOD_SECONDS - 1)
    task_ids = [f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}" for h in (rng.bytes(16).hex() for _ in range(n_tasks))]
    keywords = [f"{tech} {titles[0]}".lower() for titles, techs in vocab.ROLE_FAMILIES.values() for tech in techs]
    row = np.arange(n_tasks)
    table = Table(
        "scrape_tasks",
        ("id", "user_id", "keywords", "location", "max_results", "status", "jobs_scraped", "jobs_added",
         "jobs_deduplicated", "error", "created_at", "started_at", "finished_at"), n_tasks, [
            (pool(task_ids), row),
            (ctx.ids, user),
            (pool(keywords), rng.integers(0, len(keywords), n_tasks)),
            (pool([None, *cities]), np.where(rng.random(n_tasks) < 0.8, 1 + rng.integers(0, len(cities), n_tasks), 0)),
            per_row(max_results),
            (pool(("done", "failed")), failed.astype(np.int64)),
            per_row(scraped),
            per_row(scraped - deduplicated),
            per_row(deduplicated),
            (pool([None, "source timed out after 30 s"]), failed.astype(np.int64)),
            *clock.timestamp(created),
            *clock.timestamp(started),
            *clock.timestamp(finished, "\n"),
        ])
    return ScrapeTasks(table, user, created)
