"""Is the load generator the bottleneck? Requests/s of the personas' machinery vs a bare FastHttpUser.

    python benchmarks/generator.py [--seconds 8] [--users 20]

Starts a fast canned-response HTTP server on 127.0.0.1 (raw gevent sockets, so the
server is cheaper than the generator and the generator is what is measured), then
runs Locust headless against its one endpoint, each variant in its own process:

    bare        FastHttpUser, GET /api/v1/jobs/1, no careerload code at all
    machinery   a CareerUser performing the profile's `job_detail` operation (base class,
                login, the reference profile's URL template, catch_response checks of
                status, JSON shape and owner, template naming, persona context,
                per-persona statistics, careerload's listeners), raw request log off
    copilot     machinery under the career-copilot profile (its own-id route at login,
                the path template /jobs/{job_id}): what a second profile costs
    everything  machinery + the raw request log (--run-dir), Parquet segments
    live window everything + a scenario with three abort_on_fail thresholds (two on the aggregate,
                one on the endpoint; never reached): the live window fed with every request twice
    csv log     everything with --request-log-format csv (the raw log before issue 19)
    1 worker    everything, as a master plus 1 worker process (raw log written by the worker,
                as `careerload run --workers` does)
    2 workers   the same with 2 worker processes
    2 shipped   2 workers that send their raw rows to the master (as `careerload worker` does)

and prints requests/s and the ratios the issues ask for: persona / bare for both
built-in profiles (a profile must cost nothing measurable), everything / bare >= 0.8,
the raw log's own cost (1 - everything / machinery) <= 10 %, the scaling from 1 to
2 local workers, what shipping the raw rows to the master costs, and the raw log's
bytes per request: on disk (Parquet and CSV), and over the wire (the shipped
run's rows re-encoded into segments of the size a worker sends, with the
worker's own encoder: the master writes what it receives unchanged, then
compacts it, so the wire bytes are not on disk at the end). On a machine
with fewer cores than processes (master + workers + the server) the scaling ratio
is bounded by the cores, not by careerload: the line says how many there are.

This file is also the locustfile of those runs (Locust imports it as `generator`);
the variant comes from CAREERLOAD_BENCH_VARIANT.
"""

from __future__ import annotations

import os

VARIANT = os.environ.get("CAREERLOAD_BENCH_VARIANT")

if VARIANT:  # imported by Locust as the locustfile of one variant
    from locust import FastHttpUser, constant, task

    if VARIANT == "bare":
        class Bare(FastHttpUser):
            wait_time = constant(0)

            @task
            def job_detail(self) -> None:
                self.client.get("/api/v1/jobs/1", name="/api/v1/jobs/{id}")
    else:
        from locustfiles.common import CareerUser

        class Machinery(CareerUser):
            """A persona reduced to one task: the same profile lookup, checks and naming as the real ones."""

            def wait_time(self) -> float:
                return 0.0

            @task
            def job_detail(self) -> None:
                self.fetch("job_detail", id=1)

else:  # the benchmark driver
    import argparse
    import json
    import statistics
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from foundation.processes import free_port

    HERE = Path(__file__).resolve()
    REPO = HERE.parent.parent
    # One answer for every GET: a job of user 1 (what job_detail checks) that is also a user 1 (/users/me).
    JOB = b'{"id":1,"user_id":1,"title":"Backend Engineer","company":"Acme","status":"applied"}'
    TOKEN = b'{"access_token":"1.9999999999.bench","token_type":"bearer"}'

    # The "live window" variant's scenario: abort_on_fail thresholds that judge every request and never fire.
    LIVE_WINDOW_SCENARIO = Path(tempfile.gettempdir()) / f"careerload-bench-{os.getpid()}-live-window.toml"
    LIVE_WINDOW_TOML = """question = "What does the live window cost?"
[personas]
BrowsingUser = 1
[shape]
[[shape.stages]]
duration = "1m"
target = 1
[[thresholds]]
metric = "p95"
critical = 1e9
abort_on_fail = true
[[thresholds]]
metric = "failure_ratio"
scope = "endpoint:GET /api/v1/jobs/{id}"
critical = 1.0
abort_on_fail = true
[[thresholds]]
metric = "rps"
critical = 0.0
abort_on_fail = true
"""

    def canned(body: bytes) -> bytes:
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body

    def server_code(get_response: bytes) -> str:
        """The canned server's source: every GET answered with `get_response`, every POST with the login token."""
        return f"""
import sys
from gevent.server import StreamServer
JOB, LOGIN = {get_response!r}, {canned(TOKEN)!r}
def handle(sock, _):
    buf = b""
    while True:
        while b"\\r\\n\\r\\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _, buf = buf.partition(b"\\r\\n\\r\\n")
        length = 0
        for line in head.split(b"\\r\\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        while len(buf) < length:
            buf += sock.recv(65536)
        buf = buf[length:]
        sock.sendall(LOGIN if head.startswith(b"POST") else JOB)
server = StreamServer(("127.0.0.1", 0), handle)
server.start()
print(server.server_port, flush=True)
server.serve_forever()
"""

    SERVER = server_code(canned(JOB))

    def locust(variant: str, host: str, seconds: int, users: int, run_dir: Path | None, role: str = "local",
               master_port: int = 0, workers: int = 0, log_to: str = "run-dir") -> subprocess.Popen:
        env = {**os.environ, "CAREERLOAD_BENCH_VARIANT": "everything" if variant == "csv log" else variant,
               "PYTHONPATH": str(REPO), "CAREERLOAD_REQUEST_LOG_FORMAT": "csv" if variant == "csv log" else "parquet"}
        cmd = [sys.executable, "-m", "locust", "-f", str(HERE), "--host", host]
        if variant == "live window":
            cmd += ["--scenario", str(LIVE_WINDOW_SCENARIO)]
        if role == "worker":
            cmd += ["--worker", "--master-port", str(master_port), "--request-log-to", log_to]
        else:
            cmd += ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--only-summary",
                    "--json-file", str(Path(tempfile.gettempdir()) / f"careerload-bench-{os.getpid()}-{variant}"),
                    "--seed-users", "1", "--profile", "career-copilot" if variant == "copilot" else "reference"] \
                if variant != "bare" else \
                   ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--only-summary",
                    "--json-file", str(Path(tempfile.gettempdir()) / f"careerload-bench-{os.getpid()}-{variant}")]
            if run_dir is not None:
                cmd += ["--run-dir", str(run_dir)]
            if role == "master":
                cmd += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
                        "--expect-workers", str(workers)]
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def requests_per_second(variant: str) -> tuple[float, int]:
        """The run's requests/s of the measured endpoint, and every request it made (the raw log's rows)."""
        path = Path(tempfile.gettempdir()) / f"careerload-bench-{os.getpid()}-{variant}.json"
        entries = json.loads(path.read_text())
        path.unlink()
        total = sum(e["num_requests"] for e in entries if e["name"] == "/api/v1/jobs/{id}")
        start = min(e["start_time"] for e in entries)
        end = max(e["last_request_timestamp"] for e in entries)
        return total / (end - start), sum(e["num_requests"] for e in entries)

    def wire_bytes(run_dir: Path, seconds: int, workers: int) -> int:
        """The shipped rows as the workers sent them: re-encoded in segments of SEGMENT_INTERVAL_S of rows."""
        import pyarrow.parquet as pq

        from locustfiles._request_log import SEGMENT_INTERVAL_S, SEGMENT_ROWS, encode_segment

        total = 0
        for path in sorted(run_dir.glob("requests-w*.parquet")):
            columns = list(pq.read_table(path).to_pydict().values())
            rows = len(columns[0])
            size = max(min(int(rows / seconds * SEGMENT_INTERVAL_S), SEGMENT_ROWS), 1)
            total += sum(len(encode_segment([c[i:i + size] for c in columns])) for i in range(0, rows, size))
        return total

    def measure(variant: str, host: str, seconds: int, users: int, raw_log: bool, workers: int = 0,
                log_to: str = "run-dir") -> tuple[float, dict[str, float]]:
        """requests/s, and the raw log's bytes per request on disk (and over the wire when shipped)."""
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp) if raw_log else None
            if not workers:
                proc = locust(variant, host, seconds, users, run_dir)
                proc.wait(timeout=seconds + 60)
            else:
                port = free_port()
                master = locust(variant, host, seconds, users, run_dir, "master", port, workers)
                children = [locust(variant, host, seconds, users, run_dir, "worker", port, log_to=log_to)
                            for _ in range(workers)]
                master.wait(timeout=seconds + 90)
                for child in children:
                    child.wait(timeout=30)
            rps, requests = requests_per_second(variant)
            sizes: dict[str, float] = {}
            if run_dir is not None and requests:
                on_disk = sum(p.stat().st_size for p in run_dir.glob("requests*.*") if p.is_file())
                sizes["disk"] = on_disk / requests
                if log_to == "master" and workers:
                    sizes["wire"] = wire_bytes(run_dir, seconds, workers) / requests
            return rps, sizes

    def main() -> int:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--seconds", type=int, default=8, help="length of each variant's run (default 8)")
        parser.add_argument("--users", type=int, default=20, help="concurrent users, zero think time (default 20)")
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median counts (default 3)")
        args = parser.parse_args()
        server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        runs: dict[str, list[float]] = {"bare": [], "machinery": [], "copilot": [], "everything": [],
                                        "live window": [], "csv log": [], "1 worker": [], "2 workers": [],
                                        "2 shipped": []}
        sizes: dict[str, dict[str, float]] = {}
        LIVE_WINDOW_SCENARIO.write_text(LIVE_WINDOW_TOML)
        try:
            host = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            # Interleaved rounds, median per variant: the machine is shared, and a burst of
            # someone else's work must not land on one variant only.
            for round_ in range(args.rounds):
                order = [("bare", False), ("machinery", False), ("copilot", False), ("everything", True),
                         ("live window", True), ("csv log", True)]
                for variant, raw_log in order[round_ % 6:] + order[: round_ % 6]:  # rotate: no variant always last
                    rps, sizes[variant] = measure(variant, host, args.seconds, args.users, raw_log=raw_log)
                    runs[variant].append(rps)
            for round_ in range(args.rounds):
                order = [("1 worker", 1, "run-dir"), ("2 workers", 2, "run-dir"), ("2 shipped", 2, "master")]
                for name, workers, log_to in order[round_ % 3:] + order[: round_ % 3]:
                    rps, sizes[name] = measure("workers", host, args.seconds, args.users, raw_log=True,
                                               workers=workers, log_to=log_to)
                    runs[name].append(rps)
        finally:
            LIVE_WINDOW_SCENARIO.unlink(missing_ok=True)
            server.terminate()
            server.wait(timeout=10)
        results = {name: statistics.median(values) for name, values in runs.items()}
        for name, rps in results.items():
            spread = ", ".join(f"{v:.0f}" for v in runs[name])
            print(f"{name:<12} {rps:10.0f} requests/s  (runs: {spread})")
        everything = results["everything"] / results["bare"]
        log_cost = 1 - results["everything"] / results["machinery"]
        scaling = results["2 workers"] / results["1 worker"]
        shipping = 1 - results["2 shipped"] / results["2 workers"]
        print(f"persona / bare, reference      {results['machinery'] / results['bare']:.2f}")
        print(f"persona / bare, career-copilot {results['copilot'] / results['bare']:.2f}")
        print(f"everything / bare          {everything:.2f}  (want >= 0.80)")
        print(f"raw request log cost       {log_cost * 100:.1f} %  (want <= 10 %)")
        print(f"live window cost           {(1 - results['live window'] / results['everything']) * 100:.1f} %  "
              "(everything + three abort_on_fail thresholds judged live)")
        print(f"csv log / bare             {results['csv log'] / results['bare']:.2f}  (the raw log before issue 19; "
              f"Parquet / CSV {results['everything'] / results['csv log']:.2f})")
        print(f"raw log bytes per request on disk: Parquet {sizes['everything']['disk']:.1f}, "
              f"CSV {sizes['csv log']['disk']:.1f}; over the wire (2 shipped): {sizes['2 shipped']['wire']:.1f} "
              f"(the CSV text shipped before issue 19: {sizes['csv log']['disk']:.1f})")
        print(f"local workers: 1 worker {results['1 worker']:.0f} requests/s, 2 workers {results['2 workers']:.0f} "
              f"requests/s, scaling {scaling:.2f} (ideal 2.00; {os.cpu_count()} cores shared by the master, "
              f"the workers and the server)")
        print(f"raw rows shipped to the master instead of written by the workers: {shipping * 100:.1f} % "
              f"fewer requests/s")
        return 0 if everything >= 0.8 and log_cost <= 0.10 else 1

    if __name__ == "__main__":
        sys.exit(main())
