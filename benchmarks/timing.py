"""Clocks: throughput of an in-process loop, wall time of a fresh process, a bound when a run is cut short."""

from __future__ import annotations

import gc
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rate:
    """Events per second, or an upper bound on it when the measurement was cut off at a time cap."""

    per_second: float
    bound: bool = False
    """True when ``per_second`` is an upper bound (the run hit its cap; the real rate is lower)."""
    note: str = ""

    def show(self) -> str:
        text = f"{self.per_second:,.0f}" if self.per_second >= 100 else f"{self.per_second:,.3g}"
        return f"<= {text}" if self.bound else text


def interleaved_rates(
    jobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]], passes: int = 3, chunk: int = 100
) -> dict[str, Rate]:
    """Events per second of each loop, from ``passes`` timed passes after one untimed warm-up.

    Each loop's inputs are cut into chunks of ``chunk`` documents, and the loops take their chunks in
    turn (chunk 1 of each loop, then chunk 2 of each, ...; then the next pass), so that loops compared by
    a ratio run within a fraction of a second of each other, under the same load, which a shared machine
    varies from one second to the next. A loop's time is the sum, over its chunks, of each chunk's best
    pass: a burst of load spoils one chunk of one pass, not the loop. The garbage collector is paused
    while a round of chunks is timed (and run between rounds), so that one loop does not pay for
    another's garbage.
    """
    for function, payloads in jobs.values():
        for payload in payloads:
            function(payload)
    parts = {name: [payloads[i : i + chunk] for i in range(0, len(payloads), chunk)] for name, (_, payloads)
             in jobs.items()}  # fmt: skip
    best = {name: [float("inf")] * len(chunks) for name, chunks in parts.items()}
    rounds = max(len(chunks) for chunks in parts.values())
    for _ in range(passes):
        for index in range(rounds):
            gc.collect()
            gc.disable()
            try:
                for name, (function, _) in jobs.items():
                    if index < len(parts[name]):
                        seconds = _timed(function, parts[name][index])
                        best[name][index] = min(best[name][index], seconds)
            finally:
                gc.enable()
    note = f"best of {passes} for each chunk of {chunk}, interleaved"
    return {
        name: Rate(len(payloads) / sum(best[name]), note=f"{len(payloads)} docs, {note}")
        for name, (_, payloads) in jobs.items()
    }


def _timed(function: Callable[[Any], object], payloads: Sequence[Any]) -> float:
    start = time.perf_counter()
    for payload in payloads:
        function(payload)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Run:
    """One fresh process: its wall time and exit status (``None`` when killed at its time cap)."""

    seconds: float
    status: int | None


class UnexpectedStatus(RuntimeError):
    """A timed process ended otherwise than the measurement assumes: its time would mean nothing."""


def run_process(
    argv: Sequence[str], *, cap: float | None = None, expect: int | None = None, cwd: str | None = None
) -> Run:
    """Wall time of one process, output discarded, killed when it exceeds ``cap`` seconds.

    ``expect``: the exit status the measurement assumes (0 all valid, 1 some invalid); a process that
    ends with another (a crash, a usage error, a schema that failed to load) stops the run.
    """
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        status: int | None = process.wait(timeout=cap)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        status = None
    if expect is not None and status is not None and status != expect:
        raise UnexpectedStatus(f"{' '.join(argv[:4])} ... exited with {status}, expected {expect}")
    return Run(time.perf_counter() - start, status)


def best_run(argv: Sequence[str], repeat: int, *, expect: int | None = None, cwd: str | None = None) -> Run:
    """The fastest of ``repeat`` fresh processes (start-up costs vary with what else the machine does)."""
    runs = [run_process(argv, expect=expect, cwd=cwd) for _ in range(repeat)]
    return min(runs, key=lambda run: run.seconds)
