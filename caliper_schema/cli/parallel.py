"""The work of ``validate`` without ``--stream``: one report a file, in this process or over worker processes.

With ``--jobs N`` (N > 1) the files are checked in N worker processes, and a long JSON Lines file (or
standard input with ``--jsonl``) in chunks of lines: this process reads the lines, bounded as
:func:`~caliper_schema.validation.reading.read_lines` bounds them (a line over the size limit is measured,
never kept), and sends them on a chunk at a time; a worker checks a chunk into a
:class:`~caliper_schema.reporting.Cap` (and a :class:`~caliper_schema.validation.statistics.Coverage`),
and this process absorbs them in order, so that each file's report, and the statistics, are exactly those
one process makes: the same issues shown, the same counts hidden, the same bytes written. Results are
taken in the order the work was given, and no more than a few chunks a worker are in flight, so memory
stays bounded whatever the input's length.

The pool forks: the workers start with the schemas this process has loaded, and nothing needs pickling but
the work and its reports. It forks before any thread of its own starts (the executor starts its processes
first when it forks, and the progress bar runs no thread), so no lock is copied held. A worker that dies or
fails is never a pass: :class:`WorkerFailed`, which the command reports as an error (exit status 2).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from caliper_schema.policy import Policy
from caliper_schema.reporting import Cap, Report
from caliper_schema.validation.parsing import no_document, parse_lines
from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES, validate_file, validate_reader
from caliper_schema.validation.reading import Oversized, read_lines
from caliper_schema.validation.statistics import (
    Coverage,
    check_documents,
    check_file,
    check_reader,
)

OUT_OF_MEMORY = "not enough memory to check it (lower max-bytes in [tool.caliper-schema.limits])"
CHUNK_BYTES = 1 << 20
"""About how much of a JSON Lines file a chunk holds (whole lines), and how long a file must be to be split:
big enough that sending it costs little next to checking it, small enough to share the work evenly."""
IN_FLIGHT = 4
"""Chunks or files given to the pool per worker and not yet reported: a bound on memory, and enough that no
worker waits for the next."""
AUTO_BYTES = 1 << 20
"""With no --jobs, the files named must hold at least this much for the pool to pay for its start
(measured in benchmarks/README.md)."""

Done = Callable[[int, bool], None]
"""Told the bytes of each file or chunk checked, and whether a file is done."""
T = TypeVar("T")
Target = Path | None
"""A file to check, or standard input (None)."""
Outcome = Report | str
"""A file's report, or why it could not be checked."""


class WorkerFailed(Exception):
    """A worker process died or failed: the run cannot give a verdict."""


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def auto_jobs(sizes: Iterable[int]) -> int:
    """How many processes to use when none is asked: every core once the input is large enough."""
    cores = usable_cores()
    if cores == 1:
        return 1
    total = 0
    for size in sizes:
        total += size
        if total >= AUTO_BYTES:
            return cores
    return 1


def size_of(target: Target) -> int:
    """The bytes of a regular file (0 when unknown: standard input, a device, a missing file)."""
    try:
        return 0 if target is None else max(target.stat().st_size, 0)
    except OSError:
        return 0


def _what(target: Target) -> str:
    return "standard input" if target is None else repr(str(target))


def unread(target: Target, error: OSError) -> str:
    """Why ``target`` could not be read."""
    return f"cannot read {_what(target)}: {error.strerror or error}"


def out_of_memory(target: Target) -> str:
    """Why ``target`` could not be checked in the memory given."""
    return f"{_what(target)}: {OUT_OF_MEMORY}"


@dataclass(frozen=True)
class Settings:
    """What every unit of work needs: the policy, whether standard input is JSON Lines, and whether the
    coverage is counted."""

    policy: Policy
    jsonl: bool = False
    statistics: bool = False

    def coverage(self, *, bounded: bool = True) -> Coverage | None:
        """A Coverage to count into (None without statistics); ``bounded=False`` for a part of the run."""
        if not self.statistics:
            return None
        return Coverage(self.policy.subjects, bounded=bounded)


def check(target: Target, settings: Settings, coverage: Coverage | None) -> Outcome:
    """One file's report (standard input's for None), or why it could not be read: the unit of work."""
    policy = settings.policy
    try:
        if target is None:
            if sys.stdin is None:
                raise OSError("standard input is closed")
            if coverage is not None:
                return check_reader(sys.stdin.buffer, coverage, lines=settings.jsonl, policy=policy)
            return validate_reader(sys.stdin.buffer, lines=settings.jsonl, policy=policy)
        if coverage is not None:
            return check_file(target, coverage, policy=policy)
        return validate_file(target, policy=policy)
    except OSError as error:
        return unread(target, error)
    except MemoryError:  # a document within the limits, in a process given less memory than it needs
        return out_of_memory(target)


def sequential(targets: Iterable[tuple[str, Target | str]], settings: Settings, coverage: Coverage | None,
               done: Done) -> Iterator[tuple[str, Outcome]]:  # fmt: skip
    """Each file's outcome in order, checked in this process."""
    for name, target in targets:
        yield name, target if isinstance(target, str) else check(target, settings, coverage)
        done(0 if isinstance(target, str) else size_of(target), True)


# --- in a worker -------------------------------------------------------------------------------------------

_settings: Settings | None = None


def _start(settings: Settings) -> None:
    """A worker's start: the settings, and Ctrl-C left to the parent, which stops the workers itself."""
    global _settings
    _settings = settings
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _whole(target: Path) -> tuple[Outcome, Coverage | None]:
    assert _settings is not None
    coverage = _settings.coverage(bounded=False)
    return check(target, _settings, coverage), coverage


Whole = tuple[Outcome, Coverage | None]
"""A file checked whole: its outcome and what it covers."""
Part = tuple[Cap, int, Coverage | None]
"""A chunk's issues (its last document closed), how many documents it held, what they cover."""


def _chunk(lines: list[bytes | Oversized], start: int, room: int) -> Part | None:
    """The lines of a chunk checked (``start``: the number of the first; ``room``: how many issues of each
    severity the file's report may still show, for all the chunks before had); None when out of memory."""
    assert _settings is not None
    coverage = _settings.coverage(bounded=False)
    policy = _settings.policy
    try:
        documents = parse_lines(lines, policy.limits, start=start, whole=False)
        cap, count = check_documents(documents, policy, coverage, limit=room)
    except MemoryError:
        return None
    return cap, count, coverage


def _no_document(settings: Settings) -> Part:
    """JSON Lines whose chunks held no document: ``json.empty``, as one process reports them."""
    coverage = settings.coverage(bounded=False)
    cap, count = check_documents([no_document()], settings.policy, coverage)
    return cap, count, coverage


# --- in this process ---------------------------------------------------------------------------------------


class _Pool:
    """The worker processes, started when the first piece of work is done: that piece is checked here, so
    that the workers start with the validators it compiled (a worker that compiles its own pays again what
    one process pays once: about half a second for a few event types)."""

    def __init__(self, jobs: int, settings: Settings) -> None:
        self.jobs, self.settings = jobs, settings
        self.executor: ProcessPoolExecutor | None = None

    def submit(self, work: Callable[..., T], *args: object) -> Future[T]:
        if self.executor is not None:
            try:
                return self.executor.submit(work, *args)
            except BrokenProcessPool as error:  # a worker died since the last result was taken
                raise WorkerFailed(f"a worker process died ({error})") from None
        global _settings
        _settings = self.settings
        future: Future[T] = Future()
        future.set_result(work(*args))
        context = multiprocessing.get_context("fork")
        self.executor = ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=_start, initargs=(self.settings,)
        )
        return future

    def stop(self, *, now: bool) -> None:
        """Wait for the workers to end; ``now``: end them at once (interrupted, failed, abandoned)."""
        if self.executor is None:
            return
        if now:
            for process in list(getattr(self.executor, "_processes", {}).values()):  # no public way < 3.14
                process.terminate()
        # Waiting even then, for the executor's thread to end: the workers are ended, so it does at once,
        # and an interpreter exit while it closes its pipe can raise in concurrent.futures' own exit hook.
        self.executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Step:
    """One piece of the work in the order of the output: a file's outcome (``whole``), a chunk of a file,
    or the end of a chunked file (``failure``: why it could not all be read)."""

    name: str
    target: Target
    kind: str
    work: Future[Whole] | Future[Part | None] | Whole | Outcome | None = None
    size: int = 0
    file: _File | None = None
    """The chunked file this chunk or end belongs to."""


class _File:
    """A chunked file's parts as they come back, absorbed in order.

    A chunk is checked into a cap that keeps no more issues than the report may still show, as far as the
    chunks absorbed already tell (once the report is full of errors: none). Locating issues and writing
    their hints is most of the cost of an invalid document, and a cap that keeps none does neither; what a
    chunk's cap hides, the file's report would hide too, so the report is the same.
    """

    def __init__(self, settings: Settings) -> None:
        self.cap = Cap(settings.policy.limits.max_issues)
        self.documents = 0
        self.coverage = settings.coverage(bounded=False)
        self.short_of_memory = False

    @property
    def room(self) -> int:
        """How many issues of each severity the report may still show, as far as is known."""
        return max(self.cap.limit - self.cap.errors_found, 0)

    def add(self, part: Part | None) -> None:
        if part is None:
            self.short_of_memory = True
            return
        cap, count, coverage = part
        self.cap.absorb(cap)
        self.documents += count
        if self.coverage is not None and coverage is not None:
            self.coverage.absorb(coverage)


def _is_lines(target: Target, settings: Settings) -> bool:
    if target is None:
        return settings.jsonl
    return target.suffix.lower() in JSON_LINES_SUFFIXES and size_of(target) > CHUNK_BYTES


def _chunks(stream: BinaryIO, limit: int) -> Iterator[tuple[list[bytes | Oversized], int, int]]:
    """The lines of ``stream`` in chunks of about :data:`CHUNK_BYTES`: (lines, first line number, bytes)."""
    lines: list[bytes | Oversized] = []
    start = number = 1
    size = 0
    try:
        for line in read_lines(stream, limit):
            lines.append(line)
            number += 1
            size += line.size if isinstance(line, Oversized) else len(line)
            if size >= CHUNK_BYTES:
                yield lines, start, size
                lines, start, size = [], number, 0
    except (OSError, MemoryError):  # what was read is still checked and counted, as in one process
        if lines:
            yield lines, start, size
        raise
    if lines:
        yield lines, start, size


def _steps(targets: Iterable[tuple[str, Target | str]], settings: Settings,
           pool: _Pool) -> Iterator[_Step]:  # fmt: skip
    """The work, given to the pool as it is asked for (lazily: a chunk is read when there is room for it)."""
    for name, target in targets:
        if isinstance(target, str):
            yield _Step(name, None, "whole", target)
        elif _is_lines(target, settings):
            yield from _chunked(name, target, settings, pool)
        elif target is None:  # one document on standard input: read here, where the stream is
            coverage = settings.coverage(bounded=False)
            yield _Step(name, None, "whole", (check(None, settings, coverage), coverage))
        else:
            yield _Step(name, target, "whole", pool.submit(_whole, target), size_of(target))


def _chunked(name: str, target: Target, settings: Settings, pool: _Pool) -> Iterator[_Step]:
    failure: str | None = None
    file = _File(settings)
    try:
        if target is None and sys.stdin is None:
            raise OSError("standard input is closed")
        with target.open("rb") if target is not None else _borrowed(sys.stdin.buffer) as stream:
            for lines, start, size in _chunks(stream, settings.policy.limits.max_bytes):
                work = pool.submit(_chunk, lines, start, file.room)
                yield _Step(name, target, "chunk", work, size, file)
    except OSError as error:  # the chunks read so far are still checked and counted, as in one process
        failure = unread(target, error)
    except MemoryError:
        failure = out_of_memory(target)
    yield _Step(name, target, "end", failure, file=file)


class _borrowed:
    """Standard input as a context manager that does not close it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        return None


def _result(step: _Step) -> object:
    """What a step's work gave; a worker that died or raised is a :class:`WorkerFailed`."""
    if not isinstance(step.work, Future):
        return step.work
    try:
        return step.work.result()
    except BrokenProcessPool as error:
        raise WorkerFailed(f"a worker process died while checking {_what(step.target)} ({error})") from None
    except MemoryError:
        raise WorkerFailed(f"a worker process ran out of memory with {_what(step.target)}") from None
    except Exception as error:  # any failure of a worker ends the run, named
        raise WorkerFailed(f"a worker process failed on {_what(step.target)}: {error!r}") from None


def pooled(targets: Iterable[tuple[str, Target | str]], settings: Settings, coverage: Coverage | None,
           jobs: int, done: Done) -> Iterator[tuple[str, Outcome]]:  # fmt: skip
    """Each file's outcome in order, checked by ``jobs`` worker processes; ``coverage`` absorbs each
    file's counts in order."""
    pool = _Pool(jobs, settings)
    steps = _steps(targets, settings, pool)
    queue: deque[_Step] = deque()
    finished = False
    try:
        while True:
            while len(queue) < IN_FLIGHT * jobs:
                step = next(steps, None)
                if step is None:
                    break
                queue.append(step)
            if not queue:
                break
            step = queue.popleft()
            result = _result(step)
            if step.kind == "chunk":
                assert step.file is not None
                step.file.add(result)  # type: ignore[arg-type]
                done(step.size, False)
                continue
            if step.kind == "end":
                part = step.file
                assert part is not None
                if part.documents == 0 and not isinstance(result, str):  # read to its end: nothing in it
                    part.add(_no_document(settings))
                if coverage is not None and part.coverage is not None:
                    coverage.absorb(part.coverage)
                outcome: Outcome = part.cap.report(documents=part.documents)
                if part.short_of_memory:
                    outcome = out_of_memory(step.target)
                yield step.name, result if isinstance(result, str) else outcome
                done(0, True)
                continue
            outcome, counted = result if isinstance(result, tuple) else (result, None)
            if coverage is not None and counted is not None:
                coverage.absorb(counted)
            yield step.name, outcome
            done(step.size, True)
        finished = True
    finally:  # interrupted, a worker failed, or the reader stopped: stop the workers now
        pool.stop(now=not finished)
