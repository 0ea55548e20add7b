"""``python -m benchmarks.streams`` (a step of ``make bench``): a long stream in bounded memory.

A stream of ``--count`` events (1,000,000 by default) in JSON Lines, made on the fly as one app's output:
16 students at a time, each run 39 heartbeats at the SDK's 15 s cadence (stated windows) and a completion
whose XP fits, then the next run under a new ``runId``. It is streamed through
:func:`caliper_schema.validation.streams.check_stream` in a child process run under ``prlimit --as``: the
address space allowed is what a short run of the same stream peaks at, plus :data:`MARGIN`. Memory that
grew with the stream (an id, a window, a finding kept per event: 1,000,000 of anything is tens of MB)
would end the child with a MemoryError; the child also shows the limit binds, by trying to keep 1,000,000
ids once the stream is done. Prints the rate, the peak resident memory and the most runs open at once.

``tests/test_stream_memory.py`` runs the same child over 1,000,000 events with the stream rules alone
(the documents' own checks cost ~5x more time, not memory), then the command line over the same stream
with every document checked (:func:`cli_bounded`): ``caliper-schema validate --stream --jsonl --format json
-`` reading the lines from a pipe, under ``prlimit --as`` set the same way.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.timing import Rate, interleaved_rates

ROOT = Path(__file__).resolve().parent.parent
MARGIN = 48 * 1024 * 1024
"""Bytes of address space allowed beyond the peak of a short run of the same stream."""
CALIBRATION = 120_000
"""Events of the short run: past the point where ids go to disk (50,000), so it peaks as a long run does."""
STUDENTS = 16
BEATS = 39
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

_HEAD = (
    '{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:%08x-0000-4000-8000-%012x",'
    '"type":"%s","profile":"TimebackProfile","actor":{"id":"https://example.edu/users/%d",'
    '"type":"TimebackUser","email":"s%d@example.edu"},"action":"%s","object":{'
    '"id":"https://example.edu/activities/fractions","type":"TimebackActivityContext","subject":"Math",'
    '"app":{"name":"Math Raiders"}},"eventTime":"%s","generated":{"id":"urn:uuid:%08x-0000-4000-9000-%012x",'
)
HEARTBEAT = (
    _HEAD + '"type":"TimebackTimeSpentMetricsCollection","items":[{"type":"active","value":15,'
    '"startDate":"%s","endDate":"%s"}]},"extensions":{"runId":"%08x-0000-4000-8000-%012x"}}'
)
COMPLETION = (
    _HEAD + '"type":"TimebackActivityMetricsCollection","items":[{"type":"xpEarned","value":9}]},'
    '"extensions":{"runId":"%08x-0000-4000-8000-%012x"}}'
)


def _moment(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lines(count: int, students: int = STUDENTS) -> Iterator[bytes]:
    """``count`` JSON Lines of one app's valid stream, in time order, made as they are read."""
    made = 0
    step = 0
    while True:
        start, end = _moment(15 * step), _moment(15 * step + 15)
        for student in range(students):
            if made == count:
                return
            run = step // (BEATS + 1) * students + student
            high, low = divmod(made, 1 << 48)
            if step % (BEATS + 1) < BEATS:
                fields = ("TimeSpentEvent", student, student, "SpentTime", end, high, low, start, end)
                text = HEARTBEAT % (high, low, *fields, 0, run)
            else:
                done = ("ActivityEvent", student, student, "Completed", start, high, low)
                text = COMPLETION % (high, low, *done, 0, run)
            made += 1
            yield text.encode()
        step += 1


@dataclass(frozen=True)
class Result:
    """What the child measured."""

    events: int
    documents: int
    errors: int
    warnings: int
    runs: int
    most_open: int
    seconds: float
    max_rss_kb: int
    peak_kb: int
    bound: bool
    """True when keeping 1,000,000 ids afterwards failed: the limit was tight enough to catch growth."""
    limit_kb: int | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1])
    return 0


def child(count: int, per_document: bool) -> Result:
    """The stream through the checker, in this process; then the check that the limit binds."""
    from caliper_schema.validation.streams import StreamChecker, check_stream, from_lines

    checker = StreamChecker(documents=per_document)
    errors = warnings = 0
    start = time.perf_counter()
    for finding in check_stream(from_lines(lines(count), "stream.jsonl"), checker=checker):
        errors += finding.issue.severity == "error"
        warnings += finding.issue.severity == "warning"
    seconds = time.perf_counter() - start
    peak = _peak_kb()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        kept = [f"urn:uuid:{number:032x}" for number in range(1_000_000)]
        bound = not kept
    except MemoryError:
        bound = True
    counts = (checker.events, checker.documents, errors, warnings, checker.runs, checker.most_open)
    return Result(*counts, seconds, rss, peak, bound)


RUNNING: list[subprocess.Popen[Any]] = []
"""The child running now, for :func:`stop`."""


def _spawn(count: int, per_document: bool, limit: int | None, *, idle: bool) -> Result:
    command = [sys.executable, "-m", "benchmarks.streams", "--child", str(count)]
    command += [] if per_document else ["--rules-only"]
    if limit is not None:
        command = ["prlimit", f"--as={limit}", *command]
    if idle:
        command = ["nice", "-n", "19", *command]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        RUNNING[:] = [child]
        out, err = child.communicate()
        RUNNING.clear()
    if child.returncode != 0:
        raise RuntimeError(f"the stream child failed ({child.returncode}): {err[-2000:]}")
    fields = json.loads(out)
    return Result(**fields, limit_kb=None if limit is None else limit // 1024)


@dataclass(frozen=True)
class CliResult:
    """What the command line answered over the stream, and what its process measured."""

    status: int
    """The exit status ``main()`` returned."""
    documents: int
    events: int
    runs: int
    errors: int
    warnings: int
    seconds: float
    max_rss_kb: int
    peak_kb: int
    bound: bool
    limit_kb: int | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


CLI = ["validate", "--stream", "--jsonl", "--format", "json", "-"]


def cli_child(measured: Path) -> None:
    """``caliper-schema validate --stream --jsonl --format json -`` in this process (the console script's
    ``main``, reading standard input, writing its report to standard output); then what it measured, and
    the check that the limit binds, into ``measured``."""
    from caliper_schema.cli import main

    start = time.perf_counter()
    status = main(CLI)
    seconds = time.perf_counter() - start
    peak, rss = _peak_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        kept = [f"urn:uuid:{number:032x}" for number in range(1_000_000)]
        bound = not kept
    except MemoryError:
        bound = True
    fields = {"status": status, "seconds": seconds, "max_rss_kb": rss, "peak_kb": peak, "bound": bound}
    measured.write_text(json.dumps(fields))


def _cli_spawn(count: int, limit: int | None, *, idle: bool) -> CliResult:
    nice = ["nice", "-n", "19"] if idle else []
    bounded_to = ["prlimit", f"--as={limit}"] if limit is not None else []
    with tempfile.TemporaryDirectory() as folder:
        measured, report = Path(folder) / "measured.json", Path(folder) / "report.json"
        make = [*nice, sys.executable, "-m", "benchmarks.streams", "--lines", str(count)]
        check = [*nice, *bounded_to, sys.executable, "-m", "benchmarks.streams", "--cli-child", str(measured)]
        with (
            subprocess.Popen(make, cwd=ROOT, stdout=subprocess.PIPE) as producer,
            report.open("wb") as out,
            subprocess.Popen(
                check, cwd=ROOT, stdin=producer.stdout, stdout=out, stderr=subprocess.PIPE
            ) as child,
        ):
            assert producer.stdout is not None
            producer.stdout.close()  # the child's now: it sees the end of the stream when the producer ends
            RUNNING[:] = [producer, child]
            _, err = child.communicate()
            producer.wait()
            RUNNING.clear()
        if child.returncode != 0 or not measured.exists():
            raise RuntimeError(f"the command line failed ({child.returncode}): {err.decode()[-2000:]}")
        output = json.loads(report.read_bytes())
        summary = output["summary"]
        return CliResult(
            **json.loads(measured.read_text()), documents=output["documents"], events=output["events"],
            runs=output["runs"], errors=summary["errors"], warnings=summary["warnings"],
            limit_kb=None if limit is None else limit // 1024,
        )  # fmt: skip


def cli_bounded(count: int, *, idle: bool = False) -> CliResult:
    """The command line over ``count`` events piped to it, under ``prlimit --as``: the peak of a short run
    of the same command plus :data:`MARGIN`, as :func:`bounded` sets it."""
    calibration = _cli_spawn(min(count, CALIBRATION), None, idle=idle)
    return _cli_spawn(count, calibration.peak_kb * 1024 + MARGIN, idle=idle)


def stop() -> None:
    """End the child running now, if any (a test session that ends before it has)."""
    for child in RUNNING:
        child.kill()


def bounded(count: int, *, per_document: bool = True, idle: bool = False) -> Result:
    """``count`` events in a child under ``prlimit --as``: the peak of a short run plus :data:`MARGIN`.
    ``idle``: at the lowest CPU priority (``nice -n 19``), taking only the time others leave."""
    calibration = _spawn(min(count, CALIBRATION), per_document, None, idle=idle)
    return _spawn(count, per_document, calibration.peak_kb * 1024 + MARGIN, idle=idle)


@dataclass(frozen=True)
class StreamRates:
    """Events per second on the same JSON Lines: each line alone, then all of them as one stream."""

    events: int
    plain: Rate
    stream: Rate
    rules_only: Rate


def rates(passes: int, sessions: int = 100, seed: int = 7) -> StreamRates:
    """``validate()`` line by line against ``validate_stream()`` over the same generated sessions, in
    interleaved passes (:func:`benchmarks.timing.interleaved_rates`)."""
    from caliper_schema import validate
    from caliper_schema.generation.sessions import generate_sessions, write_session_lines
    from caliper_schema.validation.streams import from_lines, validate_stream

    out = io.StringIO()
    write_session_lines(generate_sessions(sessions, seed=seed), out)
    text = out.getvalue().encode()
    raw = text.splitlines()
    if not validate_stream(from_lines(text)).ok:
        raise RuntimeError("the generated sessions are not a valid stream: nothing to time")

    def stream(data: bytes) -> object:
        return validate_stream(from_lines(data))

    def rules(data: bytes) -> object:
        return validate_stream(from_lines(data), per_document=False)

    measured = interleaved_rates(
        {"plain": (validate, raw), "stream": (stream, [text]), "rules": (rules, [text])}, passes
    )
    note = f"{len(raw):,} events, {sessions} sessions, best of {passes}, interleaved"

    def per_event(rate: Rate, whole: bool) -> Rate:
        return Rate(rate.per_second * (len(raw) if whole else 1), note=note)

    return StreamRates(len(raw), per_event(measured["plain"], False), per_event(measured["stream"], True),
                       per_event(measured["rules"], True))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streams", description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rules-only", action="store_true", help="the stream rules without each document's")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lines", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cli-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lines is not None:  # the stream, on standard output
        out = sys.stdout.buffer
        for line in lines(args.lines):
            out.write(line + b"\n")
        out.flush()
        return 0
    if args.cli_child is not None:
        cli_child(args.cli_child)
        return 0
    if args.child is not None:
        result = child(args.child, not args.rules_only)
        fields = {name: getattr(result, name) for name in result.__dataclass_fields__ if name != "limit_kb"}
        print(json.dumps(fields))
        return 0
    result = bounded(args.count, per_document=not args.rules_only)
    what = "the stream rules alone" if args.rules_only else "every document's checks and the stream rules"
    print(f"## Streams: {result.events:,} events in JSON Lines, {what}, under prlimit --as\n")
    rows = [
        ("events/s", f"{result.rate:,.0f}"),
        ("seconds", f"{result.seconds:,.1f}"),
        ("errors, warnings", f"{result.errors}, {result.warnings}"),
        ("runs; most open at once", f"{result.runs:,}; {result.most_open}"),
        ("peak resident memory", f"{result.max_rss_kb / 1024:,.1f} MiB"),
        (
            "address space: peak, limit",
            f"{result.peak_kb / 1024:,.1f} MiB, {(result.limit_kb or 0) / 1024:,.1f} MiB",
        ),
        ("keeping 1,000,000 ids afterwards", "refused (the limit binds)" if result.bound else "ALLOWED"),
    ]
    print("| measurement | value |\n|---|---:|")
    print("\n".join(f"| {name} | {value} |" for name, value in rows))
    ok = result.bound and result.errors == 0 and result.warnings == 0 and result.events == args.count
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
