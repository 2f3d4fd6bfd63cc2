"""The users table, and the draws about users that other tables need before it.

Users are generated last (each signs up before their first activity in any
other table), but who they are is drawn earlier, where the stream first needs
it: their background and job count before the jobs (`draw_members`), their
names with the cover letters that sign with them (`draw_names`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import PERIOD_SECONDS, Table, constant, pool, raw_pool
from seed_data.generators.context import Context
from seed_data.generators.sampling import zipf
from foundation.logins import seed_email


@dataclass(frozen=True)
class Members:
    """Each user's role family and how many jobs they track (index = user id - 1)."""

    family: np.ndarray
    jobs_per_user: np.ndarray


@dataclass(frozen=True)
class Names:
    """Each user's first and last name, as indices into the vocabulary (index = user id - 1)."""

    first: np.ndarray
    last: np.ndarray

    def full(self, words: vocab.Pools, user: int) -> str:
        return f"{words.first_names[self.first[user - 1]]} {words.last_names[self.last[user - 1]]}"


def draw_members(ctx: Context) -> Members:
    """Users' background and how many jobs each tracks (power law over a random ranking)."""
    n_users, rng = ctx.counts["users"], ctx.rng
    family = ctx.sampler.choice(vocab.FAMILY_WEIGHTS, n_users)
    jobs_per_user = rng.multinomial(ctx.counts["jobs"], zipf(n_users, 1.0, offset=1.0)[rng.permutation(n_users)])
    return Members(family, jobs_per_user)


def draw_names(ctx: Context) -> Names:
    n_users, words = ctx.counts["users"], ctx.words
    return Names(ctx.rng.integers(0, len(words.first_names), n_users), ctx.rng.integers(0, len(words.last_names), n_users))


def generate(
    ctx: Context, members: Members, names: Names, password_hash: str, activity: Iterable[tuple[np.ndarray, np.ndarray]],
) -> Table:
    """The users, each created before the first of their `activity` rows ((owner, moment) arrays per table)."""
    rng, n_users = ctx.rng, ctx.counts["users"]
    first_seen = np.full(n_users + 1, PERIOD_SECONDS, dtype=np.int64)
    for owner, moment in activity:
        np.minimum.at(first_seen, owner, moment)
    created = (rng.random(n_users + 1) * first_seen).astype(np.int64)[1:]
    row = np.arange(n_users)
    return Table("users", ("id", "email", "full_name", "skills", "team_id", "is_active", "created_at", "password_hash"), n_users, [
        (ctx.ids, row + 1),
        (pool([seed_email(i) for i in range(1, n_users + 1)]), row),
        (pool(ctx.words.first_names, " "), names.first),
        (pool(ctx.words.last_names), names.last),
        (raw_pool(ctx.stacks.literals), ctx.stacks.pick(ctx.sampler, members.family)),
        (ctx.ids, np.where(rng.random(n_users) < 0.7, 1 + rng.integers(0, max(1, n_users // 25), n_users), 0)),
        (pool(("f", "t")), (rng.random(n_users) < 0.93).astype(np.int64)),
        *ctx.clock.timestamp(created),
        constant(pool([password_hash], "\n")[0], n_users),
    ])
