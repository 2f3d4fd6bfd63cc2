"""A run that dies keeps what it measured: a killed Locust master, a killed `careerload run`, a torn raw log.

Real processes on loopback against the session's backend: the smoke scenario at
--time-scale 0.5 (15 s) with 4 users, killed a few seconds in. Every process is
found by PID (/proc) and stopped by PID. The request counts the reports give are
checked against the raw logs, counted here without careerload's code: the CSV
log's lines (--request-log-format csv, where a kill tears the last row), and
the Parquet log's segments (whole by construction: a kill loses the unwritten
buffer, seconds of rows).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from foundation.processes import free_port
from locustfiles._request_log import SEGMENT_INTERVAL_S
from raw_log_support import has_segments
from test_distributed import children, cmdline, stop
from test_personas_support import CLI, REPO, careerload, seed_accounts

SEED_USERS = 5
# smoke at 0.5 lasts 15 s; the kill comes about 3 s after both workers have logged requests.
LOAD = ("--time-scale", "0.5", "--think-time-scale", "0.2", "--users", "4", "--seed-users", str(SEED_USERS))
CSV_LOG = ("--request-log-format", "csv")


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def whole_and_torn(paths: list[Path]) -> tuple[int, int]:
    """Rows that end with a newline (header left out), and last lines that do not, over some raw logs."""
    whole = torn = 0
    for path in paths:
        data = path.read_bytes()
        whole += data.count(b"\n") - 1
        torn += 0 if data.endswith(b"\n") else 1
    return whole, torn


def worker_logs(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("requests-*.csv"))


def gone(pid: int) -> bool:
    """Whether a process has exited (a zombie nobody reaped counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_for(written: Callable[[], bool], what: object = "the raw logs", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not written():
        assert time.monotonic() < deadline, f"never written: {what}"
        time.sleep(0.2)
    time.sleep(3)  # some load


def wait_for_files(*paths: Path, timeout: float = 30) -> None:
    wait_for(lambda: all(p.exists() for p in paths), paths, timeout)


def locust_children(pid: int) -> tuple[int, list[int]]:
    """The Locust master's PID and its workers' PIDs among a `careerload run`'s children."""
    pids = children(pid)
    workers = [p for p in pids if "--worker" in cmdline(p)]
    masters = [p for p in pids if "locust" in cmdline(p) and p not in workers]
    assert len(masters) == 1, [cmdline(p) for p in pids]
    return masters[0], workers


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def assert_marked_incomplete(run_dir: Path, reason: str) -> None:
    """summary.json, report.md, report.html and junit.xml all say the run is incomplete, and why."""
    incomplete = summary(run_dir)["incomplete"]
    assert incomplete["reason"] == reason, incomplete
    assert f"Incomplete run ({reason})" in incomplete["note"]
    assert incomplete["note"] in (run_dir / "report.md").read_text()
    assert "(incomplete run)" in (run_dir / "report.md").read_text().splitlines()[0]
    assert f"Incomplete run ({reason})" in (run_dir / "report.html").read_text()
    assert f'<property name="incomplete" value="{reason}" />' in (run_dir / "junit.xml").read_text()


@dataclass
class KilledMaster:
    out: Path
    returncode: int
    stdout: str
    stderr: str
    master: int
    killed_at: float


def kill_the_master(host: str, out: Path, workers: int, csv_log: bool = True) -> KilledMaster:
    """`careerload run` whose Locust master (or single Locust process) is SIGKILLed mid-run."""
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, *LOAD, *(CSV_LOG if csv_log else ()),
                             "--workers", str(workers), "--out", str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if csv_log:
            wait_for_files(*([out / f"requests-w{i}.csv" for i in range(workers)] or [out / "requests.csv"]))
        else:
            wait_for(lambda: all(has_segments(out, w) for w in [f"w{i}" for i in range(workers)] or ["local"]))
        master, _ = locust_children(proc.pid)
        os.kill(master, signal.SIGKILL)
        killed_at = time.time()
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        stop(proc)
    return KilledMaster(out, proc.returncode, stdout, stderr, master, killed_at)


@pytest.fixture(scope="module")
def killed_master(host: str, tmp_path_factory: pytest.TempPathFactory) -> KilledMaster:
    return kill_the_master(host, tmp_path_factory.mktemp("master") / "run", workers=2)


def parquet_rows(run_dir: Path) -> list[dict]:
    """Every row of every Parquet file of a run directory's raw log, read with pyarrow alone."""
    files = sorted(run_dir.glob("requests-*.parquet")) + sorted((run_dir / "requests").glob("*.parquet"))
    return [row for path in files for row in pq.read_table(path).to_pylist()]


def test_a_killed_single_process_run_with_the_parquet_log_loses_seconds_of_rows_not_the_run(
        host: str, tmp_path: Path) -> None:
    run = kill_the_master(host, tmp_path / "parquet", workers=0, csv_log=False)
    assert run.returncode == 2, run.stdout + run.stderr
    assert_marked_incomplete(run.out, "master lost")
    assert not (run.out / "requests-local.parquet").exists()  # killed: never compacted, read from its segments
    rows = parquet_rows(run.out)
    assert len(rows) > 5
    result = summary(run.out)
    assert result["aggregate"]["requests"] == len(rows) and result["incomplete"]["torn_rows"] == 0
    # what was lost is the buffer since the last segment: seconds (SEGMENT_INTERVAL_S), not the run
    assert run.killed_at - max(row["ts"] for row in rows) < SEGMENT_INTERVAL_S + 3, run.killed_at


def test_a_killed_master_gives_exit_2_one_line_and_a_partial_report_of_every_row(killed_master: KilledMaster) -> None:
    run = killed_master
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert f"the Locust master (pid {run.master}) was killed by SIGKILL mid-run" in run.stderr
    assert f"partial report {run.out / 'report.html'}" in run.stderr
    # the partial report came at once, verdict table included
    assert "careerload: Incomplete run (master lost)" in run.stdout and "careerload: verdict" in run.stdout
    document = json.loads((run.out / "run.json").read_text())
    assert document["status"] == "incomplete" and document["incomplete"]["reason"] == "master lost"
    assert document["start"] is not None and document["options"]["careerload_run"]["workers"] == 2
    assert_marked_incomplete(run.out, "master lost")
    whole, torn = whole_and_torn(worker_logs(run.out))
    assert whole > 5, whole
    result = summary(run.out)
    assert result["aggregate"]["requests"] == whole and result["incomplete"]["torn_rows"] == torn
    assert (run.out / "requests.csv").read_bytes().count(b"\n") - 1 == whole
    # the load window ends at the last measured request, not when run.json was last written
    assert result["window"]["source"] == "run.json start, last request (incomplete run)"
    assert result["thresholds"] and all(t["observed"] is not None for t in result["thresholds"])


def test_a_torn_last_line_in_a_worker_log_is_left_out_and_counted_in_the_note(
        killed_master: KilledMaster, tmp_path: Path) -> None:
    run_dir = tmp_path / "torn"
    shutil.copytree(killed_master.out, run_dir)
    log = run_dir / "requests-w1.csv"
    data = log.read_bytes()
    last_row = data.rstrip(b"\r\n").rsplit(b"\n", 1)[1]
    log.write_bytes(data + last_row[: len(last_row) // 2])  # a row cut where a killed process stopped writing
    whole, torn = whole_and_torn(worker_logs(run_dir))
    assert torn >= 1
    result = careerload("report", str(run_dir), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert result.stdout.startswith("note: Incomplete run (master lost)"), result.stdout
    assert f"{torn} torn row" in result.stdout
    assert summary(run_dir)["aggregate"]["requests"] == whole
    assert log.read_bytes().endswith(last_row[: len(last_row) // 2])  # the worker's own file is left as it was


def test_a_single_process_run_whose_locust_is_killed_keeps_its_torn_log_beside_the_merged_one(
        host: str, tmp_path: Path) -> None:
    run = kill_the_master(host, tmp_path / "single", workers=0)
    assert run.returncode == 2, run.stdout + run.stderr
    assert_marked_incomplete(run.out, "master lost")
    kept = run.out / "requests-local.csv"  # what the killed process wrote, as it wrote it
    whole, torn = whole_and_torn([kept])
    assert whole > 5
    assert summary(run.out)["aggregate"]["requests"] == whole and summary(run.out)["incomplete"]["torn_rows"] == torn


def test_killing_careerload_run_leaves_a_directory_careerload_report_reads(host: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, *LOAD, *CSV_LOG, "--workers", "2", "--out", str(out)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    locust: list[int] = []
    try:
        wait_for_files(out / "requests-w0.csv", out / "requests-w1.csv")
        master, workers = locust_children(proc.pid)
        locust = [master, *workers]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # its Locust processes get SIGTERM (PR_SET_PDEATHSIG) and stop by themselves
        deadline = time.monotonic() + 40
        while not all(gone(pid) for pid in locust):
            assert time.monotonic() < deadline, [cmdline(pid) for pid in locust if not gone(pid)]
            time.sleep(0.2)
    finally:
        stop(proc)
        for pid in locust:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    assert not (out / "requests.csv").exists() and not (out / "summary.json").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "incomplete"
    whole, torn = whole_and_torn(worker_logs(out))
    result = careerload("report", str(out), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert result.stdout.startswith("note: Incomplete run (interrupted)"), result.stdout
    assert_marked_incomplete(out, "interrupted")
    assert whole > 5 and summary(out)["aggregate"]["requests"] == whole, (whole, torn)
    assert summary(out)["incomplete"]["torn_rows"] == torn


def test_a_remote_worker_whose_master_dies_keeps_its_unconfirmed_rows_and_says_where(
        host: str, tmp_path: Path) -> None:
    out, unsent = tmp_path / "run", tmp_path / "unsent"
    port = free_port()
    run = subprocess.Popen([*CLI, "run", "smoke", "--host", host, *LOAD, "--expect-workers", "1",
                            "--expect-workers-timeout", "30", "--master-port", str(port), "--out", str(out)],
                           cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([*CLI, "worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                               "--unsent-dir", str(unsent)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: has_segments(out, "w0"))  # written by the master from the worker's rows
        master, _ = locust_children(run.pid)
        os.kill(master, signal.SIGKILL)
        assert run.wait(timeout=60) == 2
        time.sleep(2)  # the worker goes on sending into the dead connection
        worker.send_signal(signal.SIGINT)  # as its operator would, seeing the master gone
        output, _ = worker.communicate(timeout=30)
    finally:
        stop(run)
        stop(worker)
    kept = unsent / out.name / "requests"
    assert f"kept in {kept}" in output, output
    kept_files = sorted(kept.glob("w0-*.parquet"))
    rows = [row for path in kept_files for row in pq.read_table(path).to_pylist()]
    assert kept_files and len(rows) > 1 and all(len(row) == 9 and row["worker"] == "w0" for row in rows)
    shipped = {tuple(row.values()) for row in parquet_rows(out)}
    assert not shipped & {tuple(row.values()) for row in rows}  # only what the master never confirmed
    # copied into the run directory's requests/, the kept rows join the report
    before = summary(out)["aggregate"]["requests"]
    for path in kept_files:
        shutil.copy(path, out / "requests" / path.name)
    result = careerload("report", str(out), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert summary(out)["aggregate"]["requests"] == before + len(rows)
