"""careerload's part of Locust's web UI: the scenario picker, a panel saying what will play, STOP as the end of the run.

Registered on `events.init` where a web UI exists (master or local process):

- **The picker** (`--scenario`, under Custom parameters) lists the built-in
  scenarios and the file the run was started with, and preselects the scenario
  the process was started with (later: the one last started). Locust builds the
  picker from its parser on every page load, which knows no file and no
  current value, so `update_template_args` is wrapped to set both.
- **The panel** above Locust's page (`_web_ui.js`, injected into the index
  page) shows the question and the shape (stages, peak, duration) of the
  scenario the form would start, as the picker, Peak users and Time scale say
  now, and once started, of what plays; then the link to careerload's report.
  Locust's own user count and ramp fields stay disabled: the shape sets both.
- **STOP ends the run** as Ctrl-C does: run.json closed with the verdict,
  Locust's HTML report, the workers' raw logs merged, and careerload's analysis
  (`python -m analysis RUN_DIR`, a child process: the analysis imports pandas,
  which a Locust process must not) writes report.html, which the panel links
  to. The run directory holds one test, so a second START is refused with a
  sentence: a new test is a new `careerload run`.
- **Exposure**: bound to anything but loopback, the web UI needs `--web-login`
  (Locust's login page) with a password (`CAREERLOAD_WEB_PASSWORD`); without
  it the process ends at init with one line, exit 2.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import gevent
from flask import Blueprint, Response, jsonify, make_response, redirect, request, send_file, session, url_for
from flask_login import UserMixin, login_user
from locust import events
from locust.env import Environment
from locust.html import get_html_report

from foundation import rundir
from foundation.processes import die_with_parent, is_loopback
from foundation.rawlog import merge_request_logs
from locustfiles._distributed import compact_shipped
from locustfiles._run_json import how_it_ended, write_run_json
from locustfiles._run_state import RUN
from locustfiles._verdict import verdict
from scenarios.loader import Scenario, builtin_names, load_scenario
from scenarios.thresholds import ScenarioError

log = logging.getLogger("careerload")

PANEL_JS = Path(__file__).with_name("_web_ui.js")
REPO_ROOT = Path(__file__).resolve().parent.parent
REFUSED_SECOND_TEST = ("careerload: this run is over and written (see its report); for another test, start a new "
                       "`careerload run`: one run directory holds one test")


def describe(scenario: Scenario) -> dict[str, Any]:
    """What a person needs before pressing START: name, question, the shape in words, peak and duration."""
    if scenario.kind == "arrival":
        stages = [f"{s.target:g} iterations/s over {_seconds(s.duration_s)}" for s in scenario.stages]
        peak = f"{scenario.vus} users in the pool (open model)"
    elif scenario.kind == "steps":
        stages = [f"{s.target:g} users for {_seconds(s.duration_s)}" for s in scenario.stages]
        peak = f"peak {scenario.peak_users} users"
    else:
        targets = [0.0] + [s.target for s in scenario.stages]
        stages = [f"hold {s.target:g} users for {_seconds(s.duration_s)}" if s.target == before
                  else f"to {s.target:g} users over {_seconds(s.duration_s)}"
                  for s, before in zip(scenario.stages, targets)]
        peak = f"peak {scenario.peak_users} users"
    return {"name": scenario.name, "question": scenario.question, "kind": scenario.kind, "stages": stages,
            "peak": peak, "duration": _seconds(scenario.duration_s), "time_scale": scenario.time_scale}


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{value:.3g} s"


def picker_choices(started_with: str) -> list[str]:
    """The built-ins, and the file the process was started with (its path, as --scenario took it)."""
    names = builtin_names()
    return names if started_with in names else [*names, started_with]


def refusal(options: Any) -> str | None:
    """Why this web UI must not start as configured, in one line; None when it may."""
    if options.web_login and not options.web_password:
        return "--web-login needs a password: set CAREERLOAD_WEB_PASSWORD (the user is --web-user, default careerload)"
    if not is_loopback(options.web_host) and not options.web_login:
        where = options.web_host or "every interface"
        return (f"the web UI on {where} is reachable from other machines: add --web-login and set "
                "CAREERLOAD_WEB_PASSWORD, or bind --web-host 127.0.0.1")
    return None


@events.init.add_listener
def on_init(environment: Environment, web_ui: Any = None, **_: Any) -> None:
    options = environment.parsed_options
    if web_ui is None or options is None:
        return
    why = refusal(options)
    if why:
        log.error("%s", why)
        sys.exit(2)
    base = options.web_base_path or ""
    blueprint = Blueprint("careerload", __name__, url_prefix=f"{base}/careerload")
    if options.web_login:
        _login(web_ui, blueprint, options, base)
    _picker(web_ui, options)
    _panel(environment, web_ui, blueprint, base)
    web_ui.app.register_blueprint(blueprint)
    # Registered now, after the plugin's own test_stop listener: workers drained and logs flushed first.
    environment.events.test_stop.add_listener(lambda **kw: close_run(environment))


def _login(web_ui: Any, blueprint: Blueprint, options: Any, base: str) -> None:
    """Locust's login page with one account: --web-user and CAREERLOAD_WEB_PASSWORD."""

    class Operator(UserMixin):
        def __init__(self, name: str) -> None:
            self.id = name

    web_ui.app.config["SECRET_KEY"] = secrets.token_hex(32)  # sessions last as long as this process
    web_ui.login_manager.user_loader(lambda name: Operator(name) if name == options.web_user else None)
    web_ui.auth_args = {"username_password_callback": f"{base}/careerload/login"}

    @blueprint.route("/login", methods=["POST"])
    def login() -> Response:
        user_ok = hmac.compare_digest(request.form.get("username", ""), options.web_user)
        password_ok = hmac.compare_digest(request.form.get("password", ""), options.web_password)
        if user_ok and password_ok:
            login_user(Operator(options.web_user))
            return redirect(url_for("locust.index"))
        session["auth_error"] = "Wrong user name or password"
        return redirect(url_for("locust.login"))


def _picker(web_ui: Any, options: Any) -> None:
    """The scenario picker: the file among the choices, the current scenario preselected."""
    choices = picker_choices(options.scenario)
    build = web_ui.update_template_args

    def update_template_args() -> None:
        build()
        picker = web_ui.template_args["extra_options"].get("scenario")
        if picker is not None:
            picker["choices"] = choices
            picker["default_value"] = options.scenario

    web_ui.update_template_args = update_template_args
    update_template_args()


def _panel(environment: Environment, web_ui: Any, blueprint: Blueprint, base: str) -> None:
    """The panel's script in the index page, its state route, the report route, and no second test."""
    options = environment.parsed_options
    guard = web_ui.auth_required_if_enabled

    @web_ui.app.after_request
    def inject_panel(response: Response) -> Response:
        if request.path in (base or "/", f"{base}/") and response.mimetype == "text/html" and response.status_code == 200:
            page = response.get_data(as_text=True)
            script = f'<script src="{base}/careerload/panel.js"></script>'
            response.set_data(page.replace("</body>", script + "</body>", 1))
        return response

    @web_ui.app.before_request
    def one_test_per_run() -> Response | None:
        if request.path == f"{base}/swarm" and RUN.closed:
            return jsonify({"success": False, "message": REFUSED_SECOND_TEST, "host": environment.host})
        return None

    @blueprint.route("/panel.js")
    @guard
    def panel_js() -> Response:
        return send_file(PANEL_JS, mimetype="application/javascript", max_age=0)

    @blueprint.route("/state")
    @guard
    def state() -> Response:
        """The panel's data: the scenario the form would start (from its query), what plays, the report."""
        out: dict[str, Any] = {"state": environment.runner.state, "run_dir": options.run_dir or None,
                               "report": RUN.report}
        try:
            picked = load_scenario(request.args.get("scenario") or options.scenario)
            users = int(request.args.get("peak_users") or options.peak_users or 0) or None
            out["selected"] = describe(picked.scaled(float(request.args.get("time_scale") or options.time_scale),
                                                     users))
        except (ScenarioError, ValueError) as exc:
            out["error"] = str(exc)
        if RUN.scenario is not None and environment.runner.state != "ready":
            out["playing"] = describe(RUN.scenario)
        return jsonify(out)

    @blueprint.route("/report")
    @guard
    def report() -> Response:
        path = Path(options.run_dir or ".") / rundir.REPORT_HTML
        if RUN.report != "written" or not path.is_file():
            return make_response("careerload's report is not written yet: STOP the test first", 404)
        return send_file(path.resolve(), mimetype="text/html", max_age=0)


def close_run(environment: Environment) -> None:
    """The test stopped (STOP, or the shape's end): write the run directory as Ctrl-C would, then the report."""
    options = environment.parsed_options
    if not options.run_dir or RUN.scenario is None or RUN.closed:
        return
    RUN.closed = True
    shape = environment.shape_class
    if shape is not None and shape.get_run_time() < RUN.scenario.duration_s and RUN.aborted is None:
        RUN.aborted = "stopped from the web UI"
    if RUN.request_log is not None:
        RUN.request_log.close()
        RUN.request_log = None
    compact_shipped()
    result = verdict(RUN.scenario.thresholds, environment.runner.stats, RUN.personas)
    write_run_json(environment, result, *how_it_ended())
    if options.html_file:
        Path(options.html_file).write_text(get_html_report(environment, show_download_link=False), encoding="utf-8")
    run_dir = Path(options.run_dir)
    merge_request_logs(run_dir)
    RUN.report = "writing"
    gevent.spawn(_write_report, run_dir)


def _write_report(run_dir: Path) -> None:
    """careerload's analysis of the run directory, in a child process that dies with this one."""
    done = subprocess.run([sys.executable, "-m", "analysis", str(run_dir)], cwd=REPO_ROOT, capture_output=True,
                          text=True, preexec_fn=die_with_parent)
    written = (run_dir / rundir.REPORT_HTML).is_file()
    RUN.report = "written" if written else "failed"
    if written:
        log.info("careerload: report %s", run_dir / rundir.REPORT_HTML)
    else:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        log.error("careerload: no report (%s); `careerload report %s` retries", last[0], run_dir)
