"""A million events in JSON Lines, in memory bounded by the open runs: through ``validate_stream``'s
checker, and through ``caliper-schema validate --stream``.

The stream (``benchmarks/streams.py``: 16 students at a time, runs of 39 heartbeats and a completion, made
on the fly) is checked in a child process under ``prlimit --as``: the address space of a short run of the
same stream (120,000 events, its ids already on disk) plus 48 MiB. Memory that grew with the stream (an
id, a window, a run, a finding kept per event or per run) would end the child with a MemoryError long
before 1,000,000 events; and the child shows the limit binds, by failing to keep 1,000,000 ids once the
stream is done. First the library's checker with the stream rules alone (what grows with runs), then the
command line, reading the stream from a pipe, every document checked and the stream rules across them.

Together they take two or three minutes of CPU, so ``tests/conftest.py`` starts them when the session is
collected: they run one after the other on the other core while the rest of the suite does, at the lowest
priority (``nice -n 19``) so that they take no time the suite wants, and these tests collect the results.
"""

from __future__ import annotations

import math
import shutil
import threading
from typing import Any

import pytest

from benchmarks.streams import BEATS, STUDENTS, CliResult, Result, bounded, cli_bounded
from caliper_schema.validation.streams import CLOSE_EVERY, ENDED

COUNT = 1_000_000
_RUN: dict[str, Any] = {}


def start() -> None:
    """Run the stream in the background (once)."""
    if "thread" in _RUN or shutil.which("prlimit") is None or shutil.which("nice") is None:
        return

    def work() -> None:
        for name, measure in (
            ("library", lambda: bounded(COUNT, per_document=False, idle=True)),
            ("cli", lambda: cli_bounded(COUNT, idle=True)),
        ):
            try:
                _RUN[name] = measure()
            except BaseException as error:  # raised in the test that collects it
                _RUN[f"{name} error"] = error

    _RUN["thread"] = threading.Thread(target=work, name="million-event-stream", daemon=True)
    _RUN["thread"].start()


def _collect(name: str) -> Any:
    if shutil.which("prlimit") is None or shutil.which("nice") is None:
        pytest.skip(
            "prlimit (util-linux) or nice (coreutils) is not installed: the address space cannot be limited"
        )
    start()
    _RUN["thread"].join(timeout=1800)
    assert not _RUN["thread"].is_alive(), "the streams did not end in 30 minutes"
    if f"{name} error" in _RUN:
        raise _RUN[f"{name} error"]
    return _RUN[name]


STEPS = math.ceil(COUNT / STUDENTS)  # each step, every student sends one event
RUNS = STUDENTS * math.ceil(STEPS / (BEATS + 1))  # 39 heartbeats and a completion a run


@pytest.mark.slow
def test_a_million_events_stream_in_memory_bounded_by_the_open_runs() -> None:
    result: Result = _collect("library")
    assert (result.documents, result.events) == (COUNT, COUNT)
    assert (result.errors, result.warnings) == (0, 0)  # the stream is valid: nothing kept per finding
    assert result.runs == RUNS
    # A run stays open until the stream is 10 minutes and a cadence (ENDED) past its last event, and ended
    # runs are looked for every CLOSE_EVERY events: a student has at most this many runs open at once.
    lag = ENDED + CLOSE_EVERY / STUDENTS * 15
    assert result.most_open <= STUDENTS * (1 + math.ceil(lag / ((BEATS + 1) * 15)))
    assert result.limit_kb is not None and result.peak_kb < result.limit_kb
    assert result.bound  # 1,000,000 ids afterwards did not fit: growth with the stream would not have


@pytest.mark.slow
def test_validate_stream_reads_a_million_events_from_a_pipe_in_bounded_memory() -> None:
    result: CliResult = _collect("cli")
    assert result.status == 0  # the exit status: a valid stream
    assert (result.documents, result.events, result.runs) == (COUNT, COUNT, RUNS)
    assert (result.errors, result.warnings) == (0, 0)
    assert result.limit_kb is not None and result.peak_kb < result.limit_kb
    assert result.bound
