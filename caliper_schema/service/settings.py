"""What a running service is told: its policy, credentials, faults, job timing and storage.

Plain data, built by the command line (``caliper-schema serve ...``) or by the pytest plugin, and read
by every other module of the wing. Nothing here imports the service's optional dependencies, so the
command line and the plugin can check for them (:func:`missing_extra`) before anything fails to import.

>>> parse_fault("503=0.25")
('503', 0.25)
>>> Settings(faults={"429": 0.5}).faults["429"]
0.5
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from caliper_schema.policy import Policy

EXTRA_MODULES = ("starlette", "uvicorn", "jinja2")
INSTALL = 'pip install "caliper-schema[service]"'
JOB_FAULT = "job"
"""The fault key that makes a share of jobs end ``failed`` instead of an HTTP status."""


DURATIONS = {
    "token_ttl": ("a number of seconds > 0 (below 1e9)", False),
    "latency_ms": ("a number of milliseconds >= 0 (below 1e9)", True),
    "job_delay": ("a number of seconds >= 0 (below 1e9)", True),
    "retry_after": ("a number of seconds >= 0 (below 1e9)", True),
}
"""Each timing setting: what it is (as the command line and the errors say it), and whether 0 is allowed.
The bound keeps every time computed from one (an expiry, a job's due time) a date a clock can show."""


def within(name: str, value: float) -> bool:
    """Whether ``value`` is one the timing setting ``name`` (a key of :data:`DURATIONS`) takes.

    >>> within("latency_ms", 0), within("token_ttl", 0), within("job_delay", float("nan"))
    (True, False, False)
    """
    zero = DURATIONS[name][1]
    # Written so that NaN, which every comparison answers False, fails too.
    return (value >= 0 if zero else value > 0) and value < 1e9


def missing_extra() -> str | None:
    """How to install the service's dependencies when one is missing, else None."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return f"the local service needs {', '.join(missing)}: install them with {INSTALL}"


def parse_fault(text: str) -> tuple[str, float]:
    """``STATUS=RATE`` (an HTTP status 400-599, or ``job`` for failed jobs) → (key, rate in 0-1).

    >>> parse_fault("job=1")
    ('job', 1.0)
    >>> parse_fault("200=0.5")
    Traceback (most recent call last):
    ...
    ValueError: a fault is an HTTP status from 400 to 599, or job, not '200'
    """
    key, sign, rate_text = text.partition("=")
    key = key.strip()
    if not sign:
        raise ValueError(f"a fault is STATUS=RATE, such as 503=0.1, not {text!r}")
    if key != JOB_FAULT and not (key.isdigit() and 400 <= int(key) <= 599):
        raise ValueError(f"a fault is an HTTP status from 400 to 599, or {JOB_FAULT}, not {key!r}")
    try:
        rate = float(rate_text)
    except ValueError:
        raise ValueError(f"the rate of fault {key} is a number from 0 to 1, not {rate_text!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"the rate of fault {key} is a number from 0 to 1, not {rate_text!r}")
    return key, rate


@dataclass(frozen=True)
class Settings:
    """Everything a service runs with.

    ``client_id``/``client_secret``: when given, the only credentials the token endpoint accepts (else
    any). ``auth=False`` lets every API request through without a token. ``faults`` maps an HTTP status
    (or ``job``) to the share of requests (or jobs) that fail so; ``latency_ms`` delays every API answer;
    ``seed`` makes the draws reproducible. A job waits, then is active, then ends after ``job_delay``
    seconds. ``db`` is a SQLite file (``None``: in memory, gone when the process ends).
    """

    policy: Policy = field(default_factory=Policy)
    client_id: str | None = None
    client_secret: str | None = None
    auth: bool = True
    token_ttl: float = 3600.0
    faults: Mapping[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    seed: int | None = None
    retry_after: int = 1
    job_delay: float = 1.0
    db: Path | None = None

    def __post_init__(self) -> None:
        for key, rate in self.faults.items():
            parse_fault(f"{key}={rate}")  # the same checks as on the command line
        for name in DURATIONS:
            value = getattr(self, name)
            if not within(name, value):
                raise ValueError(f"{name} is {DURATIONS[name][0]}, not {value!r}")
