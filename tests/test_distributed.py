"""Distributed runs: Locust master and workers as real processes, locally and across network namespaces.

Every run is a few seconds with at most 4 users. Load goes only to the session's
loopback backend, or to a backend inside the network namespaces the namespace
test creates (private 10.231.x.y/30 addresses that exist only inside them).
Every process is stopped by PID; the namespaces are deleted in a finally.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from careerload.locust_processes import stop_child
from careerload.stack import Stack, find_redis_server
from raw_log_support import has_segments, raw_rows, rows_per_worker
from test_personas_support import CLI, REPO, careerload, seed_accounts

SEED_USERS = 5
# smoke at 0.2 is 6 s; no think time and 4 users make a few hundred requests per worker.
BUSY = ("--time-scale", "0.2", "--think-time-scale", "0", "--users", "4", "--seed-users", str(SEED_USERS))


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def locust_total(run_dir: Path) -> int:
    return sum(entry["num_requests"] for entry in json.loads((run_dir / "locust_stats.json").read_text()))


def assert_merged_counts(run_dir: Path, workers: int) -> dict[str, int]:
    """The rows of every requests-<worker>.parquet == Locust's own total, no segment left; returns rows per worker."""
    parts = rows_per_worker(run_dir)
    assert len(parts) == workers, parts
    assert not list((run_dir / "requests").glob("*.parquet")), "segments left after compaction"
    assert sum(parts.values()) == len(raw_rows(run_dir)) == locust_total(run_dir), (parts, locust_total(run_dir))
    assert all(count > 0 for count in parts.values()), parts
    return parts


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop one child by its PID: SIGINT, then (careerload's own escalation) SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    stop_child(proc, timeout)


# ---------------------------------------------------------------------------- local workers


def test_two_local_workers_merge_to_the_sum_of_their_logs_and_locusts_total(host: str, tmp_path: Path) -> None:
    out = tmp_path / "two"
    result = careerload("run", "smoke", "--host", host, *BUSY, "--workers", "2", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    parts = assert_merged_counts(out, workers=2)
    assert sum(parts.values()) > 100, parts
    document = json.loads((out / "run.json").read_text())
    assert document["workers"] == ["w0", "w1"] and document["lost_workers"] == []
    assert set(document["worker_nodes"]) == {"w0", "w1"}
    # every row is labelled with the worker whose file it came from
    assert {row["worker"] for row in raw_rows(out)} == {"w0", "w1"}


def _run_and_kill_a_worker(host: str, out: Path, *options: str) -> tuple[subprocess.Popen, str, float]:
    """A 2-worker smoke run whose second worker is SIGKILLed once both have sent load."""
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, "--time-scale", "0.5", "--think-time-scale", "0.2",
                             "--users", "4", "--seed-users", str(SEED_USERS), "--workers", "2", "--out", str(out),
                             *options],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not has_segments(out, "w1"):
            time.sleep(0.3)
        time.sleep(2)  # some load on both workers
        workers = [pid for pid in children(proc.pid) if "--worker" in cmdline(pid)]
        assert len(workers) == 2, [cmdline(pid) for pid in children(proc.pid)]
        os.kill(workers[1], signal.SIGKILL)
        killed_at = time.time()
        output, _ = proc.communicate(timeout=90)
    finally:
        stop(proc)
    return proc, output, killed_at


def test_a_worker_killed_mid_run_is_in_run_json_and_the_report(host: str, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    proc, output, killed_at = _run_and_kill_a_worker(host, out)
    assert proc.returncode == 0, output  # --on-worker-loss continue: the run carries on, verdict as usual
    document = json.loads((out / "run.json").read_text())
    assert len(document["lost_workers"]) == 1, document["lost_workers"]
    lost = document["lost_workers"][0]
    assert lost["worker"] in ("w0", "w1") and "heartbeat" in lost["reason"]
    noticed = time.mktime(time.strptime(lost["at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert 0 <= noticed - killed_at < 10, (lost, killed_at)  # Locust's heartbeat: about 3 s
    assert f"worker {lost['worker']} lost at" in output and "carried on" in output
    assert f"Worker {lost['worker']}" in (out / "report.md").read_text()
    assert f"Worker {lost['worker']}" in (out / "report.html").read_text()
    # the survivor's log and the segments the killed one wrote before dying are all read; none is torn
    rows = raw_rows(out)
    assert {row["worker"] for row in rows} == {"w0", "w1"} and all(len(row) == 9 for row in rows)


def test_on_worker_loss_stop_ends_the_run_writes_the_report_and_exits_2(host: str, tmp_path: Path) -> None:
    out = tmp_path / "stopped"
    proc, output, _ = _run_and_kill_a_worker(host, out, "--on-worker-loss", "stop")
    assert proc.returncode == 2, output
    document = json.loads((out / "run.json").read_text())
    assert len(document["lost_workers"]) == 1 and "--on-worker-loss stop" in document["aborted"]
    window = time.mktime(time.strptime(document["end"][:19], "%Y-%m-%dT%H:%M:%S")) - \
        time.mktime(time.strptime(document["start"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert window < 15, document  # the smoke shape at --time-scale 0.5 lasts 15 s
    assert (out / "report.md").is_file() and (out / "summary.json").is_file()


def test_expecting_more_workers_than_come_times_out_in_one_line_with_exit_2(host: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result = careerload("run", "smoke", "--host", host, *BUSY, "--workers", "2", "--expect-workers", "3",
                        "--expect-workers-timeout", "4", "--out", str(tmp_path / "short"), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert time.monotonic() - started < 30
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "expected 3 workers, only 2 connected within 4 s (--expect-workers-timeout)" in result.stderr
    assert "careerload worker --master-host" in result.stderr


# ---------------------------------------------------------------------------- network namespaces


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = f"clprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns add` does not work here: {getattr(exc, 'stderr', b'').decode().strip() or exc}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


class Namespaces:
    """A master namespace with a veth pair to each worker namespace; /30 links, workers route via the master."""

    def __init__(self, workers: int) -> None:
        tag = os.getpid() % 100000
        self.master = f"clm{tag}"
        self.workers = [f"clw{tag}x{i}" for i in range(workers)]
        self.links = [(f"cm{tag}x{i}", f"cw{tag}x{i}") for i in range(workers)]
        self.master_addresses = [f"10.231.{i + 1}.1" for i in range(workers)]

    def create(self) -> None:
        for ns in (self.master, *self.workers):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for i, (ns, (m_end, w_end)) in enumerate(zip(self.workers, self.links)):
            _ip("link", "add", m_end, "netns", self.master, "type", "veth", "peer", "name", w_end, "netns", ns)
            _ip("-n", self.master, "addr", "add", f"10.231.{i + 1}.1/30", "dev", m_end)
            _ip("-n", ns, "addr", "add", f"10.231.{i + 1}.2/30", "dev", w_end)
            _ip("-n", self.master, "link", "set", m_end, "up")
            _ip("-n", ns, "link", "set", w_end, "up")
            _ip("-n", ns, "route", "add", "default", "via", f"10.231.{i + 1}.1")

    def delete(self) -> None:
        for ns in (*self.workers, self.master):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    reason = _netns_unavailable()
    if reason:
        pytest.skip(reason)
    spaces = Namespaces(2)
    try:
        spaces.create()
        yield spaces
    finally:
        spaces.delete()


def _in(ns: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    # `ip netns exec` execs the command: the PID we hold is the process's own.
    with open(log, "w") as out:
        return subprocess.Popen(["ip", "netns", "exec", ns, *argv], cwd=REPO, env={**os.environ, **(env or {})},
                                stdout=out, stderr=subprocess.STDOUT)


def test_master_and_two_workers_in_separate_network_namespaces(
        namespaces: Namespaces, stack: Stack, host: str, tmp_path: Path) -> None:
    python = str(Path(os.sys.executable))
    # The backend lives in the master's namespace: its PostgreSQL is the session's, over the
    # Unix socket (a file, so namespaces do not matter); its Redis is a private one in there.
    pg_socket_dir = stack.workdir / "pg"
    database_url = f"postgresql://careerload@/careerload?host={pg_socket_dir}&port={stack.pg_port}"
    backend = f"http://{namespaces.master_addresses[0]}:8000"
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_in(namespaces.master, [find_redis_server(), "--port", "6379", "--bind", "127.0.0.1", "--save",
                                             "", "--appendonly", "no", "--dir", str(tmp_path)], tmp_path / "redis.log"))
        procs.append(_in(namespaces.master, [python, "-m", "uvicorn", "target_api.main:app", "--host", "0.0.0.0",
                                             "--port", "8000", "--no-access-log", "--log-level", "warning"],
                         tmp_path / "target.log",
                         env={"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/0"}))
        health = [python, "-c", f"import urllib.request as u; u.urlopen('{backend}/api/v1/health', timeout=2)"]
        deadline = time.monotonic() + 30
        while subprocess.run(["ip", "netns", "exec", namespaces.master, *health], capture_output=True).returncode:
            assert time.monotonic() < deadline, (tmp_path / "target.log").read_text()
            time.sleep(0.5)
        # the backend is reachable from the worker namespaces, and not from this one
        for ns in namespaces.workers:
            assert subprocess.run(["ip", "netns", "exec", ns, *health], capture_output=True).returncode == 0
        out = tmp_path / "run"
        master = _in(namespaces.master, [*CLI, "run", "smoke", "--host", backend, *BUSY,
                                         "--master-bind-host", "0.0.0.0", "--expect-workers", "2",
                                         "--expect-workers-timeout", "30", "--out", str(out)], tmp_path / "master.log")
        procs.append(master)
        for ns, address in zip(namespaces.workers, namespaces.master_addresses):
            procs.append(_in(ns, [*CLI, "worker", "--master-host", address], tmp_path / f"{ns}.log"))
        master.wait(timeout=90)
        output = (tmp_path / "master.log").read_text()
        assert master.returncode == 0, output
        assert "master on 0.0.0.0:5557 expecting 2 workers (0 local)" in output
        for worker in procs[-2:]:
            worker.wait(timeout=30)  # the master's end tells the workers to quit
            assert worker.returncode == 0
        document = json.loads((out / "run.json").read_text())
        assert document["workers"] == ["w0", "w1"] and document["lost_workers"] == []
        # Both workers' rows came over the master connection (no shared run directory on their side).
        assert_merged_counts(out, workers=2)
    finally:
        for proc in reversed(procs):
            stop(proc)
