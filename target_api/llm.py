"""A simulated LLM that writes cover letters.

The latency is the part a load test cares about, so it is modelled: log-normal
with a configurable median (3 s by default, 2-5 s typical, as the product's
measurements show), awaited without holding a database connection. The text is
a template filled with the job's fields; tokens are estimated the usual way
(about 4/3 tokens per English word).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Any

from target_api.limits import SlotLimit
from target_api.settings import Settings

OPENINGS = {
    "professional": "I am writing to apply for the {title} position at {company}.",
    "enthusiastic": "I was thrilled to see that {company} is looking for a {title}!",
    "concise": "Please consider me for {company}'s {title} role.",
    "creative": "Some teams build products; {company} builds momentum, and I want to help as your next {title}.",
}
BODY = (
    "Over the past years I have shipped production systems with {skills}, and the work described for this "
    "role{where} matches what I do best: turning vague requirements into reliable, measurable services. "
    "I care about performance budgets, clear interfaces and tests that catch regressions before users do. "
    "I would welcome the chance to discuss how I can contribute to {company}."
)
CLOSING = "Kind regards,\nA careerload applicant"


class CoverLetterWriter:
    """Writes letters; at most AI_MAX_CONCURRENT at once per worker process."""

    def __init__(self, settings: Settings) -> None:
        self.slots = SlotLimit(settings.ai_max_concurrent)
        self._mu = math.log(max(settings.ai_latency_median_ms, 1) / 1000)
        self._sigma = settings.ai_latency_sigma
        self._median_s = settings.ai_latency_median_ms / 1000

    def retry_after_s(self) -> int:
        """When a slot is likely to free up: about one median call."""
        return max(1, math.ceil(self._median_s))

    async def write(self, job: dict[str, Any], style: str) -> dict[str, Any]:
        """Wait the simulated model latency, then return {content, tokens, latency_ms}."""
        started = time.perf_counter()
        await asyncio.sleep(random.lognormvariate(self._mu, self._sigma))
        skills = ", ".join(job["tech_stack"][:4]) or "modern tooling"
        where = f" in {job['location']}" if job.get("location") else ""
        content = "\n\n".join(
            (
                "Dear hiring team,",
                OPENINGS[style].format(title=job["title"], company=job["company"]),
                BODY.format(skills=skills, where=where, company=job["company"]),
                CLOSING,
            )
        )
        latency_ms = round((time.perf_counter() - started) * 1000)
        return {"content": content, "tokens": round(len(content.split()) * 4 / 3), "latency_ms": latency_ms}
