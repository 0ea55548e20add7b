"""The job an accepted envelope becomes: ``waiting``, then ``active``, then ``completed`` (or ``failed``).

The real service queues each envelope and processes it later (facts §1.1, §5); its job answers have the
shape of a BullMQ job (``id``, ``state``, ``returnValue``, ``processedOn``). Here a job's state is a
function of time: it waits for the first half of the job delay, is active for the second, and then ends
as it was drawn when it was queued. Nothing runs in the background, and a service restarted on the
same ``--db`` answers exactly as before. Its events are listed only once it has completed.

>>> job = Job(id=6, created=100.0, due=102.0, failed=False, results=(("7", "urn:uuid:a"),))
>>> [job.state(now) for now in (100.5, 101.5, 102.0)]
['waiting', 'active', 'completed']
>>> job.to_response(103.0)["job"]["returnValue"]["results"]
[{'allocatedId': '7', 'externalId': 'urn:uuid:a'}]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

State = Literal["waiting", "active", "completed", "failed"]
FAILED_REASON = "failed by caliper-schema serve's fault injection (--fault job=RATE)"


def iso(timestamp: float) -> str:
    """A POSIX time in the Caliper DateTime form, ``YYYY-MM-DDTHH:mm:ss.SSSZ``.

    >>> iso(0)
    '1970-01-01T00:00:00.000Z'
    """
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Job:
    """One queued envelope: when it was queued and is due, how it ends, and its events' ids."""

    id: int
    created: float
    due: float
    failed: bool
    results: tuple[tuple[str, str], ...]
    """(allocatedId, externalId) of each event, in the envelope's order."""

    @property
    def started(self) -> float:
        """When the job turns active."""
        return self.created + (self.due - self.created) / 2

    def state(self, now: float) -> State:
        """The job's state at ``now``."""
        if now >= self.due:
            return "failed" if self.failed else "completed"
        return "active" if now >= self.started else "waiting"

    def to_response(self, now: float) -> dict[str, Any]:
        """The body of ``GET /jobs/{jobId}/status``."""
        state = self.state(now)
        job: dict[str, Any] = {
            "id": str(self.id),
            "state": state,
            "returnValue": None,
            "processedOn": iso(self.started) if state != "waiting" else None,
        }
        if state == "completed":
            results = [
                {"allocatedId": allocated, "externalId": external} for allocated, external in self.results
            ]
            job["returnValue"] = {"status": "success", "results": results}
        elif state == "failed":
            job["failedReason"] = FAILED_REASON
        return {"job": job}
