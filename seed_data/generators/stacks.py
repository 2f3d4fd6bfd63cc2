"""Technology stacks per role family, shared by postings (tech_stack) and users (skills).

Sharing one set of stacks makes a user's skills overlap the tech stacks of the
jobs of their family, the way the recommendations query expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed_data import pools as vocab
from seed_data.generators.sampling import Sampler, zipf

STACKS_PER_FAMILY = 300


@dataclass(frozen=True)
class Stacks:
    """STACKS_PER_FAMILY stacks per role family, family-major, in two renderings."""

    literals: list[str]       # text[] literals
    sentences: list[str]      # "Python, Django and PostgreSQL"

    @classmethod
    def build(cls, sampler: Sampler) -> Stacks:
        literals, sentences = [], []
        for _, techs in vocab.ROLE_FAMILIES.values():
            popularity = zipf(len(techs), 0.8)
            for _ in range(STACKS_PER_FAMILY):
                size = int(sampler.rng.integers(3, 8))
                chosen = [techs[i] for i in sorted(sampler.rng.choice(len(techs), size, replace=False, p=popularity))]
                literals.append(vocab.array_literal(chosen))
                sentences.append(", ".join(chosen[:-1]) + " and " + chosen[-1])
        return cls(literals, sentences)

    def pick(self, sampler: Sampler, families: np.ndarray) -> np.ndarray:
        """A stack index for each row, within the row's family, popular stacks first."""
        within = sampler.rng.choice(STACKS_PER_FAMILY, size=len(families), p=zipf(STACKS_PER_FAMILY, 0.7))
        return families * STACKS_PER_FAMILY + within
