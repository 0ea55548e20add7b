"""A million events in JSON Lines through ``validate_stream``'s checker, in memory bounded by the open runs.

The stream (``benchmarks/streams.py``: 16 students at a time, runs of 39 heartbeats and a completion, made
on the fly) is checked, every document through the pipeline and all of them through the stream rules,
in a child process under ``prlimit --as``: the address space of a short run of the same stream (120,000
events, its ids already on disk) plus 48 MiB. Memory that grew with the stream (an id, a window, a run
kept per event or per run) would end the child with a MemoryError long before 1,000,000 events; and the
child shows the limit binds, by failing to keep 1,000,000 ids once the stream is done.

It takes a minute or two of CPU, so ``tests/conftest.py`` starts it when the session is collected: it
runs on the other core while the rest of the suite does, at the lowest priority (``nice -n 19``) so that
it takes no time the suite wants, and this test collects its result.
"""

from __future__ import annotations

import math
import shutil
import threading
from typing import Any

import pytest

from benchmarks.streams import BEATS, STUDENTS, Result, bounded
from caliper_schema.validation.streams import CLOSE_EVERY, ENDED

COUNT = 1_000_000
_RUN: dict[str, Any] = {}


def start() -> None:
    """Run the stream in the background (once)."""
    if "thread" in _RUN or shutil.which("prlimit") is None or shutil.which("nice") is None:
        return

    def work() -> None:
        try:
            _RUN["result"] = bounded(COUNT, per_document=True, idle=True)
        except BaseException as error:  # raised in the test that collects it
            _RUN["error"] = error

    _RUN["thread"] = threading.Thread(target=work, name="million-event-stream", daemon=True)
    _RUN["thread"].start()


@pytest.mark.slow
def test_a_million_events_stream_in_memory_bounded_by_the_open_runs() -> None:
    if shutil.which("prlimit") is None or shutil.which("nice") is None:
        pytest.skip(
            "prlimit (util-linux) or nice (coreutils) is not installed: the address space cannot be limited"
        )
    start()
    _RUN["thread"].join(timeout=1800)
    assert not _RUN["thread"].is_alive(), "the stream did not end in 30 minutes"
    if "error" in _RUN:
        raise _RUN["error"]
    result: Result = _RUN["result"]
    assert (result.documents, result.events) == (COUNT, COUNT)
    assert (result.errors, result.warnings) == (0, 0)  # the stream is valid: nothing kept per finding
    steps = math.ceil(COUNT / STUDENTS)  # each step, every student sends one event
    assert result.runs == STUDENTS * math.ceil(steps / (BEATS + 1))  # 39 heartbeats and a completion a run
    # A run stays open until the stream is 10 minutes and a cadence (ENDED) past its last event, and ended
    # runs are looked for every CLOSE_EVERY events: a student has at most this many runs open at once.
    lag = ENDED + CLOSE_EVERY / STUDENTS * 15
    assert result.most_open <= STUDENTS * (1 + math.ceil(lag / ((BEATS + 1) * 15)))
    assert result.limit_kb is not None and result.peak_kb < result.limit_kb
    assert result.bound  # 1,000,000 ids afterwards did not fit: growth with the stream would not have
