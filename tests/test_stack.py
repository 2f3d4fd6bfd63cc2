"""`careerload up` and the embedded stack, as real processes."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest

from foundation.processes import free_port

CAREERLOAD = [sys.executable, "-m", "careerload"]
ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(extra)
    return env


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _run_error(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(CAREERLOAD + args, capture_output=True, text=True, env=_env(**env), timeout=60, cwd=ROOT)
    assert time.monotonic() - started < 30, "an environment error must fail fast"
    return done


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("careerload: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_up_prints_urls_then_stops_everything(sig: signal.Signals) -> None:
    proc = subprocess.Popen(CAREERLOAD + ["up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=ROOT)
    try:
        urls: dict[str, str] = {}
        while len(urls) < 3:
            line = proc.stdout.readline()
            assert line, f"up ended early: {proc.stderr.read()}"
            key, _, value = line.strip().partition("=")
            urls[key] = value
        assert set(urls) == {"DATABASE_URL", "REDIS_URL", "TARGET_URL"}
        ports = [urlparse(url).port for url in urls.values()]
        assert all(_listening(port) for port in ports)
        import urllib.request
        with urllib.request.urlopen(urls["TARGET_URL"] + "/api/v1/health", timeout=5) as response:
            assert response.status == 200
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running: {alive}"
    assert not any(_listening(port) for port in ports)


def test_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_error_line(_run_error(["up", "--port", str(port)]))
    assert f"127.0.0.1:{port}" in line and "in use" in line and "--port" in line


def test_database_url_that_does_not_answer() -> None:
    port = free_port()
    line = _one_error_line(_run_error(["up"], DATABASE_URL=f"postgresql://nobody:secret@127.0.0.1:{port}/x"))
    assert "does not answer" in line and "secret" not in line


def test_missing_postgres_binaries(tmp_path: Path) -> None:
    line = _one_error_line(_run_error(["up"], CAREERLOAD_PG_BIN=str(tmp_path)))
    assert "initdb" in line


def test_missing_redis_server_stops_postgres_it_started() -> None:
    pg_port = free_port()
    line = _one_error_line(_run_error(["up", "--pg-port", str(pg_port)], CAREERLOAD_REDIS_SERVER="/nonexistent/redis-server"))
    assert "redis-server" in line
    assert not _listening(pg_port)


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user the session's stack already covers this path")
def test_stack_runs_as_a_normal_user_too() -> None:
    """The root path (PostgreSQL handed to a system user) runs in every session; this checks the other one."""
    # The interpreter (under /root) and maybe this checkout (a 0700 temporary folder in CI) are not
    # readable by `nobody`: import and read everything as root, then drop privileges. Redis does not
    # care who runs it, so only PostgreSQL, the part that differs for root, is started.
    user = pwd.getpwnam("nobody")
    script = (
        "import os, importlib.readers, psycopg\n"
        "from careerload.stack import Stack\n"
        "from seed_data import schema\n"
        "for step in schema.STEPS: schema.sql(step)\n"
        f"os.setgroups([]); os.setgid({user.pw_gid}); os.setuid({user.pw_uid})\n"
        "with Stack(target=False, redis_server=False, from_env=False) as s:\n"
        "    with psycopg.connect(s.database_url) as c:\n"
        "        print(c.execute('select current_user').fetchone()[0], s.pids['postgres'],\n"
        "              c.execute('select count(*) from pg_extension where extname = %s', ('pg_stat_statements',)).fetchone()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd="/tmp",
                          env={**_env(), "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    db_user, pid, extensions = done.stdout.split()
    assert db_user == "careerload" and extensions == "1"
    assert not psutil.pid_exists(int(pid))
