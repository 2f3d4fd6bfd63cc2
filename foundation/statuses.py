"""The status vocabularies, and how often the seed writes each: one definition for backend, seed and personas.

The backend accepts exactly these values (target_api.schemas builds its Literal
types from the tuples), the seed writes a subset of them with the shares below,
and the personas filter by what the seed writes, weighted the same way, so a
filter never probes a value no row has (a cheap empty index lookup that makes an
endpoint look faster than it is).
"""

from __future__ import annotations

JOB_STATUSES_ACCEPTED = (
    "not_applied", "applied", "interviewing", "offer", "rejected", "archived", "accepted", "withdrawn",
)
APPLICATION_STATUSES_ACCEPTED = ("submitted", "under_review", "interview", "offer", "rejected", "withdrawn")

# Share of seeded jobs per status, skewed towards not_applied as in real trackers. The
# other accepted values ("accepted", "withdrawn") are only reached by later edits.
JOB_STATUS_SHARE: dict[str, float] = {
    "not_applied": 0.5, "applied": 0.21, "interviewing": 0.08, "offer": 0.02, "rejected": 0.14, "archived": 0.05,
}
# Job status -> the status of its application (jobs in other statuses have none).
APPLICATION_STATUS: dict[str, str] = {
    "applied": "submitted", "interviewing": "interview", "offer": "offer", "rejected": "rejected",
}

_unknown = ((set(JOB_STATUS_SHARE) | set(APPLICATION_STATUS)) - set(JOB_STATUSES_ACCEPTED)) | (
    set(APPLICATION_STATUS.values()) - set(APPLICATION_STATUSES_ACCEPTED))
if _unknown:  # an edit above that the backend would reject, caught at import time
    raise ValueError(f"seeded statuses {sorted(_unknown)} are not accepted statuses")

# The statuses the seed writes, in the accepted order; a row stores its index here.
JOB_STATUSES = tuple(s for s in JOB_STATUSES_ACCEPTED if s in JOB_STATUS_SHARE)
JOB_STATUS_WEIGHTS = tuple(JOB_STATUS_SHARE[s] for s in JOB_STATUSES)
