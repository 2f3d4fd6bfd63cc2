"""`careerload profile check | init`: hold a profile against a deployment's OpenAPI document, or draft one from it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from foundation.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile", help="check an API profile against a deployment's OpenAPI document, or draft one from it",
        description="A profile is one deployment's API dialect (routes, pagination, auth, statuses); built-ins: "
                    "reference, career-copilot. See the README section 'Load your own deployment'.")
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check", help="match every operation of the profile against the deployment's OpenAPI document",
        description="One line per operation: ok, missing, mismatch (with what differs) or absent. Exit 0 when "
                    "every operation the scenario uses (weight > 0) matches, 1 when one does not, 2 when no "
                    "OpenAPI document can be had or the profile is broken.")
    check.add_argument("--host", required=True, help="base URL of the deployment")
    check.add_argument("--profile", default="reference", metavar="NAME|FILE", help="default: %(default)s")
    check.add_argument("--openapi", metavar="FILE|URL", help="the OpenAPI document (default: HOST/openapi.json)")
    check.add_argument("--scenario", default="mixed", metavar="NAME|FILE",
                       help="judge by the operations this scenario's personas use (default: %(default)s)")
    check.set_defaults(func=main_check)
    init = sub.add_parser(
        "init", help="draft a profile from an OpenAPI document",
        description="For each operation the best-matching route, the runners-up as comments: edit the draft, "
                    "then `careerload profile check`.")
    init.add_argument("--openapi", required=True, metavar="URL|FILE", help="the OpenAPI document")
    init.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (default: standard output)")
    init.set_defaults(func=main_init)


def main_check(args: argparse.Namespace) -> int:
    from careerload.profile_check import findings, load_profile, scenario_uses
    from profiles.openapi import OpenAPIUnavailable, verdict

    profile = load_profile(args.profile)
    used = scenario_uses(args.scenario, profile)
    try:
        found = findings(profile, args.host, args.openapi)
    except OpenAPIUnavailable as exc:
        raise UsageError(f"no OpenAPI document: {exc} (give --openapi FILE when the deployment hides it)") from None
    for finding in found:
        print(finding.line())
    code = verdict(found, used)
    print(f"profile {profile.name}: {'matches' if code == 0 else 'does not match'} what scenario "
          f"{args.scenario} uses", file=sys.stderr)
    return code


def main_init(args: argparse.Namespace) -> int:
    from profiles.openapi import OpenAPIUnavailable, draft, fetch

    try:
        text = draft(fetch(args.openapi))
    except OpenAPIUnavailable as exc:
        raise UsageError(f"no OpenAPI document: {exc}") from None
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc}") from None
    print(f"careerload: drafted {args.output}: review it, then careerload profile check --host URL "
          f"--profile {args.output}", file=sys.stderr)
    return 0
