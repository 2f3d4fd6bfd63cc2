"""Which statuses the personas filter by: values the data holds, about as often as it holds them.

A filter on a status no row has is a cheap empty index lookup, which makes the
filtered endpoints look faster than they are. The vocabularies and the
seed's weights are foundation.statuses; a persona that has read its own
`/jobs/stats` weights by its own counts instead, which also covers data the
seed did not write.
"""

from __future__ import annotations

import random

from foundation.statuses import APPLICATION_STATUS, JOB_STATUS_SHARE

# An application's status follows its job's (the seed writes one per applied job),
# so each application status weighs what its job statuses weigh together.
_APPLICATION_SHARE: dict[str, float] = {
    app: sum(JOB_STATUS_SHARE[job] for job, mapped in APPLICATION_STATUS.items() if mapped == app)
    for app in dict.fromkeys(APPLICATION_STATUS.values())
}


def job_status(counts: dict[str, int] | None = None) -> str:
    """A job status weighted by `counts` (a /jobs/stats `by_status`) when it has any, else by the seed's shares."""
    weights = {status: n for status, n in (counts or {}).items() if isinstance(n, int) and n > 0} or JOB_STATUS_SHARE
    return random.choices(list(weights), list(weights.values()))[0]


def application_status() -> str:
    """An application status the seed writes, weighted like the seed."""
    return random.choices(list(_APPLICATION_SHARE), list(_APPLICATION_SHARE.values()))[0]
