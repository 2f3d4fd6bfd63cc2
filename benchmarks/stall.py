"""The open and the closed model against a backend that stalls 2 s every 10 s: which one shows it?

    .venv/bin/python benchmarks/stall.py [--seconds 40] [--users 3] [--rate 10]

One embedded stack (seeded at scale 0.01), the reference backend behind
tests/stalling_proxy.py (all traffic stalls for 2 s in every 10 s), then two
`careerload run`s of BrowsingUser, --users each, --seconds long:

    closed   steps: --users users, think time scaled so that, unstalled, they make
             about --rate iterations/s (Locust's usual model)
    open     arrival: --rate iterations/s over a pool of --users (k6's ramping-arrival-rate),
             --max-lateness 0.1 (the default: a slot more than 100 ms late is dropped)
    late     the same with --max-lateness 5: no slot dropped, every one started however late

and prints, from each raw log: requests, the nearest-rank p50/p95/p99 of the
requests' own response times, how many took over 1 s; for the open model also
its intended, started and dropped iterations, start lateness p99, and p95/p99
of the iterations' first requests timed from their slots (SCHED rows). A
closed-model user stuck in a stall sends nothing meanwhile, so the stall costs
it a handful of slow requests among hundreds: its percentiles barely move. The
open model's schedule keeps arriving: the slots it could not start are counted,
and its latency from the schedule shows the stall.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from analysis.load import find_raw_log, read_raw_log  # noqa: E402
from careerload.stack import Stack  # noqa: E402
from foundation import rundir  # noqa: E402
from foundation.logins import seed_password  # noqa: E402
from foundation.nearest_rank import nearest_rank  # noqa: E402
from seed_data.loader import seed  # noqa: E402
from stalling_proxy import stalling_proxy  # noqa: E402

STALL_S, EVERY_S = 2.0, 10.0
BROWSING_THINK_MEAN_S = 5.0  # BrowsingUser.think_time = (2, 8)
MS = ("p50", "p95", "p99", "lateness p99", "p95 from schedule", "p99 from schedule")


def scenario(kind: str, users: int, rate: float, seconds: int) -> str:
    head = 'question = "Does the stall show?"\n[personas]\nBrowsingUser = 1\n'
    if kind == "open":
        return head + (f'[shape]\nkind = "arrival"\nvus = {users}\nstart_rate = {rate}\n'
                       f'[[shape.stages]]\nduration = "{seconds}s"\ntarget = {rate}\n')
    return head + f'[shape]\nkind = "steps"\n[[shape.steps]]\nusers = {users}\nduration = "{seconds}s"\n'


def figures(run_dir: Path) -> dict[str, float]:
    rows = read_raw_log(find_raw_log(run_dir)).to_dict("records")  # whichever format the run wrote
    requests = sorted(float(r["rt_ms"]) for r in rows
                      if r["type"] not in rundir.NON_REQUEST_TYPES and not r["name"].endswith("/auth/login"))
    out = {"requests": len(requests), "p50": nearest_rank(requests, 0.5), "p95": nearest_rank(requests, 0.95),
           "p99": nearest_rank(requests, 0.99), "over 1 s": sum(1 for rt in requests if rt > 1000)}
    starts = [r for r in rows if r["type"] == rundir.ITERATION_TYPE and r["name"] == rundir.ITERATION_START]
    if starts:
        dropped = sum(int(r["size"]) for r in rows if r["type"] == rundir.ITERATION_TYPE
                      and r["name"] == rundir.ITERATION_DROPPED)
        sched = sorted(float(r["rt_ms"]) for r in rows if r["type"] == rundir.SCHEDULE_TYPE)
        out.update({"intended": len(starts) + dropped, "started": len(starts), "dropped": dropped,
                    "lateness p99": nearest_rank(sorted(float(r["rt_ms"]) for r in starts), 0.99),
                    "p95 from schedule": nearest_rank(sched, 0.95), "p99 from schedule": nearest_rank(sched, 0.99)})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=40, help="length of each run (default 40)")
    parser.add_argument("--users", type=int, default=3, help="users (closed) / pool size (open); default 3")
    parser.add_argument("--rate", type=float, default=10.0, help="iterations/s (open; closed: about); default 10")
    args = parser.parse_args()
    # closed users think `scale x 5 s` on average: scale so that users / think ~ rate (responses take ms)
    think_scale = args.users / args.rate / BROWSING_THINK_MEAN_S
    with Stack(from_env=False) as stack, tempfile.TemporaryDirectory() as tmp:
        seed(stack.database_url, 0.01, 1, seed_password(), reset=True)
        results = {}
        for label, kind, lateness in (("closed", "closed", "0.1"), ("open", "open", "0.1"), ("late", "open", "5")):
            path = Path(tmp) / f"{label}.toml"
            path.write_text(scenario(kind, args.users, args.rate, args.seconds))
            with stalling_proxy(stack.target_url, STALL_S, EVERY_S) as proxy:
                done = subprocess.run([sys.executable, "-m", "careerload", "run", str(path), "--host", proxy,
                                       "--database-url", stack.database_url, "--think-time-scale",
                                       f"{think_scale:.4f}", "--max-lateness", lateness, "--no-profile-check",
                                       "--out", str(Path(tmp) / label)],
                                      cwd=ROOT, capture_output=True, text=True, timeout=args.seconds + 300)
            if done.returncode not in (0, 1):
                print(done.stdout, done.stderr, file=sys.stderr)
                return 2
            results[label] = figures(Path(tmp) / label)
    print(f"{args.users} users, {args.rate:g} iterations/s, {args.seconds} s, all traffic stalled "
          f"{STALL_S:g} s in every {EVERY_S:g} s")
    for kind, values in results.items():
        print(f"{kind:<7} " + ", ".join(f"{key} {value:,.0f}{' ms' if key in MS else ''}"
                                        for key, value in values.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
