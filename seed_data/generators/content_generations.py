"""The content_generations table: cover letters and follow-ups, mostly for jobs the user applied to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import DAY, Table, pool, raw_pool
from seed_data.generators.context import Context, per_row
from seed_data.generators.jobs import Jobs
from seed_data.generators.sampling import in_time_order
from seed_data.generators.users import Names, draw_names

CONTENT_TYPES = ("cover_letter", "follow_up_email")


@dataclass(frozen=True)
class ContentGenerations:
    """The table, and the users' names drawn for its signatures (the users table shows them too)."""

    table: Table
    names: Names


def generate(ctx: Context, jobs: Jobs) -> ContentGenerations:
    sampler, rng, words, postings = ctx.sampler, ctx.rng, ctx.words, ctx.postings
    n_jobs, n_gens = ctx.counts["jobs"], ctx.counts["content_generations"]
    any_job = rng.integers(0, n_jobs, n_gens)
    applied_job = jobs.applied[rng.integers(0, len(jobs.applied), n_gens)] if len(jobs.applied) else any_job
    job = np.where(rng.random(n_gens) < 0.6, applied_job, any_job)
    created, job = in_time_order(sampler.later(jobs.created[job], 3 * DAY), job)
    user = jobs.user[job]
    names = draw_names(ctx)
    content_type = sampler.choice((0.85, 0.15), n_gens)
    paragraph = rng.integers(0, len(words.paragraphs), size=(n_gens, 2))
    letters = []
    for kind, p, owner, (p1, p2) in zip(content_type.tolist(), jobs.posting[job].tolist(), user.tolist(), paragraph.tolist()):
        name = names.full(words, owner)
        company, title = postings.company[p], postings.title[p]
        if kind == 0:
            letters.append(f"Dear {company} hiring team,\n\nI am applying for the {title} position. "
                           f"{words.paragraphs[p1]}\n\n{words.paragraphs[p2]}\n\nKind regards,\n{name}")
        else:
            letters.append(f"Hello {company} team,\n\nI would like to follow up on my application for the "
                           f"{title} role. {words.paragraphs[p1]}\n\nBest regards,\n{name}")
    tokens = np.asarray([len(letter) // 4 for letter in letters], dtype=np.int64) + rng.integers(0, 40, n_gens)
    latency = np.round(rng.lognormal(np.log(3000), 0.3, n_gens)).astype(np.int64)
    row = np.arange(n_gens)
    table = Table(
        "content_generations",
        ("id", "user_id", "job_id", "content_type", "style", "tokens", "latency_ms", "created_at", "content"), n_gens, [
            (ctx.ids, row + 1),
            (ctx.ids, user),
            (ctx.ids, job + 1),
            (raw_pool([f"{kind}\t{style}" for kind in CONTENT_TYPES for style in vocab.STYLES]),
             content_type * len(vocab.STYLES) + sampler.choice((0.5, 0.2, 0.15, 0.15), n_gens)),
            per_row(tokens),
            per_row(latency),
            *ctx.clock.timestamp(created),
            (pool(letters, "\n"), row),
        ])
    return ContentGenerations(table, names)
