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
    jobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]], passes: int = 3
) -> dict[str, Rate]:
    """Events per second of each loop: the best of ``passes`` timed passes after one untimed warm-up.

    The passes are taken in turn (pass 1 of each loop, then pass 2 of each, ...), so that a ratio between
    two loops compares them under the same load, which a busy machine varies from one second to the next;
    the best pass is the least disturbed. The garbage collector is paused during a pass (and run between
    passes) so that one pass does not pay for another's garbage.
    """
    for function, payloads in jobs.values():
        for payload in payloads:
            function(payload)
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(passes):
        for name, (function, payloads) in jobs.items():
            best[name] = min(best[name], _timed_pass(function, payloads))
    return {
        name: Rate(len(payloads) / best[name], note=f"{len(payloads)} docs, best of {passes}, interleaved")
        for name, (_, payloads) in jobs.items()
    }


def _timed_pass(function: Callable[[Any], object], payloads: Sequence[Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for payload in payloads:
            function(payload)
        return time.perf_counter() - start
    finally:
        gc.enable()


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
