"""Production-like rows for every careerload table, sampled with numpy.

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

Everything is drawn from one `numpy.random.default_rng(seed)` in a fixed order,
and the vocabulary from a Faker seeded with the same seed: same seed → same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import get_args

import numpy as np

from seed_data import pools as vocab
from foundation.logins import seed_email
from seed_data.copytext import (
    DAY,
    NULL,
    PERIOD_DAYS,
    PERIOD_SECONDS,
    PERIOD_START,
    Clock,
    Column,
    Table,
    constant,
    numbers,
    pool,
    raw_pool,
)
from target_api.schemas import ApplicationStatus, JobStatus

# The status vocabularies are the backend's (target_api.schemas): the seed only
# chooses which of them it writes and how often, so it can never write a value
# the API would reject or that a persona's filter does not know.
# Share of jobs per status, skewed towards not_applied as in real trackers. The
# schema's other values ("accepted", "withdrawn") are only reached by later edits.
JOB_STATUS_SHARE: dict[JobStatus, float] = {
    "not_applied": 0.5, "applied": 0.21, "interviewing": 0.08, "offer": 0.02, "rejected": 0.14, "archived": 0.05,
}
# Job status → the status of its application (jobs in other statuses have none).
APPLICATION_STATUS: dict[JobStatus, ApplicationStatus] = {
    "applied": "submitted", "interviewing": "interview", "offer": "offer", "rejected": "rejected",
}
# Type checkers verify the keys and values above; this catches a schema edit at import time.
_unknown = ((set(JOB_STATUS_SHARE) | set(APPLICATION_STATUS)) - set(get_args(JobStatus))) | (
    set(APPLICATION_STATUS.values()) - set(get_args(ApplicationStatus)))
if _unknown:
    raise ValueError(f"seed statuses {sorted(_unknown)} are not in target_api.schemas")
# In the schema's order; the index of a status here is what the seed stores per row.
JOB_STATUSES = tuple(s for s in get_args(JobStatus) if s in JOB_STATUS_SHARE)
JOB_STATUS_WEIGHTS = tuple(JOB_STATUS_SHARE[s] for s in JOB_STATUSES)
SOURCES = ("linkedin", "indeed", "scraper", "manual", "company_site")
SOURCE_WEIGHTS = (0.34, 0.2, 0.22, 0.14, 0.1)
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
CONTENT_TYPES = ("cover_letter", "follow_up_email")

# Rows per unit of scale, like pgbench's 100,000 accounts per scale.
ROWS_PER_SCALE = {
    "users": 1_000,
    "jobs": 50_000,
    "applications": 20_000,
    "activity_logs": 100_000,
    "content_generations": 3_000,
    "scrape_tasks": 200,
}
# Distinct postings per job row: ~45 % of rows end up duplicating another's fingerprint.
POSTINGS_PER_JOB = 0.55
STACKS_PER_FAMILY = 300
# Probability that a posting of each market is in the market's first language.
MARKET_FIRST_LANGUAGE_P = tuple(weights[0] for _, _, weights in vocab.MARKETS.values())

# Relative activity per weekday (Monday first) and per UTC hour (EU working day).
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.0, 0.95, 0.8, 0.3, 0.25)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 10, 8, 10, 11, 11, 10, 8, 6, 5, 5, 4, 3, 2)


def fingerprint(company: str, title: str, location: str | None) -> str:
    """Deduplication key of a posting: md5 of its normalised company, title and location."""
    key = "|".join(part.strip().lower() for part in (company, title, location or ""))
    return hashlib.md5(key.encode()).hexdigest()


def row_counts(scale: float) -> dict[str, int]:
    """Rows per table at a scale (at least one of each, so tiny scales stay consistent)."""
    return {table: max(1, round(per_scale * scale)) for table, per_scale in ROWS_PER_SCALE.items()}


def _zipf(count: int, exponent: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Zipf probabilities over ranks 1..count: p ∝ 1 / (rank + offset) ** exponent."""
    weights = 1.0 / (np.arange(1, count + 1) + offset) ** exponent
    return weights / weights.sum()


def _normalised(weights: tuple[float, ...] | np.ndarray) -> np.ndarray:
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
        self.day_p = _normalised(weekday * trend)
        self.hour_p = _normalised(HOUR_WEIGHTS)

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
        return self.rng.choice(len(weights), size=count, p=_normalised(weights))


@dataclass(frozen=True)
class Stacks:
    """Technology stacks per role family, shared by postings (tech_stack) and users (skills)."""

    literals: list[str]       # text[] literals, STACKS_PER_FAMILY per family, family-major
    sentences: list[str]      # "Python, Django and PostgreSQL"

    @classmethod
    def build(cls, sampler: Sampler) -> Stacks:
        literals, sentences = [], []
        for _, techs in vocab.ROLE_FAMILIES.values():
            popularity = _zipf(len(techs), 0.8)
            for _ in range(STACKS_PER_FAMILY):
                size = int(sampler.rng.integers(3, 8))
                chosen = [techs[i] for i in sorted(sampler.rng.choice(len(techs), size, replace=False, p=popularity))]
                literals.append(vocab.array_literal(chosen))
                sentences.append(", ".join(chosen[:-1]) + " and " + chosen[-1])
        return cls(literals, sentences)

    def pick(self, sampler: Sampler, families: np.ndarray) -> np.ndarray:
        """A stack index for each row, within the row's family, popular stacks first."""
        within = sampler.rng.choice(STACKS_PER_FAMILY, size=len(families), p=_zipf(STACKS_PER_FAMILY, 0.7))
        return families * STACKS_PER_FAMILY + within


@dataclass(frozen=True)
class Postings:
    """Distinct job postings, sorted by role family; job rows point at them."""

    segment: np.ndarray       # COPY text of the posting columns, ending the row
    company: list[str]        # raw company and title, for the generated cover letters
    title: list[str]
    family_start: np.ndarray  # first posting of each family
    family_count: np.ndarray


POSTING_COLUMNS = (
    "company", "title", "location", "description", "tech_stack", "salary_min", "salary_max",
    "experience_level", "funding_stage", "job_language", "remote", "job_fingerprint",
)


def build_postings(sampler: Sampler, words: vocab.Pools, stacks: Stacks, count: int) -> Postings:
    """Sample `count` postings and render their columns once (rows reuse the text)."""
    rng = sampler.rng
    families = len(vocab.ROLE_FAMILIES)
    family_count = rng.multinomial(count, _normalised(vocab.FAMILY_WEIGHTS))
    family = np.repeat(np.arange(families), family_count)
    company = rng.choice(len(words.companies), size=count, p=_zipf(len(words.companies)))
    company_funding = sampler.choice(vocab.FUNDING_WEIGHTS, len(words.companies))
    level = sampler.choice(vocab.EXPERIENCE_WEIGHTS, count)
    role = rng.integers(0, 1 << 30, size=count)
    market = sampler.choice(vocab.MARKET_WEIGHTS, count)
    cities_per_market = np.bincount(words.city_market, minlength=len(vocab.MARKETS))
    city_start = np.concatenate(([0], np.cumsum(cities_per_market)[:-1]))
    city_rank = rng.choice(cities_per_market.max(), size=count, p=_zipf(int(cities_per_market.max())))
    city = city_start[market] + city_rank % cities_per_market[market]
    second_language = rng.random(count) >= np.asarray(MARKET_FIRST_LANGUAGE_P)[market]
    remote = rng.random(count) < 0.22
    paid = rng.random(count) < 0.65
    salary_min = np.round(rng.lognormal(np.log(np.asarray(vocab.SALARY_MEDIANS)[level]), vocab.SALARY_SIGMA), -3)
    salary_max = np.round(salary_min * rng.uniform(1.1, 1.35, size=count), -3)
    stack = stacks.pick(sampler, family)
    phrase = rng.integers(0, len(words.phrases), size=count)

    # Render each posting with one f-string over pre-gathered lists: this loop is
    # the only per-row Python work of the jobs table (postings ≈ half its rows).
    def gather(values: list[str], index: np.ndarray) -> list[str]:
        return np.asarray(values, dtype=object)[index].tolist()

    esc = vocab.copy_escape
    titles, title_base = [], []
    for family_titles, _ in vocab.ROLE_FAMILIES.values():
        title_base.append(len(titles))
        titles += [vocab.TITLE_PREFIX[name] + role for name in vocab.EXPERIENCE_LEVELS for role in family_titles]
    per_family = np.asarray([len(t) for t, _ in vocab.ROLE_FAMILIES.values()])
    title = np.asarray(title_base)[family] + level * per_family[family] + role % per_family[family]
    language = np.where(second_language, 1, 0) + 2 * market
    columns = zip(
        gather([esc(c) for c in words.companies], company),
        gather([c.strip().lower() for c in words.companies], company),
        gather([esc(t) for t in titles], title),
        gather([t.lower() for t in titles], title),
        gather([esc(c) for c in words.cities], city),
        gather([c.strip().lower() for c in words.cities], city),
        gather([esc(p) for p in words.phrases], phrase),
        gather(stacks.sentences, stack),
        gather(stacks.literals, stack),
        gather([f"{vocab.EXPERIENCE_LEVELS[lv]}\t" for lv in range(len(vocab.EXPERIENCE_LEVELS))], level),
        gather([vocab.FUNDING_STAGES[f] for f in company_funding.tolist()], company),
        gather([lang for _, langs, _ in vocab.MARKETS.values() for lang in (langs[0], langs[-1])], language),
        ["t" if flag else "f" for flag in remote.tolist()],
        [f"{low}\t{high}" if is_paid else f"{NULL}\t{NULL}" for low, high, is_paid in
         zip(salary_min.astype(np.int64).tolist(), salary_max.astype(np.int64).tolist(), paid.tolist())],
    )
    # Descriptions are a one-line summary (a duty and the stack), not a page of
    # text: to_tsvector costs about 1 µs per word in the GIN build and at ANALYZE,
    # so every extra word is about 0.5 s per 500,000 jobs.
    md5 = hashlib.md5
    segments = [
        f"{co}\t{ti}\t{ci}\t{p1} Stack: {sentence}.\t"
        f"{literal}\t{salary}\t{lv}{fund}\t{lang}\t{rem}\t{md5(f'{co_key}|{ti_key}|{ci_key}'.encode()).hexdigest()}\n".encode()
        for co, co_key, ti, ti_key, ci, ci_key, p1, sentence, literal, lv, fund, lang, rem, salary in columns
    ]
    return Postings(
        segment=np.asarray(segments, dtype=object),
        company=gather(words.companies, company),
        title=gather(titles, title),
        family_start=np.concatenate(([0], np.cumsum(family_count)[:-1])),
        family_count=family_count,
    )


def _pick_owned(sampler: Sampler, row_owner: np.ndarray, owners: np.ndarray, n_owners: int) -> np.ndarray:
    """For each owner in `owners` (1-based), a random row (1-based id) it owns, 0 when it owns none."""
    by_owner = np.argsort(row_owner, kind="stable")
    owned = np.bincount(row_owner, minlength=n_owners + 1)
    first = np.concatenate(([0], np.cumsum(owned)[:-1]))
    count = owned[owners]
    offset = (sampler.rng.random(len(owners)) * count).astype(np.int64)
    return np.where(count > 0, by_owner[np.minimum(first[owners] + offset, len(row_owner) - 1)] + 1, 0)


def _per_row(values: np.ndarray) -> Column:
    """A numeric column of a small table, rendered row by row."""
    return raw_pool(values.astype(str).tolist()), np.arange(len(values))


def _sorted(order_key: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """Columns reordered by `order_key`, so ids grow with time as in a live database."""
    order = np.argsort(order_key, kind="stable")
    return [order_key[order], *(column[order] for column in columns)]


def generate(scale: float, seed: int, password_hash: str) -> Iterator[Table]:
    """Every table's rows at `scale`, each yielded as soon as it is sampled.

    Keys are built after the load, so tables need not come parents first: jobs
    come first (the biggest COPY overlaps the sampling of the others) and users
    last (their sign-up precedes their first activity in every other table).
    """
    counts = row_counts(scale)
    sampler = Sampler(seed)
    rng = sampler.rng
    words = vocab.build(seed)
    clock = Clock.build()
    stacks = Stacks.build(sampler)
    postings = build_postings(sampler, words, stacks, max(1, round(counts["jobs"] * POSTINGS_PER_JOB)))
    ids = numbers(max(counts.values()) + 1)
    n_users, n_jobs = counts["users"], counts["jobs"]

    # Users' background and how many jobs each tracks (power law over a random ranking).
    user_family = sampler.choice(vocab.FAMILY_WEIGHTS, n_users)
    jobs_per_user = rng.multinomial(n_jobs, _zipf(n_users, 1.0, offset=1.0)[rng.permutation(n_users)])

    # Jobs: a user's own family most of the time, postings shared between users.
    job_created, job_user = _sorted(sampler.instants(n_jobs), np.repeat(np.arange(1, n_users + 1), jobs_per_user))
    family = np.where(rng.random(n_jobs) < 0.7, user_family[job_user - 1], sampler.choice(vocab.FAMILY_WEIGHTS, n_jobs))
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
        applied, np.minimum(job_created // DAY + rng.geometric(1 / 3, n_jobs) - 1, PERIOD_DAYS - 1), -1
    )
    job_updated = sampler.later(np.maximum(job_created, applied_day * DAY + 12 * 3600), np.where(status == 0, DAY, 8 * DAY))
    jobs = Table("jobs", ("id", "user_id", "status", "source", "created_at", "updated_at", "date_applied", *POSTING_COLUMNS), n_jobs, [
        (ids, np.arange(1, n_jobs + 1)),
        (ids, job_user),
        (pool(JOB_STATUSES), status),
        (pool(SOURCES), sampler.choice(SOURCE_WEIGHTS, n_jobs)),
        *clock.timestamp(job_created),
        *clock.timestamp(job_updated),
        clock.date(applied_day),
        (postings.segment, posting),
    ])

    yield jobs

    # Applications: one per applied job, for the job's owner, on the day it was applied.
    eligible = np.flatnonzero(applied)
    chosen = np.sort(rng.choice(eligible, size=min(counts["applications"], len(eligible)), replace=False))
    app_statuses = tuple(APPLICATION_STATUS.values())
    status_map = np.asarray([app_statuses.index(APPLICATION_STATUS[s]) if s in APPLICATION_STATUS else 0 for s in JOB_STATUSES])
    time_of_day = sampler.choice(HOUR_WEIGHTS, len(chosen)) * 3600 + rng.integers(0, 3600, len(chosen))
    app_at = np.minimum(np.maximum(applied_day[chosen] * DAY + time_of_day, job_created[chosen] + 60), PERIOD_SECONDS - 1)
    app_at, app_job = _sorted(app_at, chosen)
    n_apps = len(app_job)
    app_user = job_user[app_job]
    has_note = rng.random(n_apps) < 0.35
    applications = Table("applications", ("id", "user_id", "job_id", "status", "applied_at", "updated_at", "notes"), n_apps, [
        (ids, np.arange(1, n_apps + 1)),
        (ids, app_user),
        (ids, app_job + 1),
        (pool(app_statuses), status_map[status[app_job]]),
        *clock.timestamp(app_at),
        *clock.timestamp(sampler.later(app_at, 10 * DAY)),
        (pool([None, *words.notes], "\n"),
         np.where(has_note, 1 + rng.integers(0, len(words.notes), n_apps), 0)),
    ])

    yield applications

    # Activity logs: busier users log more; job actions name one of the user's jobs.
    n_logs = counts["activity_logs"]
    log_user = 1 + sampler.choice(jobs_per_user + 10.0, n_logs)
    log_created, log_user, action = _sorted(
        sampler.instants(n_logs), log_user, sampler.choice(tuple(w for _, _, w in LOG_ACTIONS), n_logs)
    )
    entity_types = [entity for _, entity, _ in LOG_ACTIONS]
    action_names = [name for name, _, _ in LOG_ACTIONS]
    job_action = np.asarray([entity == "job" for entity in entity_types])[action]
    app_action = np.asarray([entity == "application" for entity in entity_types])[action]
    entity = np.where(job_action, _pick_owned(sampler, job_user, log_user, n_users), 0)
    entity = np.where(app_action, _pick_owned(sampler, app_user, log_user, n_users), entity)
    queries = [f"q={tech.lower()} {city.split(',')[0]}" for tech in sorted({t for _, ts in vocab.ROLE_FAMILIES.values() for t in ts})
               for city in words.cities[:: max(1, len(words.cities) // 12)]]
    search = action == action_names.index("search_jobs")
    update = action == action_names.index("update_job")
    details = np.where(search, 1 + rng.integers(0, len(queries), n_logs), 0)
    details = np.where(update, 1 + len(queries) + sampler.choice(JOB_STATUS_WEIGHTS, n_logs), details)
    activity_logs = Table("activity_logs", ("id", "user_id", "action", "entity_type", "entity_id", "created_at", "details"), n_logs, [
        (ids, np.arange(1, n_logs + 1)),
        (ids, log_user),
        (raw_pool([f"{name}\t{entity}" for name, entity, _ in LOG_ACTIONS]), action),
        (ids, entity),
        *clock.timestamp(log_created),
        (pool([None, *queries, *(f"status={s}" for s in JOB_STATUSES)], "\n"), details),
    ])

    yield activity_logs

    # Content generations: cover letters, mostly for jobs the user applied to.
    n_gens = counts["content_generations"]
    any_job = rng.integers(0, n_jobs, n_gens)
    applied_job = eligible[rng.integers(0, len(eligible), n_gens)] if len(eligible) else any_job
    gen_job = np.where(rng.random(n_gens) < 0.6, applied_job, any_job)
    gen_created, gen_job = _sorted(sampler.later(job_created[gen_job], 3 * DAY), gen_job)
    gen_user = job_user[gen_job]
    first = rng.integers(0, len(words.first_names), n_users)
    last = rng.integers(0, len(words.last_names), n_users)
    content_type = sampler.choice((0.85, 0.15), n_gens)
    paragraph = rng.integers(0, len(words.paragraphs), size=(n_gens, 2))
    letters = []
    for kind, p, user, (p1, p2) in zip(content_type.tolist(), posting[gen_job].tolist(), gen_user.tolist(), paragraph.tolist()):
        name = f"{words.first_names[first[user - 1]]} {words.last_names[last[user - 1]]}"
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
    content_generations = Table(
        "content_generations",
        ("id", "user_id", "job_id", "content_type", "style", "tokens", "latency_ms", "created_at", "content"), n_gens, [
            (ids, row + 1),
            (ids, gen_user),
            (ids, gen_job + 1),
            (raw_pool([f"{kind}\t{style}" for kind in CONTENT_TYPES for style in vocab.STYLES]),
             content_type * len(vocab.STYLES) + sampler.choice((0.5, 0.2, 0.15, 0.15), n_gens)),
            _per_row(tokens),
            _per_row(latency),
            *clock.timestamp(gen_created),
            (pool(letters, "\n"), row),
        ])

    yield content_generations

    # Scrape tasks: finished runs (the backend's workers never see them as queued),
    # 40-60 % of what they scraped already known.
    n_tasks = counts["scrape_tasks"]
    task_user = 1 + sampler.choice(jobs_per_user + 1.0, n_tasks)
    task_created, task_user = _sorted(sampler.instants(n_tasks), task_user)
    max_results = np.asarray([10, 25, 50, 100])[sampler.choice((0.2, 0.4, 0.3, 0.1), n_tasks)]
    failed = rng.random(n_tasks) < 0.08
    scraped = np.where(failed, 0, rng.binomial(max_results, 0.85))
    deduplicated = rng.binomial(scraped, rng.uniform(0.4, 0.6, n_tasks))
    started = np.minimum(task_created + rng.integers(0, 5, n_tasks), PERIOD_SECONDS - 1)
    finished = np.minimum(started + np.round(rng.lognormal(np.log(40), 0.5, n_tasks)).astype(np.int64), PERIOD_SECONDS - 1)
    task_ids = [f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}" for h in (rng.bytes(16).hex() for _ in range(n_tasks))]
    keywords = [f"{tech} {titles[0]}".lower() for titles, techs in vocab.ROLE_FAMILIES.values() for tech in techs]
    row = np.arange(n_tasks)
    scrape_tasks = Table(
        "scrape_tasks",
        ("id", "user_id", "keywords", "location", "max_results", "status", "jobs_scraped", "jobs_added",
         "jobs_deduplicated", "error", "created_at", "started_at", "finished_at"), n_tasks, [
            (pool(task_ids), row),
            (ids, task_user),
            (pool(keywords), rng.integers(0, len(keywords), n_tasks)),
            (pool([None, *words.cities]), np.where(rng.random(n_tasks) < 0.8, 1 + rng.integers(0, len(words.cities), n_tasks), 0)),
            _per_row(max_results),
            (pool(("done", "failed")), failed.astype(np.int64)),
            _per_row(scraped),
            _per_row(scraped - deduplicated),
            _per_row(deduplicated),
            (pool([None, "source timed out after 30 s"]), failed.astype(np.int64)),
            *clock.timestamp(task_created),
            *clock.timestamp(started),
            *clock.timestamp(finished, "\n"),
        ])

    yield scrape_tasks

    # Users last: created before their first recorded activity.
    first_seen = np.full(n_users + 1, PERIOD_SECONDS, dtype=np.int64)
    for owner, moment in ((job_user, job_created), (log_user, log_created), (task_user, task_created)):
        np.minimum.at(first_seen, owner, moment)
    user_created = (rng.random(n_users + 1) * first_seen).astype(np.int64)[1:]
    user_row = np.arange(n_users)
    users = Table("users", ("id", "email", "full_name", "skills", "team_id", "is_active", "created_at", "password_hash"), n_users, [
        (ids, user_row + 1),
        (pool([seed_email(i) for i in range(1, n_users + 1)]), user_row),
        (pool(words.first_names, " "), first),
        (pool(words.last_names), last),
        (raw_pool(stacks.literals), stacks.pick(sampler, user_family)),
        (ids, np.where(rng.random(n_users) < 0.7, 1 + rng.integers(0, max(1, n_users // 25), n_users), 0)),
        (pool(("f", "t")), (rng.random(n_users) < 0.93).astype(np.int64)),
        *clock.timestamp(user_created),
        constant(pool([password_hash], "\n")[0], n_users),
    ])
    yield users
