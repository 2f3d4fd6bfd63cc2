"""Distinct job postings, rendered once as the tail of a jobs row; job rows point at them.

One posting is tracked by several users or scraped twice: those rows share it,
and with it `job_fingerprint` (about half the rows are duplicates, as the
scraper sees). Companies follow Zipf's law, salaries are log-normal around a
median per experience level, postings are EU ones (local language or English).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foundation.fingerprint import digest, normalise
from seed_data import pools as vocab
from seed_data.copytext import NULL
from seed_data.generators.sampling import Sampler, normalised, zipf
from seed_data.generators.stacks import Stacks

# Distinct postings per job row: ~45 % of rows end up duplicating another's fingerprint.
POSTINGS_PER_JOB = 0.55
# Probability that a posting of each market is in the market's first language.
MARKET_FIRST_LANGUAGE_P = tuple(weights[0] for _, _, weights in vocab.MARKETS.values())
POSTING_COLUMNS = (
    "company", "title", "location", "description", "tech_stack", "salary_min", "salary_max",
    "experience_level", "funding_stage", "job_language", "remote", "job_fingerprint",
)


class Segments:
    """The postings' COPY text, rendered the first time a chunk of job rows needs it.

    Rendering every posting up front (an f-string and an md5 each) delayed the
    first COPY byte by about 0.6 s at scale 10 while the server sat idle;
    rendered per chunk, it overlaps the server's parsing of the previous
    chunks. The text of a posting does not depend on when it is rendered.
    """

    def __init__(self, columns: list[tuple[np.ndarray, np.ndarray]], count: int) -> None:
        self._columns = columns  # (text per value, value per posting), in segment order
        self._text = np.empty(count, dtype=object)
        self._ready = np.zeros(count, dtype=bool)

    def __len__(self) -> int:
        return len(self._text)

    def __getitem__(self, index: np.ndarray) -> np.ndarray:
        missing = np.unique(index[~self._ready[index]])
        if len(missing):
            self._text[missing] = self._render(missing)
            self._ready[missing] = True
        return self._text[index]

    def _render(self, postings: np.ndarray) -> list[bytes]:
        # One f-string over pre-gathered lists: the only per-row Python work of
        # the jobs table (postings ≈ half its rows). Descriptions are a one-line
        # summary (a duty and the stack), not a page of text: to_tsvector costs
        # about 1 µs per word in the GIN build and at ANALYZE, so every extra
        # word is about 0.5 s per 500,000 jobs.
        return [
            f"{co}\t{ti}\t{ci}\t{p1} Stack: {sentence}.\t"
            f"{literal}\t{salary}\t{lv}{fund}\t{lang}\t{rem}\t{digest(co_key, ti_key, ci_key)}\n".encode()
            for co, co_key, ti, ti_key, ci, ci_key, p1, sentence, literal, lv, fund, lang, rem, salary
            in zip(*(text[value[postings]].tolist() for text, value in self._columns))
        ]


@dataclass(frozen=True)
class Postings:
    """Distinct job postings, sorted by role family."""

    segment: Segments         # COPY text of the posting columns, ending the row
    company: list[str]        # raw company and title, for the generated cover letters
    title: list[str]
    family_start: np.ndarray  # first posting of each family
    family_count: np.ndarray


def build_postings(sampler: Sampler, words: vocab.Pools, stacks: Stacks, count: int) -> Postings:
    """Sample `count` postings; their text is rendered later, by the chunks that need it."""
    rng = sampler.rng
    families = len(vocab.ROLE_FAMILIES)
    family_count = rng.multinomial(count, normalised(vocab.FAMILY_WEIGHTS))
    family = np.repeat(np.arange(families), family_count)
    company = rng.choice(len(words.companies), size=count, p=zipf(len(words.companies)))
    company_funding = sampler.choice(vocab.FUNDING_WEIGHTS, len(words.companies))
    level = sampler.choice(vocab.EXPERIENCE_WEIGHTS, count)
    role = rng.integers(0, 1 << 30, size=count)
    market = sampler.choice(vocab.MARKET_WEIGHTS, count)
    cities_per_market = np.bincount(words.city_market, minlength=len(vocab.MARKETS))
    city_start = np.concatenate(([0], np.cumsum(cities_per_market)[:-1]))
    city_rank = rng.choice(cities_per_market.max(), size=count, p=zipf(int(cities_per_market.max())))
    city = city_start[market] + city_rank % cities_per_market[market]
    second_language = rng.random(count) >= np.asarray(MARKET_FIRST_LANGUAGE_P)[market]
    remote = rng.random(count) < 0.22
    paid = rng.random(count) < 0.65
    salary_min = np.round(rng.lognormal(np.log(np.asarray(vocab.SALARY_MEDIANS)[level]), vocab.SALARY_SIGMA), -3)
    salary_max = np.round(salary_min * rng.uniform(1.1, 1.35, size=count), -3)
    stack = stacks.pick(sampler, family)
    phrase = rng.integers(0, len(words.phrases), size=count)

    def text(values: list[str]) -> np.ndarray:
        return np.asarray(values, dtype=object)

    esc = vocab.copy_escape
    titles, title_base = [], []
    for family_titles, _ in vocab.ROLE_FAMILIES.values():
        title_base.append(len(titles))
        titles += [vocab.TITLE_PREFIX[name] + role for name in vocab.EXPERIENCE_LEVELS for role in family_titles]
    per_family = np.asarray([len(t) for t, _ in vocab.ROLE_FAMILIES.values()])
    title = np.asarray(title_base)[family] + level * per_family[family] + role % per_family[family]
    language = np.where(second_language, 1, 0) + 2 * market
    salary = np.where(paid, np.arange(count), count)  # row `count` of the salary text is the NULL pair
    salary_text = [f"{low}\t{high}" for low, high in zip(salary_min.astype(np.int64).tolist(), salary_max.astype(np.int64).tolist())]
    columns = [
        (text([esc(c) for c in words.companies]), company),
        (text([normalise(c) for c in words.companies]), company),
        (text([esc(t) for t in titles]), title),
        (text([normalise(t) for t in titles]), title),
        (text([esc(c) for c in words.cities]), city),
        (text([normalise(c) for c in words.cities]), city),
        (text([esc(p) for p in words.phrases]), phrase),
        (text(stacks.sentences), stack),
        (text(stacks.literals), stack),
        (text([f"{vocab.EXPERIENCE_LEVELS[lv]}\t" for lv in range(len(vocab.EXPERIENCE_LEVELS))]), level),
        (text([vocab.FUNDING_STAGES[f] for f in company_funding.tolist()]), company),
        (text([lang for _, langs, _ in vocab.MARKETS.values() for lang in (langs[0], langs[-1])]), language),
        (text(["f", "t"]), remote.astype(np.int64)),
        (text([*salary_text, f"{NULL}\t{NULL}"]), salary),
    ]
    return Postings(
        segment=Segments(columns, count),
        company=text(words.companies)[company].tolist(),
        title=text(titles)[title].tolist(),
        family_start=np.concatenate(([0], np.cumsum(family_count)[:-1])),
        family_count=family_count,
    )
