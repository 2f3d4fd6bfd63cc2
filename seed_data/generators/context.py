"""What every table's generator shares: row counts, the one random stream, vocabulary, pools.

The tables are generated one after the other from one Context, each drawing
from `sampler` in turn, so the order of the generators is part of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.copytext import Clock, Column, numbers, raw_pool
from seed_data.generators.postings import POSTINGS_PER_JOB, Postings, build_postings
from seed_data.generators.sampling import Sampler
from seed_data.generators.stacks import Stacks

# Rows per unit of scale, like pgbench's 100,000 accounts per scale.
ROWS_PER_SCALE = {
    "users": 1_000,
    "jobs": 50_000,
    "applications": 20_000,
    "activity_logs": 100_000,
    "content_generations": 3_000,
    "scrape_tasks": 200,
}


def row_counts(scale: float) -> dict[str, int]:
    """Rows per table at a scale (at least one of each, so tiny scales stay consistent)."""
    return {table: max(1, round(per_scale * scale)) for table, per_scale in ROWS_PER_SCALE.items()}


def per_row(values: np.ndarray) -> Column:
    """A numeric column of a small table, rendered row by row."""
    return raw_pool(values.astype(str).tolist()), np.arange(len(values))


@dataclass(frozen=True)
class Context:
    """The state shared by the table generators; `build` makes the draws that precede every table."""

    counts: dict[str, int]
    sampler: Sampler
    words: vocab.Pools
    clock: Clock
    stacks: Stacks
    postings: Postings
    ids: np.ndarray  # numbers(): decimal text of ids and foreign keys, index 0 = NULL

    @classmethod
    def build(cls, scale: float, seed: int) -> Context:
        counts = row_counts(scale)
        sampler = Sampler(seed)
        words = vocab.build(seed)
        stacks = Stacks.build(sampler)
        return cls(
            counts=counts,
            sampler=sampler,
            words=words,
            clock=Clock.build(),
            stacks=stacks,
            postings=build_postings(sampler, words, stacks, max(1, round(counts["jobs"] * POSTINGS_PER_JOB))),
            ids=numbers(max(counts.values()) + 1),
        )

    @property
    def rng(self) -> np.random.Generator:
        return self.sampler.rng
