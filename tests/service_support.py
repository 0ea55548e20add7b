"""Helpers for the service tests: the real service started as a process or in a thread, and envelopes."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from caliper_schema.service.serving import Background
from caliper_schema.service.settings import Settings
from tests.conftest import EXAMPLES, ROOT

ACTIVITY = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text(encoding="utf-8"))
CREDENTIALS = {"grant_type": "client_credentials", "client_id": "tests", "client_secret": "s3cret"}


def client(url: str, token: str | None = None) -> httpx.Client:
    """A real HTTP client for ``url``, never through a proxy, with a bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=30)


def token_for(url: str, **form: str) -> str:
    """A token from the service's own token endpoint."""
    with client(url) as anonymous:
        answer = anonymous.post("/oauth2/token", data={**CREDENTIALS, **form})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@contextmanager
def in_thread(**settings: Any) -> Iterator[Background]:
    """The service in a thread of the test process, on a free loopback port."""
    with Background(Settings(**{"job_delay": 0.0, **settings})) as server:
        yield server


@dataclass
class Process:
    """A ``caliper-schema serve`` process, its URL and (once stopped) its output."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    output: str = ""

    def stop(self) -> str:
        """Stop it as Ctrl+C would and return everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self.output = self.log.read_text(encoding="utf-8", errors="replace")
        return self.output


@contextmanager
def serve(*arguments: str) -> Iterator[Process]:
    """``caliper-schema serve --port 0 ARGUMENTS...`` as a process, until the block ends (its output goes to
    a file: a pipe nobody reads would stall a busy server once full)."""
    command = [sys.executable, "-m", "caliper_schema", "serve", "--port", "0", *arguments]
    with tempfile.TemporaryDirectory(prefix="caliper-serve-") as scratch:
        log = Path(scratch) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        first = ""
        while " at http://" not in first and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            first = log.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if " at http://" not in first:  # the banner's first line names the URL
            process.kill()
            process.wait()
            raise AssertionError(f"serve did not start: {log.read_text(errors='replace')}")
        running = Process(process, first.split(" at ", 1)[1].strip(), log)
        try:
            yield running
        finally:
            running.stop()


def activity(
    *,
    sensor: str = "https://reading.example.com",
    actor_id: str = "https://example.edu/users/1",
    email: str = "ada@example.edu",
    event_time: str = "2025-07-22T21:25:40.000Z",
    events: int = 1,
) -> dict[str, Any]:
    """A valid Timeback envelope of ``events`` ActivityEvents (fresh ids) from the bundled example."""
    envelope = copy.deepcopy(ACTIVITY)
    envelope["sensor"] = sensor
    envelope["sendTime"] = "2025-12-31T00:00:00.000Z"
    template = envelope["data"][0]
    envelope["data"] = []
    for _ in range(events):
        event = copy.deepcopy(template)
        event["id"] = f"urn:uuid:{uuid.uuid4()}"
        event["actor"]["id"], event["actor"]["email"], event["eventTime"] = actor_id, email, event_time
        envelope["data"].append(event)
    return envelope
