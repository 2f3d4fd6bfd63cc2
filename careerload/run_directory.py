"""The run directory from the command's side: created, and run.json amended with the command's own view.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from careerload.run_options import RunOptions
from foundation import rundir
from scenarios.loader import Scenario


def make_run_dir(out: Path | None, scenario: str) -> Path:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path("results") / f"{scenario}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return path


def load_started(run_dir: Path) -> bool:
    """Whether the master had started the load and not finished it: its run.json still says "running"."""
    path = run_dir / rundir.RUN_JSON
    return path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("status") == rundir.RUNNING


def run_written(run_dir: Path) -> bool:
    """Whether the master has closed the run already: its run.json says "complete" (a web UI's STOP does that)."""
    path = run_dir / rundir.RUN_JSON
    return path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("status") == rundir.COMPLETE


def amend_run_json(run_dir: Path, options: RunOptions, scenario: Scenario, interrupted: bool,
                   lost: str | None = None) -> dict[str, Any]:
    """Add the command's own options to the master's run.json (or write a minimal one if it has none).

    `lost`: how the master died mid-run; the run is then incomplete ("master
    lost"). A run.json the master left "running" for another reason (killed
    while it stopped after Ctrl-C) is incomplete too ("interrupted").
    """
    path = run_dir / rundir.RUN_JSON
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {
        "scenario": scenario.name, "scenario_file": str(scenario.path), "host": options.host, "options": {},
        "thresholds": [t.to_dict() for t in scenario.thresholds], "versions": {}, "start": None, "end": None,
        "git_revision": None, "workers": [], "lost_workers": [], "aborted": None, "status": rundir.COMPLETE,
        "incomplete": None,
    }
    document["options"] = {**document.get("options", {}), "careerload_run": options.recorded()}
    if interrupted and not document.get("aborted"):
        document["aborted"] = "interrupted (Ctrl-C)"
    if lost:
        document["status"], document["incomplete"] = rundir.INCOMPLETE, {"reason": rundir.MASTER_LOST, "detail": lost}
    elif document.get("status") == rundir.RUNNING:
        document["status"], document["incomplete"] = rundir.INCOMPLETE, {
            "reason": rundir.INTERRUPTED, "detail": "the Locust master was stopped before it could finish run.json"}
    rundir.write_json(path, document)
    return document
