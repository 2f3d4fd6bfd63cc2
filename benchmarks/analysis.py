"""Benchmark: the complete analysis of an hour of 10 M raw requests across 30 endpoints.

Budget (issue 6): under 30 s and under 2 GiB peak memory on this machine,
every chart and report included.

This process synthesises the run directory (numpy + pyarrow's CSV writer), then
runs `python -m analysis RUN_DIR` in a child process, so the figures are those
of the analysis alone: wall time around the child (interpreter start and
imports included) and the child's peak resident memory (`ru_maxrss` of
RUSAGE_CHILDREN, the generator's own memory excluded).

    .venv/bin/python benchmarks/analysis.py [--requests 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.synthetic import Endpoint, synthesise, write_request_log, write_run_json  # noqa: E402

DURATION_S = 3600.0
START = 1_750_000_000.0
BUDGET_S = 30.0
BUDGET_BYTES = 2 * 1024**3


def endpoints() -> list[Endpoint]:
    """30 endpoints shaped like the reference backend: fast reads, slower writes, a few slow ones."""
    reads = ["/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/stats", "/api/v1/jobs/search",
             "/api/v1/jobs/export", "/api/v1/applications", "/api/v1/recommendations",
             "/api/v1/analytics/dashboard", "/api/v1/logs", "/api/v1/tasks/{task_id}", "/api/v1/cache/metrics",
             "/api/v1/health", "/api/v1/database/performance"]
    writes = ["/api/v1/jobs", "/api/v1/jobs/bulk", "/api/v1/applications", "/api/v1/jobs/scrape",
              "/api/v1/content/generate/cover-letter", "/api/v1/auth/login"]
    out = [Endpoint("GET", name, median_ms=20 + 15 * i, weight=10 - 0.5 * i, failure_ratio=0.002)
           for i, name in enumerate(reads)]
    out += [Endpoint("POST", name, median_ms=60 + 40 * i, weight=2, failure_ratio=0.01, persona="WritingUser")
            for i, name in enumerate(writes)]
    out += [Endpoint("PUT", "/api/v1/jobs/{id}", 70, weight=2, persona="WritingUser"),
            Endpoint("DELETE", "/api/v1/jobs/{id}", 50, weight=1, persona="WritingUser"),
            Endpoint("TASK", "scrape completion", 8000, sigma=0.4, weight=0.2, persona="ScrapingUser"),
            Endpoint("POST", "/api/v1/content/generate/ai", 3000, sigma=0.4, weight=0.5, failure_ratio=0.03,
                     persona="AIGenerationUser")]
    out += [Endpoint("SQL", f"job query {i}", 5 + 3 * i, weight=3, persona="DatabaseUser") for i in range(7)]
    assert len(out) == 30
    return out


THRESHOLDS = [
    {"metric": "p95", "target": 500, "critical": 2000},
    {"metric": "p99", "target": 2000, "critical": 10000},
    {"metric": "failure_ratio", "target": 0.005, "critical": 0.01},
    {"metric": "rps", "target": 2500, "critical": 1000},
    {"metric": "p95", "scope": "endpoint:GET /api/v1/jobs", "target": 100, "critical": 300},
    {"metric": "p95", "scope": "endpoint:GET /api/v1/recommendations", "target": 150, "critical": 400},
    {"metric": "p99", "scope": "persona:AIGenerationUser", "target": 5000, "critical": 8000},
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="build the run directory here and keep it (default: a temp dir)")
    args = parser.parse_args()

    run_dir = args.keep or Path(tempfile.mkdtemp(prefix="careerload-bench-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        began = time.perf_counter()
        frame = synthesise(endpoints(), args.requests, DURATION_S, START, seed=42, workers=("w1", "w2", "w3"))
        write_request_log(frame, run_dir / "requests.csv")
        del frame
        write_run_json(run_dir, scenario="benchmark", start=START, end=START + DURATION_S, thresholds=THRESHOLDS,
                       workers=("w1", "w2", "w3"))
        size_mb = (run_dir / "requests.csv").stat().st_size / 1e6
        print(f"synthesised {args.requests:,} requests ({size_mb:,.0f} MB) in {time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        child = subprocess.run([sys.executable, "-m", "analysis", str(run_dir)], cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB
        if child.returncode == 2:
            print(child.stdout + child.stderr, file=sys.stderr)
            return 2
        print(child.stdout.strip())
        charts = sorted(p.name for p in (run_dir / "charts").glob("*.png"))
        print(f"wrote {', '.join(charts)} and summary.json, report.md, report.html, junit.xml")
        ok = elapsed < BUDGET_S and peak < BUDGET_BYTES
        print(f"analysis: {elapsed:.1f} s (budget {BUDGET_S:.0f} s), peak memory {peak / 1024**2:,.0f} MiB "
              f"(budget {BUDGET_BYTES / 1024**2:,.0f} MiB): {'within budget' if ok else 'OVER BUDGET'}")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
