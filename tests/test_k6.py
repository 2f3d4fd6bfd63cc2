"""k6 interop (issue 17): k6 thresholds in scenario files, `careerload import k6`, `report --k6-json`.

The scripts below are written from k6's documentation examples (stages,
arrival-rate scenarios, thresholds with abortOnFail, weighted Math.random()
branches, a setup()). The played comparisons run the real k6 binary (the `k6`
wheel, dev extra) and careerload against the session's reference backend, a few
seconds and two users each; they are skipped, with the reason, without the wheel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.k6_json import epoch
from foundation.nearest_rank import nearest_rank_index
from scenarios.k6_thresholds import from_table, parse_expression
from scenarios.loader import load_scenario, parse_scenario
from scenarios.thresholds import ScenarioError, Threshold
from raw_log_support import raw_rows
from test_personas_support import careerload

K6 = shutil.which("k6", path=str(Path(sys.executable).parent)) or shutil.which("k6")
needs_k6 = pytest.mark.skipif(K6 is None, reason="the k6 binary (pip install k6, the dev extra) is not installed")

STAGES_JS = """\
// k6 docs, "Ramp VUs up and down" with thresholds and abortOnFail.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8000';

export const options = {
  stages: [
    { duration: '30s', target: 20 },
    { duration: '1m30s', target: 10 },
    { duration: '20s', target: 0 },
  ],
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' }],
    http_req_duration: ['p(95)<500', 'p(99)<1500'],
    'http_req_duration{name:/api/v1/jobs}': ['p(95)<300'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  const res = http.get(`${BASE_URL}/api/v1/jobs?page=1`, { tags: { name: '/api/v1/jobs' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
"""

ARRIVAL_JS = """\
// k6 docs, "Constant arrival rate" and "Ramping arrival rate" executors.
import http from 'k6/http';

export const options = {
  scenarios: {
    ramping: {
      executor: 'ramping-arrival-rate',
      startRate: 300,
      timeUnit: '1m',
      preAllocatedVUs: 2,
      maxVUs: 50,
      stages: [
        { target: 300, duration: '1m' },
        { target: 600, duration: '2m' },
        { target: 60, duration: '4m' },
      ],
    },
    constant: { executor: 'constant-arrival-rate', duration: '30s', rate: 30, timeUnit: '1s', preAllocatedVUs: 50 },
  },
};

export default function () {
  http.get('http://localhost:8000/api/v1/health');
}
"""

BRANCHES_JS = """\
// k6 docs: weighted user flows with Math.random(), think time with randomIntBetween.
import http from 'k6/http';
import { sleep } from 'k6';
import { randomIntBetween } from 'https://jslib.k6.io/k6-utils/1.2.0/index.js';

export const options = { vus: 5, duration: '1m' };

export function setup() {
  const res = http.post('http://localhost:8000/api/v1/auth/login', { username: 'a', password: 'b' });
  return { token: res.json('access_token') };
}

export default function (data) {
  const roll = Math.random();
  if (roll < 0.6) {
    http.get('http://localhost:8000/api/v1/jobs');
  } else if (roll < 0.9) {
    http.get('http://localhost:8000/api/v1/jobs/stats');
  } else {
    http.post('http://localhost:8000/api/v1/jobs', JSON.stringify({ title: 'SRE' }),
              { headers: { 'Content-Type': 'application/json' } });
  }
  if (Math.random() < 0.5) {
    sleep(randomIntBetween(1, 5));
  }
  sleep(0.5 + Math.random());
}
"""


def import_k6(tmp_path: Path, name: str, script: str) -> tuple[subprocess.CompletedProcess, Path]:
    path = tmp_path / f"{name}.js"
    path.write_text(script)
    out = tmp_path / "imported"
    return careerload("import", "k6", str(path), "-o", str(out)), out / f"{name}.toml"


# ---------------------------------------------------------------------- k6 threshold expressions


def test_k6_expressions_map_to_critical_thresholds_of_our_metrics() -> None:
    table = {"thresholds": {
        "http_req_duration": ["p(95)<500", "avg<=200", "med<100"],
        "http_req_failed": [{"threshold": "rate<0.01", "abortOnFail": True, "delayAbortEval": "10s"}],
        "http_reqs": "rate>50",
        "checks": ["rate>0.99"],
        "http_req_duration{name:GET /api/v1/jobs}": ["p(99)<1500"],
        "http_req_duration{method:POST,name:/api/v1/jobs}": ["max<3000"],
        "http_req_duration{expected_response:true}": ["p(90)<400"],
        "dropped_iterations": ["count<10"],
    }}
    got = from_table(table, "s.toml")
    assert got == [
        Threshold("p95", critical=500.0), Threshold("avg", critical=200.0), Threshold("p50", critical=100.0),
        Threshold("failure_ratio", critical=0.01, abort_on_fail=True, grace_s=10.0),
        Threshold("rps", critical=50.0),
        Threshold("failure_ratio", critical=pytest.approx(0.01)),
        Threshold("p99", "endpoint:GET /api/v1/jobs", critical=1500.0),
        Threshold("max", "endpoint:POST /api/v1/jobs", critical=3000.0),
        Threshold("p90", critical=400.0),
        Threshold("dropped_iterations", critical=10.0),  # the open model's count (time-aware verdicts, #15)
    ]


@pytest.mark.parametrize(("selector", "expression", "message"), [
    ("errors", "rate<0.1", "k6 metric 'errors' has no careerload equivalent"),
    ("http_req_duration", "p(97)<500", "http_req_duration p(97) cannot be mapped"),
    ("http_req_duration", "p95<500", "is not a k6 threshold expression"),
    ("http_req_duration", "p(95)>500", "is judged with < or <= here, got >"),
    ("http_reqs", "count>100", "http_reqs count cannot be mapped"),
    ("http_req_duration{name:/api/v1/jobs}", "p(95)<500", "has no method"),
    ("http_req_duration{group:::login}", "p(95)<500", "tag(s) group cannot be mapped"),
])
def test_a_bad_k6_expression_is_an_error_naming_it(selector: str, expression: str, message: str) -> None:
    with pytest.raises(ScenarioError, match="s.toml: k6.thresholds") as caught:
        from_table({"thresholds": {selector: [expression]}}, "s.toml")
    assert message in str(caught.value)


def test_a_k6_threshold_object_names_its_bad_field() -> None:
    with pytest.raises(ScenarioError, match=r"http_req_failed\[0\].abortOnFail: expected true or false"):
        from_table({"thresholds": {"http_req_failed": [{"threshold": "rate<0.01", "abortOnFail": "yes"}]}}, "s.toml")
    with pytest.raises(ScenarioError, match=r"unknown field\(s\) abortOnFial"):
        from_table({"thresholds": {"http_req_failed": [{"threshold": "rate<0.01", "abortOnFial": True}]}}, "s.toml")


def test_a_scenario_file_takes_k6_thresholds_beside_its_own(tmp_path: Path) -> None:
    import tomllib

    text = ('question = "q?"\n[personas]\nBrowsingUser = 1\n[shape]\n[[shape.stages]]\nduration = "5s"\ntarget = 1\n'
            '[[thresholds]]\nmetric = "p95"\ntarget = 300\n'
            '[k6.thresholds]\nhttp_req_duration = ["p(99)<1500"]\n"http_req_failed" = ["rate<0.01"]\n')
    scenario = parse_scenario(tomllib.loads(text), tmp_path / "s.toml")
    assert scenario.thresholds == [Threshold("p95", target=300.0), Threshold("p99", critical=1500.0),
                                   Threshold("failure_ratio", critical=0.01)]
    # Why [k6.thresholds]: after [[thresholds]], [thresholds.k6] is a field of the last threshold (refused,
    # named); before one, the [[thresholds]] does not parse.
    after = text.replace("[k6.thresholds]", "[thresholds.k6]")
    with pytest.raises(ScenarioError, match=r"thresholds\[0\]: unknown field\(s\) k6"):
        parse_scenario(tomllib.loads(after), tmp_path / "s.toml")
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads('[thresholds.k6]\nhttp_reqs = ["rate>1"]\n[[thresholds]]\nmetric = "p95"\n')


# ---------------------------------------------------------------------- careerload import k6


def test_import_keeps_the_stages_and_thresholds_of_the_script(tmp_path: Path) -> None:
    result, path = import_k6(tmp_path, "stages", STAGES_JS)
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(path)
    assert scenario.kind == "stages"
    assert [(s.duration_s, s.target) for s in scenario.stages] == [(30.0, 20.0), (90.0, 10.0), (20.0, 0.0)]
    # the script's thresholds, as the loader reads them from the k6 expressions (the name tag got its method)
    assert scenario.thresholds == [
        parse_expression("http_req_failed", "rate<0.01", "", abort_on_fail=True, grace_s=10.0),
        parse_expression("http_req_duration", "p(95)<500", ""),
        parse_expression("http_req_duration", "p(99)<1500", ""),
        parse_expression("http_req_duration{name:GET /api/v1/jobs}", "p(95)<300", ""),
        parse_expression("checks", "rate>0.99", ""),
    ]
    assert scenario.personas == {"DeclarativeUser": 1}
    persona = (path.parent / "stages.persona.toml").read_text()
    assert 'path = "/api/v1/jobs?page=1"' in persona and "statuses = [200]" in persona and "sleep = [1, 1]" in persona


def test_import_translates_the_arrival_rate_executors(tmp_path: Path) -> None:
    result, path = import_k6(tmp_path, "arrival", ARRIVAL_JS)
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(path)
    # ramping-arrival-rate per minute -> iterations per second; the pool is maxVUs (k6 may grow to it)
    assert (scenario.kind, scenario.vus, scenario.start_rate) == ("arrival", 50, 5.0)
    assert [(s.duration_s, s.target) for s in scenario.stages] == [(60.0, 5.0), (120.0, 10.0), (240.0, 1.0)]
    assert "arrival.js:4: options.scenarios.constant: careerload plays one shape" in result.stderr

    only_constant = ARRIVAL_JS[:ARRIVAL_JS.index("    ramping: {")] + ARRIVAL_JS[ARRIVAL_JS.index("    constant: {"):]
    result, path = import_k6(tmp_path, "constant", only_constant)
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(path)
    assert (scenario.kind, scenario.vus, scenario.start_rate) == ("arrival", 50, 30.0)
    assert [(s.duration_s, s.target) for s in scenario.stages] == [(30.0, 30.0)]


def test_import_turns_random_branches_into_weights_and_reports_setup(tmp_path: Path) -> None:
    from scenarios.declarative import Request, Sleep, read_persona

    result, path = import_k6(tmp_path, "branches", BRANCHES_JS)
    assert result.returncode == 0, result.stderr
    # setup() and its request are not played: said on stderr with the line, and in both files
    setup_line = BRANCHES_JS.splitlines().index("export function setup() {") + 1
    assert f"branches.js:{setup_line}: setup() runs once before the load" in result.stderr
    assert f"#   line {setup_line}: setup()" in path.read_text()
    scenario = load_scenario(path)
    assert (scenario.kind, [(s.duration_s, s.target) for s in scenario.stages]) == ("steps", [(60.0, 5.0)])
    persona = read_persona(scenario.persona_file)
    flows = {}
    for task in persona.tasks:
        requests = [s for s in task.steps if isinstance(s, Request)]
        sleeps = tuple((s.low, s.high) for s in task.steps if isinstance(s, Sleep))
        flows[(requests[0].method, requests[0].name, sleeps)] = task.weight
    total = sum(flows.values())
    shares = {key: weight / total for key, weight in flows.items()}
    # 0.6 / 0.3 / 0.1, each half with the random long sleep
    assert shares == {
        ("GET", "/api/v1/jobs", ((1.0, 5.0), (0.5, 1.5))): pytest.approx(0.3),
        ("GET", "/api/v1/jobs", ((0.5, 1.5),)): pytest.approx(0.3),
        ("GET", "/api/v1/jobs/stats", ((1.0, 5.0), (0.5, 1.5))): pytest.approx(0.15),
        ("GET", "/api/v1/jobs/stats", ((0.5, 1.5),)): pytest.approx(0.15),
        ("POST", "/api/v1/jobs", ((1.0, 5.0), (0.5, 1.5))): pytest.approx(0.05),
        ("POST", "/api/v1/jobs", ((0.5, 1.5),)): pytest.approx(0.05),
    }
    post = next(s for t in persona.tasks for s in t.steps if isinstance(s, Request) and s.method == "POST")
    assert post.body == '{"title":"SRE"}' and dict(post.headers) == {"Content-Type": "application/json"}


def test_import_exits_2_on_a_parse_error_and_names_the_line(tmp_path: Path) -> None:
    result, path = import_k6(tmp_path, "broken", "import http from 'k6/http';\nexport default function () {\n"
                                                 "  http.get('http://x/a'\n}\n")
    assert result.returncode == 2
    assert "broken.js: line" in result.stderr and "syntax error" in result.stderr
    assert not path.exists()


# ---------------------------------------------------------------------- played against the reference backend

PLAYED_JS = """\
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8000';

export const options = {
  vus: 2,
  duration: '3s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<2000'],
  },
};

export default function () {
  if (Math.random() < SHARE) {
    const res = http.get(`${BASE}/api/v1/jobs`);   // no token: 401
    check(res, { 'status is 200': (r) => r.status === 200 });
  } else {
    const res = http.get(`${BASE}/api/v1/health`);
    check(res, { 'status is 200': (r) => r.status === 200 });
  }
  sleep(0.05);
}
"""


def run_k6(script: Path, target_url: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([K6, "run", "--quiet", "--no-color", "--out", f"json={out / 'k6.json'}",
                           "--summary-export", str(out / "k6-summary.json"), "-e", f"BASE_URL={target_url}",
                           str(script)], capture_output=True, text=True, timeout=120, cwd=out)


@needs_k6
@pytest.mark.parametrize("share", [0.0, 0.5], ids=["passing", "failing"])
def test_an_imported_script_gets_the_verdict_k6_gives_on_the_same_backend(target_url: str, tmp_path: Path,
                                                                          share: float) -> None:
    script = tmp_path / "played.js"
    script.write_text(PLAYED_JS.replace("SHARE", str(share)))
    k6 = run_k6(script, target_url, tmp_path)
    assert k6.returncode in (0, 99), k6.stdout + k6.stderr
    result, scenario = import_k6(tmp_path, "played", script.read_text())
    assert result.returncode == 0, result.stderr
    run = careerload("run", str(scenario), "--host", target_url, "--k6-exit-codes", "--out", str(tmp_path / "run"))
    assert run.returncode in (0, 99), run.stdout + run.stderr
    assert run.returncode == k6.returncode, (run.stdout, k6.stdout, k6.stderr)
    assert (run.returncode == 99) == (share > 0)
    verdict = json.loads((tmp_path / "run" / "summary.json").read_text())["verdict"]
    assert verdict == ("FAIL" if share > 0 else "PASS")
    # played by DeclarativeUser through the normal request path: the raw log has its rows and its check failures
    rows = raw_rows(tmp_path / "run")
    assert {row["user"] for row in rows} == {"DeclarativeUser"}
    assert {row["name"] for row in rows} == ({"/api/v1/jobs", "/api/v1/health"} if share else {"/api/v1/health"})
    assert {row["error"] for row in rows if int(row["ok"]) == 0} == \
        ({"HTTP 401, expected 200 (status is 200)"} if share else set())


ABORT_JS = """\
import http from 'k6/http';

export const options = {
  vus: 2,
  duration: '20s',
  thresholds: { http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '2s' }] },
};

export default function () {
  http.get(`${__ENV.BASE_URL || 'http://127.0.0.1:8000'}/api/v1/jobs`);   // no token: every request a 401
}
"""


@needs_k6
def test_abort_on_fail_stops_both_k6_and_the_imported_scenario_early(target_url: str, tmp_path: Path) -> None:
    script = tmp_path / "abort.js"
    script.write_text(ABORT_JS)
    k6 = run_k6(script, target_url, tmp_path)
    assert k6.returncode == 99, k6.stdout + k6.stderr
    stamps = [json.loads(line)["data"]["time"] for line in (tmp_path / "k6.json").read_text().splitlines()
              if '"type":"Point"' in line]
    k6_seconds = epoch(max(stamps)) - epoch(min(stamps))
    result, scenario = import_k6(tmp_path, "abort", ABORT_JS)
    assert result.returncode == 0, result.stderr
    run = careerload("run", str(scenario), "--host", target_url, "--k6-exit-codes", "--out", str(tmp_path / "run"))
    assert run.returncode == 99, run.stdout + run.stderr
    document = json.loads((tmp_path / "run" / "run.json").read_text())
    assert document["aborted"], run.stdout
    careerload_seconds = epoch(document["end"]) - epoch(document["start"])
    # both load windows ended long before the 20 s the script asks for (2 s grace, then the live checks)
    assert k6_seconds < 10 and careerload_seconds < 10, (k6_seconds, careerload_seconds)


def _nearest_rank_neighbours(values: list[float], q: float) -> tuple[float, float, float]:
    """The nearest-rank q-quantile of values (foundation.nearest_rank) and the samples on either side of it."""
    ordered = sorted(values)
    index = nearest_rank_index(len(ordered), q)
    return ordered[max(index - 1, 0)], ordered[index], ordered[min(index + 1, len(ordered) - 1)]


@needs_k6
def test_report_on_a_k6_run_agrees_with_k6s_own_p95(target_url: str, tmp_path: Path) -> None:
    script = tmp_path / "k6run.js"
    # a submetric threshold: k6's JSON output names it but does not carry its expression (a note says so)
    script.write_text(PLAYED_JS.replace("SHARE", "0.3").replace(
        "http_req_duration: ['p(95)<2000'],",
        f"http_req_duration: ['p(95)<2000'],\n    'http_req_duration{{name:{target_url}/api/v1/health}}': ['max<0.001'],"))
    k6 = run_k6(script, target_url, tmp_path)
    assert k6.returncode == 99, k6.stdout + k6.stderr  # 30 % 401s fail http_req_failed
    report = careerload("report", "--k6-json", str(tmp_path / "k6.json"), "--out", str(tmp_path / "k6run"),
                        "--k6-exit-codes")
    assert report.returncode == 99, report.stdout + report.stderr  # judged by the script's own thresholds: FAIL
    summary = json.loads((tmp_path / "k6run" / "summary.json").read_text())
    k6_summary = json.loads((tmp_path / "k6-summary.json").read_text())["metrics"]
    durations = [json.loads(line)["data"]["value"] for line in (tmp_path / "k6.json").read_text().splitlines()
                 if '"metric":"http_req_duration"' in line and '"type":"Point"' in line]
    assert summary["aggregate"]["requests"] == len(durations) == k6_summary["http_reqs"]["count"]
    assert summary["aggregate"]["failure_ratio"] == pytest.approx(k6_summary["http_req_failed"]["value"])
    below, ours, above = _nearest_rank_neighbours(durations, 0.95)
    assert summary["aggregate"]["p95_ms"] == pytest.approx(ours, abs=0.001)
    # k6 interpolates linearly between the samples around the rank; ours is the nearest-rank sample itself
    assert below - 0.001 <= k6_summary["http_req_duration"]["p(95)"] <= above + 0.001
    judged = {(row["metric"], row["scope"]): row["status"] for row in summary["thresholds"]}
    assert judged == {("failure_ratio", "aggregate"): "FAIL", ("p95", "aggregate"): "PASS"}
    assert f"submetric http_req_duration{{name:{target_url}/api/v1/health}} but not its thresholds" in report.stderr
