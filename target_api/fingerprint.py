"""Job fingerprints: the identity of a posting across sources and re-posts.

The seed generator and the scraper must agree on it, so it lives in one small
module with no dependencies. Normalising case and whitespace makes the same
posting seen on two boards collide, which is what deduplication counts.
"""

from __future__ import annotations

import hashlib


def job_fingerprint(company: str, title: str, location: str | None) -> str:
    """A 16-hex-digit digest of the normalised (company, title, location)."""
    parts = (" ".join((value or "").lower().split()) for value in (company, title, location))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]
