"""The work of ``validate`` over worker processes: a report a file, or (``--stream``) each document's verdict.

With ``--jobs N`` (N > 1) the files are checked in N worker processes, and a long JSON Lines file (or
standard input with ``--jsonl``) in chunks of lines. A file is cut here into spans of whole lines: its line
ends are found and counted in blocks (so each span's first line has its number), and each worker opens
the file and reads its own span, bounded as :func:`~caliper_schema.validation.reading.read_lines` bounds
every line (a line over the size limit is measured, never kept): neither the lines nor their reading pass
through this process. Standard input, which only one process can read, is read here and sent a chunk of
lines at a time. A worker checks a chunk into a :class:`~caliper_schema.reporting.Cap` (and a
:class:`~caliper_schema.validation.statistics.Coverage`), and this process absorbs them in order, so that
each file's report, and the statistics, are exactly those one process makes: the same issues shown, the
same counts hidden, the same bytes written. Results are taken in the order the work was given, and no
more than a few chunks a worker are in flight, so memory stays bounded whatever the input's length.

With ``--stream``, a long JSON Lines file is cut the same way and each worker judges the documents of its
spans (:func:`~caliper_schema.validation.streams.judge`); this process reads the file in order too, for the
stream rules, and feeds each document with its verdict to the stream's checker (:func:`judged_items`).

The pool forks: the workers start with the schemas this process has loaded, and nothing needs pickling but
the work and its reports. It forks before any thread of its own starts (the executor starts its processes
first when it forks, and the progress bar runs no thread), so no lock is copied held. A worker that dies or
fails is never a pass: :class:`WorkerFailed`, which the command reports as an error (exit status 2).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, TypeVar, cast

from caliper_schema.policy import Policy
from caliper_schema.reporting import Cap, Report
from caliper_schema.validation.parsing import Document, no_document, parse_lines
from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES, validate_file, validate_reader
from caliper_schema.validation.reading import Oversized, read_lines
from caliper_schema.validation.statistics import (
    Coverage,
    check_documents,
    check_file,
    check_reader,
)

# multiprocessing and concurrent.futures are imported when a pool starts: a tenth of the command's imports,
# which a run of --jobs 1 (one file, a pre-commit hook) does not need.
if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from caliper_schema.validation.streams import Item, Judged

OUT_OF_MEMORY = "not enough memory to check it (lower max-bytes in [tool.caliper-schema.limits])"
CHUNK_BYTES = 1 << 20
"""About how much of a JSON Lines file a chunk holds (whole lines), and how long a file must be to be split:
big enough that sending it costs little next to checking it, small enough to share the work evenly."""
SCAN = 1 << 20
"""How much of a file is read at a time to find where its chunks end."""
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


class Part(NamedTuple):
    """A chunk checked: its issues (its last document closed), how many documents it held, what they cover;
    or, with ``failure``, why it could not all be read or checked (what it covered so far still counts)."""

    cap: Cap | None
    documents: int
    coverage: Coverage | None
    failure: str | None = None


def _checked(lines: Iterable[bytes | Oversized], start: int, room: int, target: Target) -> Part:
    """Lines checked (``start``: the number of the first; ``room``: how many issues of each severity the
    file's report may still show, for all the chunks before had)."""
    assert _settings is not None
    coverage = _settings.coverage(bounded=False)
    policy = _settings.policy
    try:
        documents = parse_lines(lines, policy.limits, start=start, whole=False)
        cap, count = check_documents(documents, policy, coverage, limit=room)
    except OSError as error:
        return Part(None, 0, coverage, unread(target, error))
    except MemoryError:
        return Part(None, 0, coverage, out_of_memory(target))
    return Part(cap, count, coverage)


def _chunk(lines: list[bytes | Oversized], start: int, room: int) -> Part:
    """Lines read by this process (from standard input) checked."""
    return _checked(lines, start, room, None)


class Span(NamedTuple):
    """A part of a file, whole lines: from byte ``start`` to ``end`` (None: to the end of the file, however
    long it has grown), its first line numbered ``line``; ``identity`` is the file's (device, inode) when it
    was cut, so that a file replaced since is not read in its stead."""

    start: int
    end: int | None
    line: int
    identity: tuple[int, int]


class _Slice:
    """A file's lines from where it stands to ``end``, for :func:`read_lines`: a span ends after a line
    end, so the lines read are those one reader of the whole file reads there."""

    def __init__(self, stream: BinaryIO, start: int, end: int | None) -> None:
        self.stream, self.position, self.end = stream, start, end

    def readline(self, size: int = -1, /) -> bytes:
        if self.end is None:
            return self.stream.readline(size)
        left = self.end - self.position
        if left <= 0:
            return b""
        line = self.stream.readline(left if size < 0 else min(size, left))
        self.position += len(line)
        return line


@contextlib.contextmanager
def _span_lines(target: Path, span: Span) -> Iterator[Iterator[bytes | Oversized]]:
    """The lines of a span of a file, read here (raises OSError when it cannot be opened, or was replaced
    since it was cut: another file is not read in its stead)."""
    assert _settings is not None
    with target.open("rb") as stream:
        status = os.fstat(stream.fileno())
        if (status.st_dev, status.st_ino) != span.identity:
            raise OSError("it was replaced while it was read")
        stream.seek(span.start)
        yield read_lines(_Slice(stream, span.start, span.end), _settings.policy.limits.max_bytes)


def _span(target: Path, span: Span, room: int) -> Part:
    """A span of a file read and checked here: the parent only cut the file, so that neither the lines nor
    the reading of them pass through it."""
    try:
        with _span_lines(target, span) as lines:
            return _checked(lines, span.line, room, target)
    except OSError as error:
        return Part(None, 0, None, unread(target, error))


STREAM_ISSUES = 10_000
"""The most issues a worker sends back for one span of a ``--stream`` file; the documents after them are
judged in this process instead (the worker sends the span's last line): memory stays bounded by this,
however many issues a span of tiny broken lines holds (a megabyte of ``{}`` lines holds a million)."""


def _judge_span(target: Path, span: Span) -> list[tuple[int, Judged | None]] | str:
    """``--stream``: each document of a span of a file judged as the stream's checker would judge it, with
    its line (a line over the size limit is left to this process, which refuses it unread; so are the
    documents after the first :data:`STREAM_ISSUES` issues: ``(the span's last line, None)``); or why the
    span could not be read."""
    from caliper_schema.validation.streams import from_lines, judge

    assert _settings is not None
    policy = _settings.policy
    found: list[tuple[int, Judged | None]] = []
    held, last = 0, None
    try:
        with _span_lines(target, span) as lines:
            for item in from_lines(lines, str(target), limits=policy.limits, start=span.line, whole=False):
                if not _judged_there(item):
                    continue
                if held < STREAM_ISSUES:
                    judged = judge(item, policy)
                    held += len(judged.issues)
                    found.append((item.line or 0, judged))
                else:
                    last = item.line or 0
    except OSError as error:
        return unread(target, error)
    except MemoryError:
        return out_of_memory(target)
    if last is not None:
        found.append((last, None))  # the span's documents up to this line are the parent's to judge
    return found


def _judged_there(item: Item) -> bool:
    """True for a line a worker judges: one read (not refused unread, nor the note of an empty file)."""
    return not isinstance(item.payload, Document)


def _no_document(settings: Settings) -> Part:
    """JSON Lines whose chunks held no document: ``json.empty``, as one process reports them."""
    coverage = settings.coverage(bounded=False)
    cap, count = check_documents([no_document()], settings.policy, coverage)
    return Part(cap, count, coverage)


# --- in this process ---------------------------------------------------------------------------------------


class _Pool:
    """The worker processes, started when the first piece of work is done: that piece is checked here, so
    that the workers start with the validators it compiled (a worker that compiles its own pays again what
    one process pays once: about half a second for a few event types)."""

    def __init__(self, jobs: int, settings: Settings) -> None:
        self.jobs, self.settings = jobs, settings
        self.executor: ProcessPoolExecutor | None = None

    def submit(self, work: Callable[..., T], *args: object) -> Future[T]:
        import multiprocessing
        from concurrent.futures import Future, ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self.executor is not None:
            try:
                return self.executor.submit(work, *args)
            except BrokenProcessPool as error:  # a worker died since the last result was taken
                raise WorkerFailed(f"a worker process died ({error})") from None
        global _settings
        _settings = self.settings
        future: Future[T] = Future()
        try:
            future.set_result(work(*args))
        except Exception as error:  # reported as a worker's failure is, when its result is taken
            future.set_exception(error)
        context = multiprocessing.get_context("fork")
        self.executor = ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=_start, initargs=(self.settings,)
        )
        # The workers fork at the next submit. What they inherit (the schemas, the compiled validators) lives
        # as long as they do: frozen, their collections neither walk it nor copy its pages (measured: --jobs 2
        # went from 1.55x to 1.73-1.88x --jobs 1 on 20,000 valid envelopes). Unfrozen in stop().
        gc.freeze()
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
        gc.unfreeze()


@dataclass
class _Step:
    """One piece of the work in the order of the output: a file's outcome (``whole``), a chunk of a file,
    or the end of a chunked file (``failure``: why it could not all be read)."""

    name: str
    target: Target
    kind: str
    work: Future[Whole] | Future[Part] | Whole | Outcome | None = None
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
        self.failure: str | None = None
        """Why the file could not all be read or checked: the first chunk's reason, in the file's order."""

    @property
    def room(self) -> int:
        """How many issues of each severity the report may still show, as far as is known."""
        return max(self.cap.limit - self.cap.errors_found, 0)

    def add(self, part: Part) -> None:
        if self.failure is not None:  # one process stops reading there: nothing after it is counted
            return
        if self.coverage is not None and part.coverage is not None:
            self.coverage.absorb(part.coverage)
        if part.cap is None:
            self.failure = part.failure
            return
        self.cap.absorb(part.cap)
        self.documents += part.documents


def _is_lines(target: Target, settings: Settings) -> bool:
    if target is None:
        return settings.jsonl
    return is_long_lines(target)


def is_long_lines(target: Path) -> bool:
    """True for a JSON Lines file long enough to be cut into chunks (over :data:`CHUNK_BYTES`)."""
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


def _spans(stream: BinaryIO, jobs: int) -> Iterator[Span]:
    """Where a file is cut into chunks: after a line end, once a chunk holds :func:`_wanted` bytes, each
    with the number of its first line; the last runs to the end of the file. The file is read here in
    blocks of :data:`SCAN` bytes, its line ends counted (memory stays bounded: a line longer than a chunk
    only makes a longer chunk), but neither kept nor sent: each worker reads its own span."""
    status = os.fstat(stream.fileno())
    identity, total = (status.st_dev, status.st_ino), status.st_size
    start, line, offset, newlines = 0, 1, 0, 0
    wanted = _wanted(start, total, jobs)
    while block := stream.read(SCAN):
        while wanted - offset < len(block):
            cut = block.find(b"\n", max(wanted - offset, 0))
            if cut < 0:
                break
            end = offset + cut + 1
            yield Span(start, end, line, identity)
            start, line = end, 1 + newlines + block.count(b"\n", 0, cut + 1)
            wanted = start + _wanted(start, total, jobs)
        newlines += block.count(b"\n")
        offset += len(block)
    yield Span(start, None, line, identity)


def _wanted(start: int, total: int, jobs: int) -> int:
    """How many bytes a chunk starting at ``start`` should hold at least. The first is small: it is checked
    here, the workers waiting for it to be forked, so it only needs to compile the validators they
    inherit. The last ones shrink, so that the workers finish together rather than one chunk apart."""
    least = max(CHUNK_BYTES // 16, 1)
    if start == 0:
        return least
    return max(least, min(CHUNK_BYTES, (total - start) // (2 * jobs)))


def _chunked(name: str, target: Target, settings: Settings, pool: _Pool) -> Iterator[_Step]:
    """A JSON Lines file's chunks, then its end: a file cut into spans its workers read themselves, standard
    input read here and sent a chunk of lines at a time (a pipe can be read by one process only)."""
    failure: str | None = None
    file = _File(settings)
    try:
        if target is None:
            if sys.stdin is None:
                raise OSError("standard input is closed")
            for lines, start, size in _chunks(sys.stdin.buffer, settings.policy.limits.max_bytes):
                yield _Step(name, None, "chunk", pool.submit(_chunk, lines, start, file.room), size, file)
        else:
            with target.open("rb") as stream:
                for span in _spans(stream, pool.jobs):
                    size = max((size_of(target) if span.end is None else span.end) - span.start, 0)
                    yield _Step(
                        name, target, "chunk", pool.submit(_span, target, span, file.room), size, file
                    )
    except OSError as error:  # the chunks cut so far are still checked and counted, as in one process
        failure = unread(target, error)
    except MemoryError:
        failure = out_of_memory(target)
    yield _Step(name, target, "end", failure, file=file)


def _result(step: _Step) -> object:
    """What a step's work gave; a worker that died or raised is a :class:`WorkerFailed`."""
    return _taken(step.work, step.target)


def _taken(work: object, target: Target) -> object:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    if not isinstance(work, Future):
        return work
    try:
        return work.result()
    except BrokenProcessPool as error:
        raise WorkerFailed(f"a worker process died while checking {_what(target)} ({error})") from None
    except MemoryError:
        raise WorkerFailed(f"a worker process ran out of memory with {_what(target)}") from None
    except Exception as error:  # any failure of a worker ends the run, named
        raise WorkerFailed(f"a worker process failed on {_what(target)}: {error!r}") from None


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
                file = step.file
                assert file is not None
                if isinstance(result, str):  # this process could not cut or read it all: after every chunk
                    file.add(Part(None, 0, None, result))
                if file.failure is None and file.documents == 0:  # read to its end: nothing in it
                    file.add(_no_document(settings))
                if coverage is not None and file.coverage is not None:
                    coverage.absorb(file.coverage)
                yield step.name, file.failure or file.cap.report(documents=file.documents)
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


def judged_items(target: Path, settings: Settings, jobs: int) -> Iterator[tuple[Item, Judged | None]]:
    """``--stream --jobs``: the documents of a JSON Lines file in order, each with its own verdict, reached by
    ``jobs`` worker processes (None: one this process judges, a line refused unread or one past a span's
    :data:`STREAM_ISSUES`). The file is read here
    too, a line at a time, for the stream rules, which need the documents in order; the workers read their
    spans of it themselves. A file that changes while it is read, or a worker that fails, is a
    :class:`WorkerFailed`: never a verdict on part of a file. Raises :class:`OSError` when it cannot be read.
    """
    from caliper_schema.validation.streams import from_file

    pool = _Pool(jobs, settings)
    finished = False
    try:
        with target.open("rb") as stream:
            spans = _spans(stream, jobs)
            verdicts = _verdicts(target, spans, pool)
            mine = 0  # documents up to this line are judged here: past a span's STREAM_ISSUES
            for item in from_file(target, limits=settings.policy.limits):
                if not _judged_there(item) or (item.line or 0) <= mine:
                    yield item, None
                    continue
                line, judged = next(verdicts, (None, None))
                if judged is None and line is not None and line >= (item.line or 0):
                    mine = line
                    yield item, None
                    continue
                if line != item.line or judged is None:
                    raise WorkerFailed(f"{_what(target)} changed while it was read")
                yield item, judged
            if next(verdicts, None) is not None:
                raise WorkerFailed(f"{_what(target)} changed while it was read")
        finished = True
    finally:
        pool.stop(now=not finished)


def _verdicts(target: Path, spans: Iterator[Span], pool: _Pool) -> Iterator[tuple[int, Judged | None]]:
    """The workers' verdicts on the spans, in order, a few spans a worker given ahead."""
    queue: deque[Future[list[tuple[int, Judged | None]] | str]] = deque()
    while True:
        while len(queue) < IN_FLIGHT * pool.jobs:
            span = next(spans, None)
            if span is None:
                break
            queue.append(pool.submit(_judge_span, target, span))
        if not queue:
            return
        result = _taken(queue.popleft(), target)
        if isinstance(result, str):
            raise WorkerFailed(result)
        yield from cast("list[tuple[int, Judged | None]]", result)
