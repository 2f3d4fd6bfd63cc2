"""Production-like rows for every careerload table, sampled with numpy, one module per table.

What "production-like" means here (DESIGN.md, "Data model"), and why:
- jobs per user follow a power law (p ∝ 1/(rank+1)): a few power users track
  10k+ jobs at scale ≥ 10, which is where per-user queries stop being cheap;
- companies follow Zipf's law, so `company` filters have hot and cold values;
- statuses are skewed towards `not_applied`, as in real trackers;
- timestamps cover one year with a weekday rhythm, business hours and a growth
  trend, so `created_at` ranges and "newest first" pages behave realistically;
- salaries are log-normal around a median per experience level;
- postings are EU ones (local language or English);
- one posting is tracked by several users or scraped twice: those rows share
  `job_fingerprint` (about half the rows are duplicates, as the scraper sees);
- applications, logs and generated content only point at jobs of the same user.

Everything is drawn from one `numpy.random.default_rng(seed)` held by the
shared Context, in the fixed order of `generate` below, and the vocabulary from
a Faker seeded with the same seed: same seed → same bytes, in any process.

Modules: `context` (what the generators share), `sampling` (the random stream),
`statuses`, `stacks`, `postings` (and the fingerprint), then one per table:
`users`, `jobs`, `applications`, `activity_logs`, `content_generations`,
`scrape_tasks`.
"""

from __future__ import annotations

from collections.abc import Iterator

from seed_data.copytext import Table
from seed_data.generators import activity_logs, applications, content_generations, jobs, scrape_tasks, users
from seed_data.generators.context import ROWS_PER_SCALE, Context, row_counts
from foundation.statuses import APPLICATION_STATUS, JOB_STATUS_SHARE, JOB_STATUS_WEIGHTS, JOB_STATUSES

__all__ = [
    "APPLICATION_STATUS", "JOB_STATUSES", "JOB_STATUS_SHARE", "JOB_STATUS_WEIGHTS", "ROWS_PER_SCALE",
    "generate", "row_counts",
]


def generate(scale: float, seed: int, password_hash: str) -> Iterator[Table]:
    """Every table's rows at `scale`, each yielded as soon as it is sampled.

    Keys are built after the load, so tables need not come parents first: jobs
    come first (the biggest COPY overlaps the sampling of the others) and users
    last (their sign-up precedes their first activity in every other table).
    The order of the calls is the order of the draws: changing it changes the data.
    """
    ctx = Context.build(scale, seed)
    members = users.draw_members(ctx)
    job_rows = jobs.generate(ctx, members)
    yield job_rows.table
    application_rows = applications.generate(ctx, job_rows)
    yield application_rows.table
    log_rows = activity_logs.generate(ctx, members, job_rows, application_rows)
    yield log_rows.table
    content_rows = content_generations.generate(ctx, job_rows)
    yield content_rows.table
    task_rows = scrape_tasks.generate(ctx, members)
    yield task_rows.table
    activity = ((job_rows.user, job_rows.created), (log_rows.user, log_rows.created), (task_rows.user, task_rows.created))
    yield users.generate(ctx, members, content_rows.names, password_hash, activity)
