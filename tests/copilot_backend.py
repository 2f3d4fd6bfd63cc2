"""A second backend for the tests, speaking the Career Copilot dialect (github.com/moatasim-KT/career-copilot).

Not a copy of that code: a small in-memory FastAPI app with the same contract
as its backend/app/api/v1/ routes, so profiles are tested against a dialect
careerload's own backend does not speak: bare JSON lists with skip/limit
(limit 1..1000, 400 outside), 200 on create, 204 with no body on delete, a
synchronous scrape (keywords the body, location and max_results query
parameters), `/users/me`, a JSON login by email or username, cover letters
under `/resume/content/generate`.

Run by the tests as a real uvicorn process on loopback; the environment picks
the variant:
    COPILOT_AUTH=none        the single-user build: no login, every request is user 1
    COPILOT_FOREIGN_ROW=1    every job list carries one row of another user (broken isolation)
    COPILOT_REMOVE=PATH      a route left out of the app (and so of /openapi.json)
    COPILOT_USERS=N          seeded users user1..N@careerload.test (default 12)
    COPILOT_PASSWORD=PW      their password (default "careerload", the seed's)
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel

AUTH = os.environ.get("COPILOT_AUTH", "json")
FOREIGN_ROW = os.environ.get("COPILOT_FOREIGN_ROW") == "1"
REMOVED = os.environ.get("COPILOT_REMOVE", "")
USERS = int(os.environ.get("COPILOT_USERS", "12"))
JOBS_PER_USER = 30
PASSWORD = os.environ.get("COPILOT_PASSWORD", "careerload")

app = FastAPI(title="Career Copilot (test double)")
_ids = itertools.count(1)
users = {n: {"id": n, "email": f"user{n}@careerload.test", "username": f"user{n}"} for n in range(1, USERS + 1)}
tokens: dict[str, int] = {}
jobs: dict[int, dict[str, Any]] = {}
applications: dict[int, dict[str, Any]] = {}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _job(user_id: int, **fields: Any) -> dict[str, Any]:
    job_id = next(_ids)
    job = {"id": job_id, "user_id": user_id, "company": "Acme", "title": "Engineer", "location": "Remote",
           "description": "", "tech_stack": [], "status": "not_applied", "source": "manual",
           "salary_min": None, "salary_max": None, "created_at": _now(), "updated_at": _now(), **fields}
    jobs[job_id] = job
    return job


for _user in users:
    for _n in range(JOBS_PER_USER):
        _job(_user, company=f"Company {_n % 7}", title=f"Python Engineer {_n}")


class Login(BaseModel):
    email: str | None = None
    username: str | None = None
    password: str


class JobCreate(BaseModel):
    company: str
    title: str
    location: str | None = None
    description: str | None = None
    tech_stack: list[str] | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    source: str | None = None


class JobUpdate(BaseModel):
    status: str | None = None
    title: str | None = None


class ApplicationCreate(BaseModel):
    job_id: int
    status: str = "interested"
    notes: str | None = None


class ContentGenerationRequest(BaseModel):
    content_type: str
    job_id: int | None = None
    tone: str | None = None


def current_user(authorization: Annotated[str | None, Header()] = None) -> int:
    if AUTH == "none":
        return 1
    token = (authorization or "").removeprefix("Bearer ")
    if token not in tokens:
        raise HTTPException(401, "Not authenticated")
    return tokens[token]


User = Annotated[int, Depends(current_user)]


def _route(method: str, path: str, **kwargs: Any):
    """`app.<method>(path)`, unless COPILOT_REMOVE names the path (then the route does not exist)."""
    def register(func):
        if path == REMOVED:
            return func
        return getattr(app, method)(path, **kwargs)(func)
    return register


def _page(skip: int, limit: int) -> None:
    if skip < 0:
        raise HTTPException(400, "Skip parameter must be non-negative")
    if limit < 1 or limit > 1000:
        raise HTTPException(400, "Limit must be between 1 and 1000")


def _own_job(job_id: int, user_id: int) -> dict[str, Any]:
    job = jobs.get(job_id)
    if job is None or job["user_id"] != user_id:
        raise HTTPException(404, "Job not found")
    return job


@_route("get", "/api/v1/health")
def health() -> dict[str, str]:
    return {"status": "healthy"}


if AUTH != "none":
    @_route("post", "/api/v1/auth/login")
    def login(body: Login) -> dict[str, str]:
        name = body.email or body.username
        user = next((u for u in users.values() if name in (u["email"], u["username"])), None)
        if user is None or body.password != PASSWORD:
            raise HTTPException(401, "Incorrect email or password")
        token = secrets.token_urlsafe(16)
        tokens[token] = user["id"]
        return {"access_token": token, "token_type": "bearer"}


@_route("get", "/api/v1/users/me")
def me(user_id: User) -> dict[str, Any]:
    return users[user_id]


@_route("get", "/api/v1/jobs")
def list_jobs(user_id: User, skip: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    _page(skip, limit)
    own = sorted((j for j in jobs.values() if j["user_id"] == user_id), key=lambda j: j["id"], reverse=True)
    page = own[skip:skip + limit]
    if FOREIGN_ROW:
        page = [next(j for j in jobs.values() if j["user_id"] != user_id), *page]
    return page


@_route("post", "/api/v1/jobs")
def create_job(body: JobCreate, user_id: User) -> dict[str, Any]:
    fields = body.model_dump()
    fields["tech_stack"] = fields["tech_stack"] or []
    fields["source"] = fields["source"] or "manual"
    return _job(user_id, **fields)


@_route("get", "/api/v1/jobs/{job_id}")
def get_job(job_id: int, user_id: User) -> dict[str, Any]:
    return _own_job(job_id, user_id)


@_route("put", "/api/v1/jobs/{job_id}")
def update_job(job_id: int, body: JobUpdate, user_id: User) -> dict[str, Any]:
    job = _own_job(job_id, user_id)
    job.update({k: v for k, v in body.model_dump(exclude_unset=True).items()}, updated_at=_now())
    return job


@_route("delete", "/api/v1/jobs/{job_id}", status_code=204)
def delete_job(job_id: int, user_id: User) -> Response:
    _own_job(job_id, user_id)
    del jobs[job_id]
    return Response(status_code=204)


@_route("post", "/api/v1/jobs/scrape")
def scrape(keywords: list[str], user_id: User, location: str = "Remote", max_results: int = 20) -> dict[str, Any]:
    scraped = random.randint(0, max_results)
    seen = {(j["company"], j["title"]) for j in jobs.values() if j["user_id"] == user_id}
    added = 0
    for n in range(scraped):
        key = (f"Company {n % 7}", f"{keywords[0] if keywords else 'job'} {random.randint(0, 40)}")
        if key not in seen:
            seen.add(key)
            _job(user_id, company=key[0], title=key[1], location=location, source="scraped")
            added += 1
    return {"message": f"Successfully scraped {added} new jobs", "jobs_added": added, "jobs_scraped": scraped,
            "jobs_deduplicated": scraped - added, "keywords": keywords, "location": location}


@_route("get", "/api/v1/recommendations")
def recommendations(user_id: User, skip: int = 0, limit: int = 10) -> list[dict[str, Any]]:
    others = [j for j in jobs.values() if j["user_id"] != user_id][skip:skip + limit]
    return [{"job_id": j["id"], "title": j["title"], "company": j["company"], "score": 0.5} for j in others]


@_route("get", "/api/v1/analytics/summary")
def analytics_summary(user_id: User) -> dict[str, Any]:
    own = [j for j in jobs.values() if j["user_id"] == user_id]
    return {"total_jobs": len(own), "total_applications": sum(a["user_id"] == user_id for a in applications.values())}


@_route("get", "/api/v1/applications")
def list_applications(user_id: User, skip: int = 0, limit: int = 100,
                      status: str | None = None) -> list[dict[str, Any]]:
    own = [a for a in applications.values() if a["user_id"] == user_id and status in (None, a["status"])]
    return sorted(own, key=lambda a: a["id"], reverse=True)[skip:skip + limit]


@_route("post", "/api/v1/applications")
def create_application(body: ApplicationCreate, user_id: User) -> dict[str, Any]:
    _own_job(body.job_id, user_id)
    if any(a["job_id"] == body.job_id and a["user_id"] == user_id for a in applications.values()):
        raise HTTPException(400, "Application already exists for this job")
    app_id = next(_ids)
    applications[app_id] = {"id": app_id, "user_id": user_id, **body.model_dump(), "created_at": _now()}
    return applications[app_id]


@_route("get", "/api/v1/export/jobs")
def export_jobs(user_id: User, format: Annotated[str, Query()] = "json") -> Response:
    rows = [j for j in jobs.values() if j["user_id"] == user_id]
    text = "id,company,title,status\n" + "".join(f"{j['id']},{j['company']},{j['title']},{j['status']}\n"
                                                  for j in rows)
    return Response(text, media_type="text/csv")


@_route("post", "/api/v1/resume/content/generate")
def generate_content(body: ContentGenerationRequest, user_id: User) -> dict[str, Any]:
    if body.content_type != "cover_letter" or body.job_id is None:
        raise HTTPException(400, "Job ID required for cover letter generation")
    job = _own_job(body.job_id, user_id)
    return {"content_id": next(_ids), "content_type": "cover_letter", "tone": body.tone,
            "generated_content": f"Dear {job['company']}, ...", "created_at": _now()}
