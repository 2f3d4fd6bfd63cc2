"""Job fingerprints: the identity of a posting across sources and re-posts.

The seed writes it, the backend's scraper deduplicates against it, and the
backend recomputes it on every write: one function, so seeded rows and scraped
postings can never disagree on what a duplicate is. Stdlib only (md5 of the
stripped, lower-cased company|title|location).
"""

from __future__ import annotations

import hashlib


def job_fingerprint(company: str, title: str, location: str | None) -> str:
    """The hex md5 of the normalised (company, title, location)."""
    key = "|".join(part.strip().lower() for part in (company, title, location or ""))
    return hashlib.md5(key.encode()).hexdigest()
