"""Request bodies and the value sets they accept (pydantic, 422 on anything else).

Responses are plain dicts serialized with orjson (no response models): the
cached path then stores and returns bytes without a validation pass.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foundation.statuses import APPLICATION_STATUSES_ACCEPTED, JOB_STATUSES_ACCEPTED

# Literal[tuple] is Literal[*values]: the accepted values are defined once, in foundation.statuses.
JobStatus = Literal[JOB_STATUSES_ACCEPTED]  # type: ignore[valid-type]
ApplicationStatus = Literal[APPLICATION_STATUSES_ACCEPTED]  # type: ignore[valid-type]
ExperienceLevel = Literal["intern", "junior", "mid", "senior", "lead", "principal"]
CoverLetterStyle = Literal["professional", "enthusiastic", "concise", "creative"]

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Salary = Annotated[int, Field(ge=0, le=10_000_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginIn(_Body):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class _SalaryRange(_Body):
    @model_validator(mode="after")
    def _salary_order(self) -> "_SalaryRange":
        low, high = getattr(self, "salary_min", None), getattr(self, "salary_max", None)
        if low is not None and high is not None and low > high:
            raise ValueError("salary_min must not exceed salary_max")
        return self


class JobCreate(_SalaryRange):
    company: ShortText
    title: ShortText
    location: Annotated[str, Field(max_length=200)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    tech_stack: Annotated[list[ShortText], Field(max_length=50)] = []
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    status: JobStatus = "not_applied"
    source: ShortText = "manual"
    experience_level: ExperienceLevel | None = None
    funding_stage: Annotated[str, Field(max_length=50)] | None = None
    job_language: Annotated[str, Field(min_length=2, max_length=10)] = "en"
    remote: bool = False
    date_applied: date | None = None


class JobUpdate(_SalaryRange):
    """A partial update: only the fields present in the body change."""

    company: ShortText | None = None
    title: ShortText | None = None
    location: Annotated[str, Field(max_length=200)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    tech_stack: Annotated[list[ShortText], Field(max_length=50)] | None = None
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    status: JobStatus | None = None
    experience_level: ExperienceLevel | None = None
    funding_stage: Annotated[str, Field(max_length=50)] | None = None
    remote: bool | None = None
    date_applied: date | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "JobUpdate":
        if not self.model_fields_set:
            raise ValueError("the body must set at least one field")
        for name in ("company", "title", "status", "remote"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class JobBulkCreate(_Body):
    jobs: Annotated[list[JobCreate], Field(min_length=1, max_length=100)]


class ApplicationCreate(_Body):
    job_id: Annotated[int, Field(ge=1)]
    status: ApplicationStatus = "submitted"
    notes: Annotated[str, Field(max_length=5000)] | None = None


class ScrapeIn(_Body):
    keywords: ShortText
    location: Annotated[str, Field(max_length=200)] | None = None
    max_results: Annotated[int, Field(ge=1, le=200)] = 20


class CoverLetterIn(_Body):
    job_id: Annotated[int, Field(ge=1)]
    style: CoverLetterStyle = "professional"
