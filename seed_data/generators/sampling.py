"""The seeded random source and the draws every table makes with it.

One `numpy.random.default_rng(seed)` serves every table, in a fixed order
(see the package's `generate`): same seed → same draws → same bytes.
"""

from __future__ import annotations

import numpy as np

from seed_data.copytext import DAY, PERIOD_DAYS, PERIOD_SECONDS, PERIOD_START

# Relative activity per weekday (Monday first) and per UTC hour (EU working day).
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.0, 0.95, 0.8, 0.3, 0.25)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 10, 8, 10, 11, 11, 10, 8, 6, 5, 5, 4, 3, 2)


def zipf(count: int, exponent: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Zipf probabilities over ranks 1..count: p ∝ 1 / (rank + offset) ** exponent."""
    weights = 1.0 / (np.arange(1, count + 1) + offset) ** exponent
    return weights / weights.sum()


def normalised(weights: tuple[float, ...] | np.ndarray) -> np.ndarray:
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum()


class Sampler:
    """The seeded random source plus the time rhythm, shared by all tables."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        first_weekday = PERIOD_START.weekday()
        day = np.arange(PERIOD_DAYS)
        weekday = np.asarray(WEEKDAY_WEIGHTS)[(first_weekday + day) % 7]
        trend = 0.6 + 0.4 * day / PERIOD_DAYS  # the platform grows over the year
        self.day_p = normalised(weekday * trend)
        self.hour_p = normalised(HOUR_WEIGHTS)

    def instants(self, count: int) -> np.ndarray:
        """Seconds since PERIOD_START with the weekday and working-hour rhythm."""
        days = self.rng.choice(PERIOD_DAYS, size=count, p=self.day_p)
        hours = self.rng.choice(24, size=count, p=self.hour_p)
        return days * DAY + hours * 3600 + self.rng.integers(0, 3600, size=count)

    def later(self, start: np.ndarray, mean_seconds: float) -> np.ndarray:
        """A moment an exponential delay after `start`, kept inside the period."""
        delay = self.rng.exponential(mean_seconds, size=start.shape).astype(np.int64)
        return np.minimum(start + delay, PERIOD_SECONDS - 1)

    def choice(self, weights: tuple[float, ...] | np.ndarray, count: int) -> np.ndarray:
        return self.rng.choice(len(weights), size=count, p=normalised(weights))

    def pick_owned(self, row_owner: np.ndarray, owners: np.ndarray, n_owners: int) -> np.ndarray:
        """For each owner in `owners` (1-based), a random row (1-based id) it owns, 0 when it owns none."""
        by_owner = np.argsort(row_owner, kind="stable")
        owned = np.bincount(row_owner, minlength=n_owners + 1)
        first = np.concatenate(([0], np.cumsum(owned)[:-1]))
        count = owned[owners]
        offset = (self.rng.random(len(owners)) * count).astype(np.int64)
        return np.where(count > 0, by_owner[np.minimum(first[owners] + offset, len(row_owner) - 1)] + 1, 0)


def in_time_order(order_key: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """Columns reordered by `order_key`, so ids grow with time as in a live database."""
    order = np.argsort(order_key, kind="stable")
    return [order_key[order], *(column[order] for column in columns)]
