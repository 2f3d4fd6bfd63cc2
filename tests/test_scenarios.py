"""Scenario files: the built-ins, validation messages, time scaling, the schedule (the pacer: test_pacing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.loader import PERSONAS, builtin_names, load_scenario
from scenarios.thresholds import ScenarioError

REPO = Path(__file__).resolve().parent.parent
BUILTINS = ("smoke", "api", "scraping", "ai", "mixed", "stress", "spike", "soak", "database")


def test_every_builtin_loads_with_a_question_and_thresholds() -> None:
    assert set(BUILTINS) <= set(builtin_names())
    for name in BUILTINS:
        scenario = load_scenario(name)
        assert scenario.question.endswith("?"), name
        assert scenario.thresholds, name
        assert scenario.duration_s > 0 and scenario.peak_users > 0, name
        text = scenario.path.read_text()
        # a comment per stage saying what it is for
        assert text.count("[[shape.") == text.count("]]   #") + text.count("]]    #"), name


def test_builtin_levels_follow_the_seed_documents() -> None:
    def critical(name: str, metric: str, scope: str = "aggregate") -> float:
        return next(t.critical for t in load_scenario(name).thresholds if t.metric == metric and t.scope == scope)

    assert critical("api", "p95") == 500
    assert critical("api", "failure_ratio") == 0.01
    assert critical("ai", "p95", "endpoint:POST /api/v1/content/generate/cover-letter") == 5000
    assert critical("database", "p95") == 100
    assert load_scenario("mixed").personas == {"BrowsingUser": 40, "WritingUser": 30, "AIGenerationUser": 20,
                                               "ScrapingUser": 10}
    assert [s.target for s in load_scenario("stress").stages] == [100, 500, 1000]
    api = load_scenario("api")
    assert [(s.duration_s, s.target) for s in api.stages] == [(30, 10), (60, 50), (60, 50), (30, 0)]


def test_time_scale_multiplies_every_duration_and_users_rescale_the_peak() -> None:
    api = load_scenario("api")
    fast = api.scaled(0.1, users=10)
    assert fast.duration_s == pytest.approx(api.duration_s * 0.1)
    assert [s.target for s in fast.stages] == [2, 10, 10, 0]
    soak = load_scenario("soak").scaled(0.01)
    assert [t.grace_s for t in soak.thresholds if t.abort_on_fail] == [pytest.approx(6.0)]
    assert load_scenario("database").scaled(1, users=3).vus == 3
    with pytest.raises(ScenarioError, match="--time-scale"):
        api.scaled(0)


def test_stages_ramp_linearly_steps_jump_and_the_shape_ends() -> None:
    api = load_scenario("api")
    assert api.tick(0) == (0, 1.0)
    users, rate = api.tick(15)
    assert users == 5 and rate == pytest.approx(1 / 3, abs=1) and rate >= 1
    assert api.tick(60)[0] == 30  # half-way up the 10 -> 50 ramp
    assert api.tick(120)[0] == 50
    assert api.tick(api.duration_s) is None
    stress = load_scenario("stress")
    assert stress.tick(1) == (100, 20.0) and stress.tick(301) == (500, 50.0)
    database = load_scenario("database")
    assert database.tick(5) == (20, 1000.0)  # arrival rate: the whole pool from the start
    assert database.rate_at(15) == pytest.approx(25) and database.rate_at(100) == 50
    assert database.rate_at(database.duration_s + 1) == 0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path


GOOD_HEAD = 'question = "Q?"\n[personas]\nBrowsingUser = 1\n'


@pytest.mark.parametrize(("text", "message"), [
    ('[personas]\nBrowsingUser = 1\n', "question: required"),
    (GOOD_HEAD.replace("BrowsingUser", "Browser"), "personas.Browser: unknown persona; expected one of"),
    (GOOD_HEAD + '[shape]\nkind = "ramp"\n', "shape.kind: expected one of stages, steps, arrival, got 'ramp'"),
    (GOOD_HEAD + '[shape]\n[[shape.stages]]\nduration = "ten"\ntarget = 5\n',
     "shape.stages[0].duration: expected a duration like '30s' or '2m', got 'ten'"),
    (GOOD_HEAD + '[shape]\n[[shape.stages]]\nduration = "1m"\n', "shape.stages[0].target: required"),
    (GOOD_HEAD + '[shape]\n[[shape.stages]]\nduration = "1m"\ntarget = 5\n[[thresholds]]\nmetric = "p96"\ntarget = 1\n',
     "thresholds[0].metric: expected one of"),
    (GOOD_HEAD + '[shape]\n[[shape.stages]]\nduration = "1m"\ntarget = 5\n[[thresholds]]\nmetric = "p95"\n'
     'scope = "persona:AIGenerationUser"\ntarget = 1\n', "persona 'AIGenerationUser' does not run in this scenario"),
    ('question = "Q?"\n[personas\n', "not valid TOML"),
])
def test_a_broken_file_names_the_file_the_field_and_the_expectation(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_the_persona_names_match_the_classes_in_locustfiles() -> None:
    # In a child process: importing Locust monkey-patches the interpreter.
    out = subprocess.run([sys.executable, "-m", "locust", "-f", "locustfiles", "--list"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    listed = {line.strip() for line in out.stdout.splitlines()[1:] if line.strip()}
    assert listed == set(PERSONAS)
