"""Injected faults, for testing a client's retry logic: failures at a rate, the next N forced, and latency.

Every API request draws once: first from the queue of forced failures (``fail_next``), then from the
rates (``--fault 503=0.1``) with a :class:`random.Random` seeded by ``--seed``, so one seed and one
sequence of requests give the same faults on every run. A 429 or 503 carries ``Retry-After``.

>>> faults = Faults({"503": 1.0}, seed=1)
>>> faults.draw().status
503
>>> faults.fail_next(429, times=1)
>>> faults.draw().headers
{'Retry-After': '1'}
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from caliper_schema.service.settings import DURATIONS, JOB_FAULT, parse_fault, within

RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Fault:
    """One injected failure: its status, headers and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The service's error body, saying the failure was injected (so no one debugs a real one)."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        message = f"{phrase} (injected by caliper-schema serve's fault injection)"
        return {"status": "error", "message": message, "errors": None}


class Faults:
    """The fault configuration of a running service, changeable at run time (thread-safe)."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        latency_ms: float = 0.0,
        seed: int | None = None,
        retry_after: int = 1,
    ) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._seed = seed
        self.retry_after = retry_after
        self.rates: dict[str, float] = {}
        self.latency_ms = latency_ms
        self._next: deque[tuple[int, int]] = deque()
        self.configure(rates or {}, latency_ms=latency_ms)

    def configure(self, rates: Mapping[str, float], *, latency_ms: float | None = None) -> None:
        """Set the rates (checked as on the command line) and, when given, the latency."""
        checked = dict(parse_fault(f"{key}={rate}") for key, rate in rates.items())
        if latency_ms is not None and not within("latency_ms", latency_ms):
            raise ValueError(f"latency is {DURATIONS['latency_ms'][0]}, not {latency_ms!r}")
        with self._lock:
            self.rates = checked
            if latency_ms is not None:
                self.latency_ms = latency_ms

    def fail_next(self, status: int, times: int = 1) -> None:
        """Make the next ``times`` API requests fail with ``status``."""
        parse_fault(f"{status}=1")
        if times < 1:
            raise ValueError(f"times is a whole number >= 1, not {times!r}")
        with self._lock:
            self._next.append((status, times))

    def reset(self, rates: Mapping[str, float], latency_ms: float) -> None:
        """Back to a configuration, with no forced failure pending and the seed's sequence restarted."""
        with self._lock:
            self._next.clear()
            self._random.seed(self._seed)
        self.configure(rates, latency_ms=latency_ms)

    def pending(self) -> list[dict[str, int]]:
        """The forced failures still to come."""
        with self._lock:
            return [{"status": status, "times": times} for status, times in self._next]

    def _fault(self, status: int) -> Fault:
        headers = {"Retry-After": str(self.retry_after)} if status in RETRY_AFTER_STATUSES else {}
        return Fault(status, headers)

    def draw(self) -> Fault | None:
        """The fault of one API request, if any."""
        with self._lock:
            if self._next:
                status, times = self._next[0]
                if times <= 1:
                    self._next.popleft()
                else:
                    self._next[0] = (status, times - 1)
                return self._fault(status)
            for key, rate in sorted(self.rates.items()):
                if key != JOB_FAULT and rate > 0 and self._random.random() < rate:
                    return self._fault(int(key))
        return None

    def job_fails(self) -> bool:
        """Whether a new job is to end ``failed`` (the ``job`` rate)."""
        rate = self.rates.get(JOB_FAULT, 0.0)
        with self._lock:
            return rate > 0 and self._random.random() < rate
