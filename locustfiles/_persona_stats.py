"""Per-persona statistics: Locust's statistics keyed by persona instead of endpoint, merged on the master.

Every process counts its requests per persona (`record`, called for each
request; TASK completion times left out, as the analysis leaves them out of
persona totals);
workers send their entries, and the run's counters (scrape dedup counts, 429s),
in Locust's own worker reports, and the master adds them up, so persona-scope
thresholds and the status line see the whole run.
"""

from __future__ import annotations

from typing import Any

from locust import events
from locust.stats import StatsEntry

from foundation.rundir import NON_REQUEST_TYPES
from locustfiles._run_state import RUN
from locustfiles._verdict import PERSONA_METHOD


def record(persona: str, request_type: str, response_time: float, response_length: int, exception: Any) -> None:
    """One request of `persona` into this process's persona statistics.

    An entry's rps divides by the time of its statistics' last request
    (`total.last_request_timestamp`), which logging the entry alone never set,
    so persona rps was always 0.0: the time is copied over (logging the whole
    total as well would double this function's cost for one timestamp).
    """
    if request_type in NON_REQUEST_TYPES:
        return
    entry = RUN.personas.entries[(persona, PERSONA_METHOD)]
    entry.log(response_time, response_length)
    RUN.personas.total.last_request_timestamp = entry.last_request_timestamp
    if exception:
        entry.log_error(exception)


@events.report_to_master.add_listener
def on_report_to_master(data: dict[str, Any], **_: Any) -> None:
    data["careerload"] = {
        "personas": RUN.personas.serialize_stats(),  # serialize_stats resets the entries it sends
        "counters": dict(RUN.counters),
    }
    RUN.counters.clear()


@events.worker_report.add_listener
def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    report = data.get("careerload")
    if not report:
        return
    for raw in report["personas"]:
        entry = StatsEntry.unserialize(raw, RUN.personas)
        RUN.personas.entries[(entry.name, entry.method)].extend(entry)
        RUN.personas.total.extend(entry)  # the last request's time, for the entries' rps
    RUN.counters.update(report["counters"])
