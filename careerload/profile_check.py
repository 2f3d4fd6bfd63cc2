"""The profile check `careerload run` makes before any load, and the one `careerload profile check` prints.

A deployment that serves OpenAPI is held to the profile first: a route the
profile names and the deployment lacks would otherwise be minutes of failed
requests. Refused in one line unless `--no-profile-check`; a target without an
OpenAPI document is not checked (it cannot be).
"""

from __future__ import annotations

from foundation.errors import UsageError
from locustfiles._pools import AccountsFileError, read_accounts
from profiles.model import Profile, ProfileError, load
from profiles.openapi import DEFAULT_PATH, Finding, OpenAPIUnavailable, check, fetch, verdict
from profiles.operations import scenario_operations
from scenarios.loader import load_scenario
from scenarios.thresholds import ScenarioError


def load_profile(spec: str) -> Profile:
    try:
        return load(spec)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def scenario_uses(scenario: str, profile: Profile) -> list[str]:
    """The operations the scenario's personas with weight > 0 perform under this profile."""
    try:
        personas = load_scenario(scenario).personas
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None
    return scenario_operations(personas, profile.scraping)


def findings(profile: Profile, host: str, openapi: str | None) -> list[Finding]:
    """The check's findings; OpenAPIUnavailable when there is no document to hold the profile to."""
    return check(profile, fetch(openapi or host.rstrip("/") + DEFAULT_PATH))


def before_run(profile_spec: str, accounts: str, scenario: str, host: str, skip: bool) -> None:
    """careerload run's gate: a usable profile and accounts file, and a profile the target's OpenAPI agrees with."""
    profile = load_profile(profile_spec)
    if accounts:
        try:
            read_accounts(accounts)
        except AccountsFileError as exc:
            raise UsageError(str(exc)) from None
    if skip:
        return
    try:
        found = findings(profile, host, None)
    except OpenAPIUnavailable:
        return  # nothing to check against: the personas' own checks remain
    used = scenario_uses(scenario, profile)
    if verdict(found, used):
        bad = [f"{f.operation} {f.status}" for f in found if f.status in ("missing", "mismatch")
               and f.operation in {"login", "own_id", *used}]
        raise UsageError(f"profile {profile.name} does not match {host}'s OpenAPI document ({', '.join(bad)}): "
                         f"see `careerload profile check --host {host} --profile {profile_spec}`, "
                         "or run with --no-profile-check")
