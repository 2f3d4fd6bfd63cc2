"""Job fingerprints: the identity of a posting across sources and re-posts.

Must equal `seed_data.generators.fingerprint` (md5 of the stripped, lower-cased
company|title|location), because the scraper deduplicates against seeded rows;
it is repeated here so the backend does not import the seed's numpy/Faker stack.
tests/test_target_api.py checks that the two agree.
"""

from __future__ import annotations

import hashlib


def job_fingerprint(company: str, title: str, location: str | None) -> str:
    """The hex md5 of the normalised (company, title, location)."""
    key = "|".join(part.strip().lower() for part in (company, title, location or ""))
    return hashlib.md5(key.encode()).hexdigest()
