"""Job fingerprints: the identity of a posting across sources and re-posts.

The seed writes it, the backend's scraper deduplicates against it, and the
backend recomputes it on every write: one definition, so seeded rows and
scraped postings can never disagree on what a duplicate is. It is the md5 of
the normalised (stripped, lower-cased) company|title|location. The seed, which
fingerprints hundreds of thousands of postings, normalises each vocabulary
word once and digests per row (`normalise`, `digest`); everything else calls
`job_fingerprint`.
"""

from __future__ import annotations

import hashlib


def normalise(part: str | None) -> str:
    """One part of the key as the fingerprint sees it: stripped, lower-cased, '' for none."""
    return (part or "").strip().lower()


def digest(company: str, title: str, location: str) -> str:
    """The fingerprint of parts already normalised."""
    return hashlib.md5(f"{company}|{title}|{location}".encode()).hexdigest()


def job_fingerprint(company: str, title: str, location: str | None) -> str:
    """The hex md5 of the normalised (company, title, location)."""
    return digest(normalise(company), normalise(title), normalise(location))
