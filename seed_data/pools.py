"""Vocabulary pools: every word the seed writes, drawn from a seeded Faker once.

Calling Faker once per row manages about 7,000 rows/s, a hundred times too slow
for scale 10, so Faker is only asked for a few thousand names, companies, cities
and phrases up front; the generators then sample indices into these pools with
numpy. Pool entries are stored already escaped for COPY's text format, so the
formatter can paste them without looking at them again.

Same seed and same Faker version → same pools (Faker's data files can change
between releases; the project pins faker>=30 and the venv holds one version),
in any process: Faker lists that it builds from a set, whose order follows the
per-process string hash, are sorted before the first draw (`_fix_set_order`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker

# EU markets the synthetic job boards cover: Faker locale → (country, job languages, weights).
# Postings are mostly in the local language, with English the usual second language.
MARKETS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "de_DE": ("Germany", ("de", "en"), (0.55, 0.45)),
    "fr_FR": ("France", ("fr", "en"), (0.7, 0.3)),
    "nl_NL": ("Netherlands", ("en", "nl"), (0.65, 0.35)),
    "es_ES": ("Spain", ("es", "en"), (0.6, 0.4)),
    "it_IT": ("Italy", ("it", "en"), (0.65, 0.35)),
    "pl_PL": ("Poland", ("pl", "en"), (0.4, 0.6)),
    "sv_SE": ("Sweden", ("en", "sv"), (0.6, 0.4)),
    "en_IE": ("Ireland", ("en",), (1.0,)),
    "en_GB": ("United Kingdom", ("en",), (1.0,)),
}
# Share of postings per market (larger job markets first), used by the generators.
MARKET_WEIGHTS = (0.24, 0.13, 0.11, 0.1, 0.07, 0.08, 0.06, 0.05, 0.16)

# Role families: the titles and the technologies that go with them, so a user's
# skills and a job's tech stack overlap the way the recommendations query expects.
ROLE_FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "backend": (
        ("Backend Engineer", "Software Engineer", "Python Developer", "Java Developer", "Go Developer",
         "API Engineer", "Platform Engineer"),
        ("Python", "Java", "Go", "PostgreSQL", "Redis", "Django", "FastAPI", "Spring Boot", "Kafka",
         "Docker", "Kubernetes", "AWS", "gRPC", "Node.js", "Kotlin", "MySQL", "RabbitMQ", "Rust"),
    ),
    "frontend": (
        ("Frontend Engineer", "React Developer", "UI Engineer", "Web Developer", "Full Stack Engineer"),
        ("JavaScript", "TypeScript", "React", "Vue.js", "Angular", "Next.js", "CSS", "GraphQL",
         "Node.js", "Tailwind", "Webpack", "Jest", "Figma"),
    ),
    "data": (
        ("Data Engineer", "Data Scientist", "Analytics Engineer", "Machine Learning Engineer",
         "Data Analyst", "ML Ops Engineer"),
        ("Python", "SQL", "Spark", "Airflow", "dbt", "Pandas", "PyTorch", "TensorFlow", "Snowflake",
         "BigQuery", "Kafka", "scikit-learn", "PostgreSQL", "AWS", "Databricks"),
    ),
    "devops": (
        ("DevOps Engineer", "Site Reliability Engineer", "Cloud Engineer", "Infrastructure Engineer",
         "Security Engineer"),
        ("Kubernetes", "Terraform", "AWS", "GCP", "Azure", "Docker", "Linux", "Ansible", "Prometheus",
         "Grafana", "Go", "Python", "Bash", "Helm"),
    ),
    "mobile": (
        ("iOS Developer", "Android Developer", "Mobile Engineer", "Flutter Developer"),
        ("Swift", "Kotlin", "Flutter", "Dart", "React Native", "Objective-C", "Java", "Firebase",
         "GraphQL", "TypeScript"),
    ),
}
# How common each family is among postings (and among users' backgrounds).
FAMILY_WEIGHTS = (0.34, 0.22, 0.2, 0.14, 0.1)

EXPERIENCE_LEVELS = ("junior", "mid", "senior", "lead", "principal")
EXPERIENCE_WEIGHTS = (0.18, 0.34, 0.32, 0.11, 0.05)
TITLE_PREFIX = {"junior": "Junior ", "mid": "", "senior": "Senior ", "lead": "Lead ", "principal": "Principal "}
# Median yearly salary (EUR) per level; salaries are log-normal around it.
SALARY_MEDIANS = (42_000, 56_000, 74_000, 90_000, 110_000)
SALARY_SIGMA = 0.22

FUNDING_STAGES = ("bootstrapped", "seed", "series_a", "series_b", "series_c", "growth", "public")
FUNDING_WEIGHTS = (0.12, 0.12, 0.16, 0.14, 0.1, 0.12, 0.24)

STYLES = ("professional", "enthusiastic", "concise", "creative")

# Faker provider lists built from a set (so ordered by the per-process string
# hash unless PYTHONHASHSEED is fixed), per locale: (provider attribute, ...).
# it_IT's `cities` is `list({...})` in Faker 40 and, drawn by index, gave two
# processes with the same seed different cities (issue 12).
SET_ORDERED = {"it_IT": ("cities",)}


def copy_escape(text: str) -> str:
    """Escape a value for COPY's text format (backslash, tab, newline, CR)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def array_literal(items: tuple[str, ...] | list[str]) -> str:
    """A text[] literal with every element quoted (element names hold spaces and dots)."""
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


def _unique(draw, count: int, attempts: int = 20) -> list[str]:
    """`count` distinct values from a Faker callable, in draw order (deterministic)."""
    seen: dict[str, None] = {}
    for _ in range(count * attempts):
        seen.setdefault(draw(), None)
        if len(seen) == count:
            break
    return list(seen)


@dataclass(frozen=True)
class Pools:
    """Raw (unescaped) vocabulary; the generators escape what they paste into COPY rows."""

    first_names: list[str]
    last_names: list[str]
    companies: list[str]
    cities: list[str]          # "City, Country"
    city_market: np.ndarray    # index into MARKETS for each city
    phrases: list[str]         # short English sentences for job descriptions
    paragraphs: list[str]      # English paragraphs for cover letters
    notes: list[str]           # short application notes


def _fix_set_order(fake: Faker) -> None:
    """Give each provider list of SET_ORDERED a code-point order (locale-independent), on this Faker only."""
    for locale, attributes in SET_ORDERED.items():
        for attribute in attributes:
            providers = [p for p in fake[locale].providers if isinstance(getattr(p, attribute, None), list)]
            if not providers:
                raise ValueError(f"Faker's {locale} providers have no list {attribute!r}; revisit SET_ORDERED")
            for provider in providers:
                setattr(provider, attribute, sorted(getattr(provider, attribute)))


def build(seed: int, companies: int = 3000, cities_per_market: int = 40) -> Pools:
    """Draw every pool from one Faker seeded with `seed`."""
    markets = list(MARKETS)
    fake = Faker(markets)
    _fix_set_order(fake)
    fake.seed_instance(seed)
    english = fake["en_GB"]

    first_names, last_names = [], []
    for locale in markets:
        first_names += _unique(fake[locale].first_name, 60)
        last_names += _unique(fake[locale].last_name, 80)

    company_names = _unique(lambda: fake[markets[english.random_int(0, len(markets) - 1)]].company(), companies)

    cities: list[str] = []
    city_market: list[int] = []
    for index, locale in enumerate(markets):
        country = MARKETS[locale][0]
        for city in _unique(fake[locale].city, cities_per_market):
            cities.append(f"{city}, {country}")
            city_market.append(index)

    # Short, unhyphenated phrases: every word of a description costs about 1 µs in
    # the full-text GIN build (hyphenated words count two or three times).
    phrases = _unique(lambda: f"You will {english.bs()}.", 1500)
    phrases = [phrase for phrase in phrases if "-" not in phrase]
    paragraphs = [
        f"In my current role I {english.bs()}, and I would bring the same focus to your team. "
        f"I admire your {english.catch_phrase().lower()} and how you {english.bs()}. "
        f"Together we could {english.bs()} while we {english.bs()}."
        for _ in range(600)
    ]
    notes = [f"Recruiter {english.name()}; follow up about the {english.catch_phrase().lower()}." for _ in range(400)]
    return Pools(
        first_names=first_names,
        last_names=last_names,
        companies=company_names,
        cities=cities,
        city_market=np.asarray(city_market, dtype=np.int64),
        phrases=phrases,
        paragraphs=paragraphs,
        notes=notes,
    )
