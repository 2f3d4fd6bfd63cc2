"""Before any load: fail in seconds, in one sentence, when the options, target or database cannot serve the run."""

from __future__ import annotations

import urllib.error
import urllib.request

from careerload.run_errors import RunError
from careerload.run_options import RunOptions
from foundation.processes import is_loopback
from scenarios.loader import Scenario


PREFLIGHT_TIMEOUT_S = 3.0


def check_options(options: RunOptions) -> None:
    """What the options mean together, checked before anything starts."""
    if options.workers < 0:
        raise RunError(f"--workers: expected 0 or more, got {options.workers}")
    if options.expect_workers is not None and options.expect_workers < options.workers:
        raise RunError(f"--expect-workers {options.expect_workers} is fewer than the {options.workers} local "
                       "--workers; it counts local and remote workers together")
    if options.expect_workers_timeout <= 0:
        raise RunError(f"--expect-workers-timeout: expected a positive number of seconds, "
                       f"got {options.expect_workers_timeout}")
    if options.on_worker_loss not in ("continue", "stop"):
        raise RunError(f"--on-worker-loss: expected continue or stop, got {options.on_worker_loss!r}")
    if options.snapshot_interval <= 0:
        raise RunError(f"--snapshot-interval: expected a positive number of seconds, got {options.snapshot_interval}")
    if options.web and options.web_login and not options.web_password:
        raise RunError("--web-login needs a password: set CAREERLOAD_WEB_PASSWORD (the user is --web-user, "
                       f"{options.web_user})")
    if options.web and not is_loopback(options.web_host) and not options.web_login:
        raise RunError(f"--web-host {options.web_host} makes the web UI reachable from other machines: add "
                       "--web-login and set CAREERLOAD_WEB_PASSWORD, or keep --web-host 127.0.0.1")


def preflight(host: str, scenario: Scenario, options: RunOptions) -> None:
    """Fail in seconds, with one sentence, when the target or the database cannot serve this run."""
    needs_http = any(p != "DatabaseUser" for p, w in scenario.personas.items() if w)
    if needs_http:
        url = host.rstrip("/") + "/api/v1/health"
        try:
            with urllib.request.urlopen(url, timeout=PREFLIGHT_TIMEOUT_S) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                body = exc.read()[:200].decode(errors="replace")
                raise RunError(f"{url} answered {exc.code}: the target is unhealthy ({body.strip()})") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RunError(f"cannot reach {host}: {reason} (GET {url})") from None
    if "DatabaseUser" in scenario.personas and not options.database_url:
        raise RunError(f"scenario {scenario.name} runs DatabaseUser: give --database-url (or DATABASE_URL)")
    if options.database_url:
        from careerload.stack import StackError, check_database

        try:
            users = check_database(options.database_url, timeout=int(PREFLIGHT_TIMEOUT_S),
                                   probe="SELECT count(*) FROM users", what="at --database-url")
        except StackError as exc:
            raise RunError(str(exc)) from None
        if users == 0:
            raise RunError("the database has no users: seed it first (careerload seed)")
