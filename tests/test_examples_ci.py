"""examples/ci: the GitHub Actions workflow and the GitLab CI job call careerload commands that exist.

Every `careerload ...` invocation in their shell steps is parsed with the real
argument parser (`careerload.cli.build_parser()`), with the workflow's own
default values substituted for its variables; an unknown sub-command or option
fails here rather than in someone's pipeline.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from careerload.cli import build_parser

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "ci"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
SHELL_OPERATORS = {"||", "&&", ";", "|", ">", ">>", "(", ")", ";;", "&"}
# Values for variables the files take from outside (secrets, CI/CD variables, the runner).
OUTSIDE = {"TARGET_URL": "https://staging.example.com"}


def _github_defaults(env: dict[str, str]) -> dict[str, str]:
    """An env value like "${{ inputs.x || 'api' }}" → its fallback literal, "api"."""
    values = {}
    for name, value in env.items():
        fallback = re.search(r"\|\|\s*'([^']*)'\s*}}", str(value))
        values[name] = fallback.group(1) if fallback else str(value)
    return values


def _substitute(line: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, OUTSIDE.get(name, f"<{name}>"))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, line)


def careerload_commands(script: str, values: dict[str, str]) -> list[list[str]]:
    """Each careerload invocation in a shell script, as argv after `careerload`."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(_substitute(line, values), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        for i, token in enumerate(tokens):
            if token == "careerload" and (i == 0 or tokens[i - 1] in SHELL_OPERATORS or tokens[i - 1] in ("then", "else", "do")):
                argv = []
                for arg in tokens[i + 1:]:
                    if arg in SHELL_OPERATORS:
                        break
                    argv.append(arg)
                commands.append(argv)
    return commands


def github_scripts() -> tuple[list[str], dict[str, str], dict]:
    workflow = yaml.safe_load(GITHUB.read_text())
    job = workflow["jobs"]["load-test"]
    return [step["run"] for step in job["steps"] if "run" in step], _github_defaults(job["env"]), job


def gitlab_scripts() -> tuple[list[str], dict[str, str], dict]:
    job = yaml.safe_load(GITLAB.read_text())["load-test"]
    scripts = [line for key in ("before_script", "script", "after_script") for line in job.get(key, [])]
    return scripts, {k: str(v) for k, v in job["variables"].items()}, job


@pytest.mark.parametrize("source", [github_scripts, gitlab_scripts], ids=["github", "gitlab"])
def test_every_careerload_invocation_exists_with_its_options(source):
    scripts, values, _ = source()
    commands = [argv for script in scripts for argv in careerload_commands(script, values)]
    assert {argv[0] for argv in commands} >= {"run", "report"}, commands
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"`careerload {shlex.join(argv)}` is not accepted by careerload's parser (exit {exc.code}); "
                        f"registered commands must include {argv[0]!r} with these options")
    strict = [argv for argv in commands if argv[0] == "report" and "--strict" in argv]
    assert strict, "the examples show how to fail on WARN too"


def test_github_workflow_keeps_artifacts_publishes_summary_and_junit():
    scripts, values, job = github_scripts()
    steps = job["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ env.RUN_DIR }}"
    assert any("report.md" in s.get("run", "") and "GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps)
    junit = next(s for s in steps if "junit" in str(s.get("uses", "")))
    assert junit["with"]["report_paths"].endswith("/junit.xml") and junit["if"] == "always()"
    assert steps[-1]["if"] == "always()" and "steps.report.outputs.exit" in steps[-1]["run"]
    assert values["RUN_DIR"] and "--out" in scripts[1] and "$RUN_DIR" in scripts[1]


def test_gitlab_job_keeps_artifacts_and_junit_whatever_the_verdict():
    _, values, job = gitlab_scripts()
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == f"{values['RUN_DIR']}/junit.xml"
    assert f"{values['RUN_DIR']}/" in artifacts["paths"]
    assert any("report.md" in line for line in job["after_script"])
