"""What the live window costs: per request fed, per check judged, per row sent from a worker.

    .venv/bin/python benchmarks/live_window.py [--rows 200000] [--window-rows 30000]

The live check (scenarios.sliding_window) keeps the raw rows of the last
--live-window seconds for the abort_on_fail thresholds' scopes and judges them
every second. Three costs, each the median of 5 timed repetitions:

    feed      one request into a window judging three thresholds (aggregate, one
              endpoint, one persona): what every request costs the process that
              judges (local run) or batches (worker), beside the raw log's write
    check     one second's judgement of those three thresholds (p95, failure_ratio,
              rps) over a window holding --window-rows rows per scope (1,000
              requests/s for 30 s): what the master's watch spends every second
    batch     a worker's WindowBatch: per row added, and the msgpack bytes per row
              of its `careerload_window` message (Locust's own encoding)

and, for scale, the raw request log's own write per row (RequestLog.write into
a file), and the plugin's whole request listener (`on_request`: persona
statistics, raw log, window) without and with the window. Pure CPU, one
process, no load: the figures are comparable before and after a change on any
machine, not a claim about a particular target.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgpack  # noqa: E402  (Locust's wire encoding)

from locustfiles import _plugin  # noqa: E402
from locustfiles._iterations import Iteration  # noqa: E402
from locustfiles._live_window import WindowBatch  # noqa: E402
from locustfiles._request_log import RequestLog  # noqa: E402
from locustfiles._run_state import RUN  # noqa: E402
from scenarios.sliding_window import SlidingWindow  # noqa: E402
from scenarios.thresholds import Threshold  # noqa: E402

ENDPOINTS = [("GET", f"/api/v1/endpoint{n}") for n in range(30)]
PERSONAS = ("BrowsingUser", "WritingUser", "ScrapingUser", "AIGenerationUser")
THRESHOLDS = [
    Threshold("p95", "aggregate", critical=500.0, abort_on_fail=True),
    Threshold("failure_ratio", "endpoint:GET /api/v1/endpoint3", critical=0.01, abort_on_fail=True),
    Threshold("rps", "persona:BrowsingUser", critical=1.0, abort_on_fail=True),
]


def made_up_rows(n: int, span_s: float, start: float) -> list[tuple[float, str, str, float, bool, str]]:
    rng = random.Random(1)
    return [(start + i * span_s / n, *rng.choice(ENDPOINTS), rng.lognormvariate(3, 1), rng.random() > 0.01,
             rng.choice(PERSONAS)) for i in range(n)]


def median_seconds(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class NoRunner:
    """Stands in for a WorkerRunner: keeps the last message, to measure its encoded size."""

    def send_message(self, kind: str, data: object) -> None:
        self.last = data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows fed per repetition (default 200000)")
    parser.add_argument("--window-rows", type=int, default=30_000,
                        help="rows in the window at a check (default 30000: 1,000 requests/s for 30 s)")
    args = parser.parse_args()
    origin = 1_700_000_000.0
    rows = made_up_rows(args.rows, 60.0, origin)

    def feed() -> None:
        window = SlidingWindow(THRESHOLDS, 30.0, origin)
        for row in rows:
            window.add(*row)
    feed_s = median_seconds(feed) / len(rows)

    # A window holding --window-rows rows of each scope: the check's worst case at 1,000 requests/s.
    window = SlidingWindow(THRESHOLDS, 30.0, origin)
    full = made_up_rows(args.window_rows, 30.0, origin + 30.0)
    for ts, _, name, rt, ok, _ in full:  # every row in every scope, so each scope holds --window-rows
        window.add(ts, "GET", "/api/v1/endpoint3", rt, ok, "BrowsingUser")
    check_s = median_seconds(lambda: [window.observe(t, origin + 60.0) for t in THRESHOLDS])

    runner = NoRunner()
    batch = WindowBatch(runner, SlidingWindow(THRESHOLDS, 30.0, origin))
    batch.close()  # no shipping greenlet here: flushed by hand below

    def batch_rows() -> None:
        for row in rows:
            batch.add(*row)
        batch.flush()
    batch_s = median_seconds(batch_rows) / len(rows)
    sent = len(runner.last["rows"])
    wire_bytes = len(msgpack.packb(runner.last)) / sent

    with tempfile.TemporaryDirectory() as tmp:
        log = RequestLog(Path(tmp), "local")

        def write() -> None:
            for ts, kind, name, rt, ok, persona in rows:
                log.write(kind, name, rt, 100, None, persona, ts)
        write_s = median_seconds(write) / len(rows)
        RUN.request_log = log
        contexts = {persona: {"persona": persona, "iteration": Iteration()} for persona in PERSONAS}

        def listener() -> None:
            for ts, kind, name, rt, ok, persona in rows:
                _plugin.on_request(kind, name, rt, 100, None, contexts[persona], ts)
        RUN.window = None
        bare_s = median_seconds(listener) / len(rows)
        RUN.window = SlidingWindow(THRESHOLDS, 30.0, origin)
        with_window_s = median_seconds(listener) / len(rows)
        RUN.window, RUN.request_log = None, None
        log.close()

    print(f"feed     {feed_s * 1e6:6.2f} us per request (3 thresholds: aggregate, endpoint, persona)")
    print(f"check    {check_s * 1e3:6.2f} ms per second's check ({args.window_rows:,} rows in each of the 3 scopes)")
    print(f"batch    {batch_s * 1e6:6.2f} us per request on a worker; {wire_bytes:.1f} bytes per row sent "
          f"({sent:,} of {len(rows):,} rows wanted)")
    print(f"raw log  {write_s * 1e6:6.2f} us per request (RequestLog.write, for scale)")
    print(f"listener {bare_s * 1e6:6.2f} us per request without a window, {with_window_s * 1e6:.2f} us with it "
          "(the plugin's on_request, raw log on)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
