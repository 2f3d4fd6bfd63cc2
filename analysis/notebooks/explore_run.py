# %% [markdown]
# # Exploring a careerload run directory
#
# A percent-format notebook: VS Code, PyCharm and Jupytext open each `# %%`
# block as a cell; `python analysis/notebooks/explore_run.py RUN_DIR` runs it
# top to bottom (the tests do). It walks through what `careerload report`
# computes, one step at a time, so you can stop anywhere and dig further.
#
# Which run: the first argument, else `$CAREERLOAD_RUN_DIR`, else the newest
# directory under `results/`.

# %%
import os
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")  # run as a script: draw without a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.load import ENGINE_MEMORY, load_run_dir
from analysis.report import analyse, choose_thresholds
from analysis.percentiles import nearest_rank_index
from analysis.stats import compute


def pick_run_dir() -> Path:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]  # Jupyter passes -f <kernel file>
    if args and Path(args[0]).is_dir():
        return Path(args[0])
    if os.environ.get("CAREERLOAD_RUN_DIR"):
        return Path(os.environ["CAREERLOAD_RUN_DIR"])
    runs = sorted(Path("results").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit("no run directory: pass one, set CAREERLOAD_RUN_DIR, or run `careerload run` first")
    return runs[-1].parent


RUN_DIR = pick_run_dir()
data = load_run_dir(RUN_DIR, ENGINE_MEMORY)  # the whole raw log as a DataFrame, to explore
print(f"run directory: {RUN_DIR}")
print({key: data.run.get(key) for key in ("scenario", "host", "start", "end", "aborted")})

# %% [markdown]
# ## The raw request log
# One row per request; `type`, `name`, `user` and `error` are categories.

# %%
log = data.requests
if log is None:
    print("no raw request log in this run: the steps below use Locust's CSVs where they can")
else:
    print(log.dtypes)
    print(log.head())
    print(f"{len(log):,} requests, {int((log['ok'] == 0).sum()):,} failed")

# %% [markdown]
# ## Per-endpoint statistics
# Nearest-rank percentiles (numpy's `inverted_cdf`): p95 is a latency that
# really happened, and at least 95 % of requests took no longer.

# %%
stats = compute(data)
endpoints = pd.DataFrame(stats.endpoints).set_index(["method", "name"])
print(endpoints[["requests", "failure_ratio", "rps", "p50_ms", "p95_ms", "p99_ms"]].sort_values("p95_ms", ascending=False))

# %% [markdown]
# The same p95 by hand for the slowest endpoint, to see the method at work.

# %%
if log is not None and len(endpoints):
    method, name = endpoints["p95_ms"].idxmax()
    rt = np.sort(log.loc[(log["type"] == method) & (log["name"] == name), "rt_ms"].to_numpy())
    by_hand = rt[nearest_rank_index(rt.size, 0.95)]
    print(f"{method} {name}: p95 by hand {by_hand:.3f} ms, from the analysis {endpoints.loc[(method, name), 'p95_ms']:.3f} ms")

# %% [markdown]
# ## Over time
# Buckets of a few seconds; the report draws the same series.

# %%
if stats.timeline is not None:
    frame = stats.timeline.frame
    fig, ax = plt.subplots(figsize=(10, 4))
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        ax.plot(frame["t_s"], frame[key], label=key)
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("response time (ms)")
    ax.set_title(f"Percentiles per {stats.timeline.bucket_s:g} s bucket")
    ax.legend()
    plt.show()
    print(frame.describe().T[["mean", "min", "max"]])

# %% [markdown]
# ## Thresholds and the verdict
# As recorded in run.json (pass `--thresholds`/`--scenario` to `careerload report` to judge against others).

# %%
thresholds, origin = choose_thresholds(data, None, None)
summary, _ = analyse(data, thresholds, origin)
for result in summary.thresholds:
    print(f"{result['status']:8} {result['reason']}")
print(f"verdict: {summary.verdict}")

# %% [markdown]
# ## Failures by error message

# %%
print(pd.DataFrame(summary.failures).head(10) if summary.failures else "no failures")
