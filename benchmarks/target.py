"""Benchmark: the cached and the uncached `GET /api/v1/jobs` page on one uvicorn worker.

Question it answers: does the reference backend's cached job list reach the
seeds' 1,000 requests/s (p95 < 500 ms) on this machine, and what does the cache buy?

How: one embedded stack (PostgreSQL, Redis, uvicorn with CACHE_ENABLED=true) and a
second uvicorn on the same servers with CACHE_ENABLED=false. A user with --jobs
jobs; every request asks for the same first page (20 items), so the cached run
is all hits after the first request and the uncached run is all PostgreSQL.
Load comes from a separate process: a closed loop of --concurrency gevent
greenlets over geventhttpclient keep-alive connections (cheaper per request than
Locust's bookkeeping, and far cheaper than threads + requests, which would be
the bottleneck). Each run is --duration seconds after a warm-up; the figures
printed are the medians over --runs runs, because the machine is shared.

    .venv/bin/python benchmarks/target.py [--runs 3] [--duration 10] [--concurrency 32]

Where the time goes (py-spy record at 200 Hz on the uvicorn worker, percentages
of its samples, 2-core machine shared with other engineers):
- Cached: no database connection and no JSON work at all (the stored bytes are
  returned as they are; orjson does not appear). FastAPI dependency and query
  validation ~28 % (query parameters alone ~12 %), the Redis EVALSHA round trip
  ~19 % (mostly redis-py's Python side: command packing, connection checkout,
  the pure-Python RESP3 parser, asyncio timeouts; hiredis would trim some),
  Starlette/FastAPI middleware and routing ~20 %, response send ~7 %, token
  check ~4 %, the rest uvicorn/httptools/uvloop. Before the dependencies were
  made `async def`, a thread-pool hop per plain `def` dependency was the
  largest single cost.
- Uncached: waiting on PostgreSQL for the pipelined count + page queries ~35 %,
  psycopg pipeline and cursor handling ~20 %, pool checkout ~5 %, dependencies
  ~15 %; orjson encoding of 20 rows stays under 1 %. Pool waits are nil at 32
  connections (requests_waiting 0): the worker's one core is the limit.
- The load generator shares the two cores, so both figures are lower bounds.

Measured (median of 3 x 8 s, 32 connections, 1,000 jobs): cached 1,522 req/s
(p95 38 ms), uncached 688 req/s (p95 72 ms), ratio 2.2x; runs ranged
1,327-1,747 and 595-756 req/s on the shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PAGE = "/api/v1/jobs?page=1&page_size=20"
PASSWORD = "benchmark-password"


def _load(url: str, token: str, concurrency: int, duration: float) -> dict[str, float]:
    """Closed-loop load (run in a child process: gevent monkey-patches it)."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from geventhttpclient import HTTPClient, URL

    target = URL(url + PAGE)
    client = HTTPClient.from_url(target, concurrency=concurrency, connection_timeout=10, network_timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration

    def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = client.get(target.request_uri, headers=headers)
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    began = time.perf_counter()
    gevent.joinall([gevent.spawn(worker) for _ in range(concurrency)])
    elapsed = time.perf_counter() - began
    client.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def run_load(url: str, token: str, concurrency: int, duration: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "_load", url, token, str(concurrency), str(duration)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def prepare_user(database_url: str, jobs: int) -> str:
    """A user with `jobs` jobs; returns its email."""
    import psycopg

    from target_api.security import hash_password

    email = f"bench-{int(time.time())}@example.test"
    with psycopg.connect(database_url, autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, password_hash, full_name, skills) VALUES (%s, %s, 'Bench', '{python}') RETURNING id",
            (email, hash_password(PASSWORD)),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO jobs (user_id, company, title, location, description, tech_stack, salary_min, salary_max, "
            "status, source, created_at) "
            "SELECT %s, 'Company ' || (i %% 50), 'Engineer ' || i, 'City ' || (i %% 20), repeat('text ', 40), "
            "ARRAY['python', 'postgresql'], 50000 + i, 70000 + i, "
            "(ARRAY['not_applied', 'applied', 'interviewing', 'rejected'])[1 + i %% 4], 'seed', "
            "now() - i * interval '1 hour' FROM generate_series(1, %s) AS i",
            (user_id, jobs),
        )
        conn.execute("ANALYZE jobs")
    return email


def login(target_url: str, email: str) -> str:
    from careerload.snapshots import login_token

    token = login_token(target_url, email, PASSWORD)
    if token is None:
        raise SystemExit(f"benchmark: cannot log in as {email} at {target_url}")
    return token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from careerload.stack import Stack

    with Stack(target_env={"CACHE_ENABLED": "true"}, from_env=False) as cached_stack:
        email = prepare_user(cached_stack.database_url, args.jobs)
        with Stack(database_url=cached_stack.database_url, redis_url=cached_stack.redis_url, apply_schema=False,
                   target_env={"CACHE_ENABLED": "false"}, from_env=False) as uncached_stack:
            targets = {"cached": cached_stack.target_url, "uncached": uncached_stack.target_url}
            print(f"backend PIDs: cached {cached_stack.pids['target']}, uncached {uncached_stack.pids['target']}",
                  file=sys.stderr)
            token = login(cached_stack.target_url, email)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            for run in range(args.runs):
                for name, url in targets.items():
                    run_load(url, token, args.concurrency, args.warmup)
                    result = run_load(url, token, args.concurrency, args.duration)
                    results[name].append(result)
                    print(f"run {run + 1} {name:8s} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                          f"p95 {result['p95_ms']:6.1f} ms  errors {result['errors']}", file=sys.stderr)

    median = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in results.items()}
    print(f"\nGET {PAGE}  ({args.jobs} jobs, {args.concurrency} connections, 1 uvicorn worker, "
          f"median of {args.runs} x {args.duration:g} s)")
    for name, figures in median.items():
        print(f"  {name:8s} {figures['rps']:8.0f} req/s   p50 {figures['p50_ms']:6.1f} ms   p95 {figures['p95_ms']:6.1f} ms")
    print(f"  cached/uncached throughput ratio: {median['cached']['rps'] / median['uncached']['rps']:.2f}x")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, token, concurrency, duration = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(_load(url, token, concurrency, duration)))
        sys.exit(0)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
