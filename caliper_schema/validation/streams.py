"""Streams: the documents one app sent, each checked on its own and all checked across each other.

A Timeback app does not send one event but a stream: a TimeSpentEvent (a *heartbeat*) for every 15 s window
of a run, then an ActivityEvent (the *completion*) with the XP and questions of the run, all sharing one
``runId`` (``shared/reference/timeback-profile-facts.md`` §3-§5). :func:`validate_stream` runs the whole
pipeline on each document of a stream (:func:`~caliper_schema.validation.pipeline.document_issues`) and the
stream rules of the rule layer (``stream.*`` in :mod:`~caliper_schema.validation.rules`) across them:

- an event id is used once in the whole stream (across envelopes and files);
- per *run* (one actor's events with one ``runId``, read from ``extensions.runId``, else from a
  ``session`` of ``urn:uuid:<runId>`` as the SDK sends it): heartbeat windows that overlap or repeat, a
  window far longer than the cadence, more XP than active minutes, a completion sent before the time of
  its run, course completion falling.

A heartbeat's *window* is the one its items state (``startDate``..``endDate``, S5) or else the one the SDK
sends (P3: ``eventTime`` is the window's end, its seconds the window's length). Windows are compared to
the second: an overlap of a second or less is rounding, not time counted twice.

Memory is bounded by the runs open at once, not by the length of the stream. A run ends when the facts
say it must have: ten minutes (the abandoned-tab cutoff) and one cadence after its last event, in stream
time (the latest ``eventTime`` seen). An ended run is set aside with what its later checks need, and taken
back if the stream comes back to it. Event ids are kept in memory up to :data:`SPILL_IDS`, then in a
temporary SQLite database on disk (exact, in bounded memory); duplicates found there are reported when the
stream ends.

>>> example = "examples/valid/timeback-activity-event.json"
>>> report = validate_stream([*from_file(example), *from_file(example)])
>>> [(f.document, f.issue.rule, f.issue.pointer, f.issue.line) for f in report.findings]
[(1, 'stream.duplicate-id', '/data/0/id', 8)]
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, cast

import orjson

from caliper_schema.policy import DEFAULT, Limits, Policy
from caliper_schema.registry import load
from caliper_schema.reporting import Issue, Severity, counted
from caliper_schema.validation.dispatching import dispatch, is_envelope
from caliper_schema.validation.parsing import MISSING, Document, no_document, parse, parse_value, refused
from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES, document_issues
from caliper_schema.validation.reading import Oversized, read_document, read_lines
from caliper_schema.validation.rules import RULES
from caliper_schema.validation.statistics import Coverage

CADENCE = 15.0
"""Seconds between two heartbeats of the SDK (S5, S6: "every 15 s by default")."""
CUTOFF = 600.0
"""Seconds after which a hidden tab's heartbeats stop (S6: the abandoned-tab cutoff, 10 minutes)."""
ENDED = CUTOFF + CADENCE
"""Stream seconds after a run's last event when the run has ended: it stays open that long."""
LONGEST_WINDOW = 8 * CADENCE
"""The longest heartbeat window taken as the SDK's: a browser may stretch a hidden tab's 15 s timer to
a minute (timer throttling), never to two."""
SLACK = 1.0
"""Seconds of overlap taken as rounding (the SDK reports milliseconds as seconds)."""
SPILL_IDS = 50_000
"""Event ids kept in memory; beyond them, every id goes to a temporary database on disk."""
SPILL_RUNS = 1_000
"""Ended runs kept in memory (the latest; each without its windows one by one, its stretches of time
kept); beyond them, the oldest go to the same temporary database."""
KEPT_WINDOWS = 256
"""Windows a run remembers one by one (to tell a repeated window from an overlapping one, and to name the
heartbeat overlapped); older ones are remembered merged in stretches, where a repeat is an overlap."""
KEPT_STRETCHES = 4096
"""Separate stretches of counted time a run remembers (a run of contiguous windows is one stretch)."""
KEPT_COMPLETIONS = 64
"""Completions a run remembers (the SDK sends one; corrections add a few)."""
MAX_FINDINGS = 10_000
"""Findings a :class:`StreamReport` keeps; the rest are counted (and the verdict still counts them)."""
CLOSE_EVERY = 1024
"""Events between two looks for the runs that have ended."""

Payload = bytes | bytearray | str | Mapping[str, Any] | list[Any] | Path | Document


@dataclass(frozen=True)
class Item:
    """One document of a stream: its payload, and where it comes from.

    ``payload`` is bytes or text (parsed strictly), an already parsed value, a :class:`pathlib.Path` (read
    here, within the size limit) or a parsed :class:`~caliper_schema.validation.parsing.Document`;
    ``source`` names it in findings (a file name); ``line`` is the line its text starts on in ``source``
    (one document of a JSON Lines file starts on its line).
    """

    payload: Payload
    source: str | None = None
    line: int | None = None


class Where(NamedTuple):
    """Where a finding points: the document (its source and index in the stream), the JSON Pointer in it,
    and the line and column of that value when known."""

    source: str | None
    document: int
    pointer: str
    line: int | None = None
    column: int | None = None

    def named(self) -> str:
        """``source:line pointer``, as a finding's message names another event (without a source,
        ``document N``, counted from 1)."""
        place = f"document {self.document + 1}" if self.source is None else _printable(self.source)
        return f"{place}{f':{self.line}' if self.line else ''} {self.pointer or '/'}"


@dataclass(frozen=True, slots=True)
class Finding:
    """An issue of a stream: the issue, and the document it is in (``source``, ``document``: its index)."""

    issue: Issue
    source: str | None = None
    document: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The issue's JSON form with its ``source`` and ``document`` index."""
        return {"source": self.source, "document": self.document, **self.issue.to_dict()}


@dataclass(frozen=True, slots=True)
class Judged:
    """What the per-document pipeline said of one item, judged elsewhere (``validate --stream --jobs``: in a
    worker process): its issues as the policy weighs them, and whether it parsed."""

    issues: tuple[Issue, ...]
    parsed: bool


_UNPARSED = Document(MISSING)
"""What :meth:`StreamChecker.feed` reads of a document judged elsewhere that did not parse: nothing."""


def judge(item: Item, policy: Policy | None = None) -> Judged:
    """The per-document verdict on one item, as :meth:`StreamChecker.feed` would reach it itself.

    >>> judge(Item(b'{"type": "Event"}')).issues[0].rule, judge(Item(b"[")).parsed
    ('schema.required', False)
    """
    policy = policy or DEFAULT
    document = _document(item, policy)
    return Judged(tuple(document_issues(document, policy)), document.parsed)


# --- reading a stream ------------------------------------------------------------------------------------


def from_lines(
    data: bytes | str | Iterable[bytes | Oversized] | BinaryIO,
    source: str | None = None,
    *,
    limits: Limits | None = None,
    start: int = 1,
    whole: bool = True,
) -> Iterator[Item]:
    """The documents of JSON Lines text, one a line (blank lines skipped); ``data`` may be an open binary
    file (standard input, a pipe), read a line at a time, each line no further than the size limit of
    ``limits``: a longer one is refused (``limit.size``) unread, and the lines after it are still read.
    Text with no document at all is one, refused (``json.empty``), unless ``whole`` is False (a part of a
    file, its first line numbered ``start``).

    >>> [item.line for item in from_lines(b'{"a": 1}\\n\\n{"b": 2}\\n', "x.jsonl")]
    [1, 3]
    """
    limits = limits or DEFAULT.limits
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    lines: Iterable[bytes | Oversized]
    if isinstance(data, bytes):
        lines = data.split(b"\n")
    elif hasattr(data, "readline"):  # a file: never a whole line in memory beyond the limit
        lines = read_lines(cast(BinaryIO, data), limits.max_bytes)
    else:
        lines = data
    read = False
    for number, raw in enumerate(lines, start=start):
        if isinstance(raw, Oversized):
            read = True
            yield Item(refused(raw, limits, number), source, number)
            continue
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        if line.strip():
            read = True
            yield Item(line, source, number)
    if not read and whole:  # an empty file of a stream is an error, as an empty .json file is
        yield Item(no_document(), source, 1)


def from_file(path: str | Path, *, limits: Limits | None = None) -> Iterator[Item]:
    """The documents of a file: each line of a ``.jsonl``/``.ndjson`` file (read a line at a time), else
    the file as one document (read when its turn comes); nothing is read past the size limit of
    ``limits``, whatever the file is (a device, a pipe). Raises :class:`OSError` when it cannot be read."""
    file = Path(path)
    if file.suffix.lower() in JSON_LINES_SUFFIXES:
        with file.open("rb") as lines:
            yield from from_lines(lines, str(path), limits=limits)
    else:
        yield Item(_read(file, limits or DEFAULT.limits), str(path))


def from_reader(stream: BinaryIO, source: str | None = None, *, lines: bool = False,
                limits: Limits | None = None) -> Iterator[Item]:  # fmt: skip
    """The documents of an open binary stream (standard input): JSON Lines with ``lines``, else one
    document; read no further than the size limit (of each line)."""
    if lines:
        yield from from_lines(stream, source, limits=limits)
        return
    limits = limits or DEFAULT.limits
    data = read_document(stream, limits.max_bytes)
    yield Item(refused(data, limits) if isinstance(data, Oversized) else data, source)


def _read(file: Path, limits: Limits) -> bytes | Document:
    """A file's bytes, or its refusal when it holds more than the size limit (not read past it)."""
    with file.open("rb") as stream:
        data = read_document(stream, limits.max_bytes)
    return refused(data, limits) if isinstance(data, Oversized) else data


def _document(item: Item, policy: Policy, *, checked: bool = False) -> Document:
    """The item as a parsed document; ``checked``: its text was validated already (the stream rules alone),
    so it is read fast, and strictly only when that fails (to say why)."""
    payload, limits = item.payload, policy.limits
    if isinstance(payload, Document):
        return payload
    if isinstance(payload, Path):
        read = _read(payload, limits)
        document = read if isinstance(read, Document) else parse(read, limits)
    elif isinstance(payload, bytes | bytearray | str):
        raw = bytes(payload) if isinstance(payload, bytearray) else payload
        if checked and len(raw) <= limits.max_bytes:
            try:
                text = raw if isinstance(raw, str) else raw.decode("utf-8")
                return Document(orjson.loads(raw), text, item.line or 1)
            except (orjson.JSONDecodeError, UnicodeDecodeError):
                pass  # the strict parser says what is wrong
        document = parse(raw, limits)
    else:
        return parse_value(dict(payload) if isinstance(payload, Mapping) else payload, limits)
    if item.line is None or item.line == 1:
        return document
    shift = item.line - 1  # parsed as a document of its own: its lines are counted from its first
    issues = tuple(
        replace(issue, line=issue.line + shift) if issue.line else issue for issue in document.issues
    )
    return Document(document.value, document.text, item.line, issues, document.serialised)


# --- what the stream rules read from an event --------------------------------------------------------------


def _epoch(value: Any) -> float | None:
    """POSIX seconds of an RFC 3339 date-time with an offset, or None."""
    return _epoch_of(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=1024)
def _epoch_of(text: str) -> float | None:
    # Cached: a heartbeat's eventTime is its endDate, and the next one's startDate.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _seconds(value: Any) -> float | None:
    """A time-spent value that can be counted: a number of seconds from 0 to 86400."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 86400:
        return float(value)
    return None


def run_of(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """The run an event belongs to: its actor's id and its ``runId`` (``extensions.runId``, else the
    ``session`` ``urn:uuid:<runId>`` the SDK sends), or None when it names no run.

    >>> run_of({"actor": {"id": "https://example.edu/u/1"}, "session": "urn:uuid:42"})
    ('https://example.edu/u/1', '42')
    """
    actor = event.get("actor")
    actor_id = actor.get("id") if isinstance(actor, dict) else actor
    extensions = event.get("extensions")
    run_id = extensions.get("runId") if isinstance(extensions, dict) else None
    if not isinstance(run_id, str):
        session = event.get("session")
        session = session.get("id") if isinstance(session, dict) else session
        run_id = session[9:] if isinstance(session, str) and session.startswith("urn:uuid:") else None
    return (actor_id, run_id) if isinstance(actor_id, str) and run_id else None


def _items(event: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    generated = event.get("generated")
    items = generated.get("items") if isinstance(generated, dict) else None
    return (
        [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )


class Window(NamedTuple):
    """A heartbeat's window in POSIX seconds, and the pointer of the value that gives its start."""

    start: float
    end: float
    pointer: str
    stated: bool


def window_of(event: Mapping[str, Any], pointer: str = "") -> tuple[Window | None, float]:
    """The window a heartbeat counts, and its active seconds. The window as its items state it
    (``startDate``..``endDate``), else as the SDK sends it (``eventTime`` is the end, the seconds its
    length); None when neither can be read.

    >>> window, active = window_of({"eventTime": "2025-01-01T00:00:15Z", "generated": {"items": [
    ...     {"type": "active", "value": 10}, {"type": "inactive", "value": 5}]}})
    >>> window[1:], active
    ((1735689615.0, '/eventTime', False), 10.0)
    """
    first = last = None
    length = active = 0.0
    for index, item in _items(event):
        seconds = _seconds(item.get("value"))
        if seconds is not None:
            length += seconds
            active += seconds if item.get("type") == "active" else 0.0
        start, end = _epoch(item.get("startDate")), _epoch(item.get("endDate"))
        if start is not None and end is not None and start <= end:
            if first is None or start < first[0]:
                first = (start, index)
            last = end if last is None else max(last, end)
    if first is not None and last is not None:
        return Window(first[0], last, f"{pointer}/generated/items/{first[1]}/startDate", True), active
    end = _epoch(event.get("eventTime"))
    return (None if end is None else Window(end - length, end, f"{pointer}/eventTime", False)), active


@functools.cache
def _event_types() -> tuple[frozenset[str], frozenset[str]]:
    catalogue = load()
    events = frozenset(name for name, uri in catalogue.types.items() if catalogue.kind(uri) == "event")
    return events, frozenset(catalogue.types)


def _is_event(value: Any) -> bool:
    """What :func:`~caliper_schema.validation.dispatching.dispatch` takes for an event: an object of an
    event type, or of no known type with an ``action``."""
    if not isinstance(value, dict):
        return False
    events, known = _event_types()
    type_ = value.get("type")
    return type_ in events if isinstance(type_, str) and type_ in known else "action" in value


def events_in(value: Any, max_items: int = 10_000) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, event) for each event of a document: the document itself, or the items of its envelope.

    >>> events_in({"sensor": "s", "data": [{"type": "Person", "id": "p"}, {"type": "ViewEvent"}]})
    [('/data/1', {'type': 'ViewEvent'})]
    """
    if not is_envelope(value):
        return [("", value)] if _is_event(value) else []
    data = value.get("data")
    items = data[:max_items] if isinstance(data, list) else []
    return [(f"/data/{index}", item) for index, item in enumerate(items) if _is_event(item)]


def _metric(items: list[tuple[int, dict[str, Any]]], name: str) -> tuple[int, float] | None:
    for index, item in items:
        value = item.get("value")
        if item.get("type") == name and isinstance(value, int | float) and not isinstance(value, bool):
            return (index, float(value)) if math.isfinite(value) else None
    return None


def _moment(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


# --- runs ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Completion:
    """What a run keeps of one of its ActivityEvents."""

    time: float | None
    at: Where
    """Its ``eventTime``."""
    pct: float | None = None
    pct_at: Where | None = None
    reported: bool = False


@dataclass(slots=True)
class Run:
    """What the stream rules keep of one open run (picklable: an ended run is set aside as it is)."""

    key: tuple[str, str]
    last: float = -math.inf
    """The latest ``eventTime`` of its events: when it ends."""
    stretches: list[list[Any]] = field(default_factory=list)
    """Counted time: disjoint ``[start, end, Where]`` sorted by start (contiguous windows merged)."""
    windows: dict[float, tuple[float, Where]] = field(default_factory=dict)
    """The latest windows: start → (end, the heartbeat)."""
    latest: tuple[float, Where] | None = None
    """The latest window end, and the heartbeat that has it."""
    heartbeats: int = 0
    active: float = 0.0
    xp: float = 0.0
    xp_at: Where | None = None
    completions: list[Completion] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)


Found = tuple[str, Where, str, str | None]
"""(rule id, where, message, hint)."""


def _overlapping(
    stretches: list[list[Any]], start: float, end: float
) -> tuple[int, int, float, Where | None]:
    """The slice of ``stretches`` that ``[start, end]`` touches or overlaps, its largest overlap, and the
    first heartbeat of the stretch that has it."""
    first = bisect.bisect_left(stretches, start, key=lambda stretch: stretch[1])
    last, most, whose = first, 0.0, None
    while last < len(stretches) and stretches[last][0] <= end:
        overlap = min(end, stretches[last][1]) - max(start, stretches[last][0])
        if overlap > most:
            most, whose = overlap, stretches[last][2]
        last += 1
    return first, last, most, whose


def _most_overlapped(run: Run, start: float, end: float) -> Where | None:
    """The heartbeat among the run's latest windows that ``[start, end]`` overlaps most."""
    most, whose = 0.0, None
    for other_start, (other_end, other) in run.windows.items():
        overlap = min(end, other_end) - max(start, other_start)
        if overlap > most:
            most, whose = overlap, other
    return whose


def _count(run: Run, window: Window, where: Where) -> Iterator[tuple[str, str, str]]:
    """Add a heartbeat's window (``where`` it starts) to its run: (rule, message, hint) if it is repeated,
    overlapping or too long."""
    start, end = window.start, window.end
    if end - start > LONGEST_WINDOW:
        message = f"this heartbeat's window spans {end - start:,.0f} s; the SDK sends one every {CADENCE:g} s"
        yield (
            "stream.window-too-long",
            message,
            "send a TimeSpentEvent for each 15 s; after 10 minutes hidden, end the run",
        )
    key, windows, stretches = round(start, 3), run.windows, run.stretches
    if key in windows:
        yield ("stream.window-repeated",
               f"repeats the window starting {_moment(start)} of the heartbeat at {windows[key][1].named()}",
               "send each window once: a retry must resend the same event, with its id")  # fmt: skip
    elif stretches and stretches[-1][1] - SLACK > start:  # not after all the run has counted: look
        overlap, whose = _overlapping(stretches, start, end)[2:]
        if overlap > SLACK and whose is not None:
            whose = _most_overlapped(run, start, end) or whose
            yield ("stream.window-overlap",
                   f"this window overlaps by {overlap:,.3g} s the time the run's heartbeat at {whose.named()}"
                   " already counts: time counted twice",
                   "start each window where the run's previous one ended")  # fmt: skip
    if len(windows) >= KEPT_WINDOWS:
        del windows[next(iter(windows))]
    windows.setdefault(key, (end, where))
    _merge(stretches, start, end, where)


def _merge(stretches: list[list[Any]], start: float, end: float, where: Where) -> None:
    """Add ``[start, end]`` to the counted time: the common case (after all of it) at once."""
    if not stretches or stretches[-1][1] < start:
        stretches.append([start, end, where])
    elif stretches[-1][0] <= start:
        stretches[-1][1] = max(stretches[-1][1], end)
    else:
        first, last = _overlapping(stretches, start, end)[:2]
        touched = stretches[first:last]
        if touched:  # disjoint and sorted: the first starts earliest, the last ends latest
            where = touched[0][2] if touched[0][0] <= start else where
            start, end = min(start, touched[0][0]), max(end, touched[-1][1])
        stretches[first:last] = [[start, end, where]]
    if len(stretches) > KEPT_STRETCHES:
        del stretches[0]


class StreamChecker:
    """The stream rules over documents fed one at a time, with the per-document pipeline if asked.

    ``documents=False`` runs the stream rules alone (on documents already validated, as the service's);
    ``across=False`` the pipeline alone. ``coverage`` counts what the documents cover and what the
    findings break. :meth:`feed` returns the findings of a document as soon as they are known;
    :meth:`finish` those only the end of the stream tells (XP of the runs still open, duplicate ids found
    on disk).
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        documents: bool = True,
        across: bool = True,
        coverage: Coverage | None = None,
    ) -> None:
        self.policy = policy or DEFAULT
        self.check_documents = documents
        self.across = across
        self.coverage = coverage
        self.documents = 0
        self.events = 0
        self.runs = 0
        """Runs seen (an ended run the stream comes back to counts once)."""
        self.most_open = 0
        """The most runs open at once: what the memory of the stream rules grows with."""
        self.clock = -math.inf
        """Stream time: the latest eventTime seen."""
        self.open: dict[tuple[str, str], Run] = {}
        self._memory = _Memory()
        self._found: list[Found] = []

    # -- feeding -------------------------------------------------------------------------------------------

    def feed(self, item: Item | Payload, *, judged: Judged | None = None) -> list[Finding]:
        """Check the next document of the stream; its findings, and any an event of it lets conclude.

        ``judged``: the document's own verdict, reached elsewhere (:func:`judge`, in a worker process); the
        document is then read here for the stream rules alone, and only when it parsed.
        """
        item = item if isinstance(item, Item) else Item(item)
        index = self.documents
        self.documents += 1
        if judged is not None:
            document = _document(item, self.policy, checked=True) if judged.parsed else _UNPARSED
            issues = list(judged.issues)
        else:
            document = _document(item, self.policy, checked=not self.check_documents)
            if self.check_documents:
                issues = document_issues(document, self.policy)  # weighed by the policy already
            else:
                issues = self.policy.judge(document.issues)
        return self._fed(item, index, document, issues)

    def _fed(self, item: Item, index: int, document: Document, issues: list[Issue]) -> list[Finding]:
        findings: list[Finding] = []
        if issues:
            findings = [Finding(issue, item.source, index) for issue in issues]
            if self.coverage is not None:
                self.coverage.count(issues)
        if not document.parsed:
            if self.coverage is not None:
                self.coverage.add(parsed=False)
            return findings
        max_items = self.policy.limits.max_items
        if self.coverage is not None:
            units = dispatch(document.value, max_items=max_items)[0]
            self.coverage.add(units=units)
            events = [(unit.pointer, unit.value) for unit in units if unit.kind == "event"]
        else:
            events = events_in(document.value, max_items)
        if self.across:
            for pointer, event in events:
                if isinstance(event, dict):
                    self._event(event, _Here(document, item.source, index, pointer))
        return findings + self._flush() if self._found else findings

    def finish(self) -> list[Finding]:
        """End the stream: every open run ends, and the duplicates found on disk are reported."""
        for key in list(self.open):
            self._end(self.open.pop(key), keep=False)
        for later, first in self._memory.late_duplicates():
            self._duplicate(later, first)
        self._memory.close()
        return self._flush()

    def _flush(self) -> list[Finding]:
        findings = []
        for rule_id, where, message, hint in self._found:
            rule = RULES[rule_id]
            issue = Issue(where.pointer, rule_id, rule.severity, message, hint, where.line, where.column)
            findings += [
                Finding(judged, where.source, where.document) for judged in self.policy.judge([issue])
            ]
        self._found.clear()
        if self.coverage is not None:
            self.coverage.count(finding.issue for finding in findings)
        return findings

    # -- one event -------------------------------------------------------------------------------------------

    def _event(self, event: dict[str, Any], here: _Here) -> None:
        self.events += 1
        if self.events % CLOSE_EVERY == 0:
            self._end_idle()
        event_id = event.get("id")
        if isinstance(event_id, str):
            first = self._memory.remember(event_id, here.cheap("/id"))
            if first is not None and first.document != here.index:
                timeback = event.get("type") in ("TimeSpentEvent", "ActivityEvent")
                self._duplicate(here.at("/id"), first, timeback)
                return  # the same event sent again: its time and XP are that event's, counted already
        type_ = event.get("type")
        key = run_of(event) if type_ in ("TimeSpentEvent", "ActivityEvent") else None
        if key is None:
            return
        run = self._run(key)
        time = _epoch(event.get("eventTime"))
        if time is not None:
            run.last = max(run.last, time)
            self.clock = max(self.clock, time)
        if type_ == "TimeSpentEvent":
            self._heartbeat(run, event, here)
        else:
            self._completion(run, event, time, here)

    def _duplicate(self, later: Where, first: Where, timeback: bool = False) -> None:
        # Timeback words only where the event is Timeback's (a generic stream goes to any receiver).
        why = (
            "the Timeback service keys stored events by it"
            if timeback
            else "a receiver takes it for the same event"
        )
        hint = f"give every event its own urn:uuid: id: {why}"
        self._found.append(
            ("stream.duplicate-id", later, f"repeats the id of the event at {first.named()}", hint)
        )

    def _run(self, key: tuple[str, str]) -> Run:
        run = self.open.get(key)
        if run is None:
            run = self._memory.take_run(key)
            if run is None:
                run = Run(key)
                self.runs += 1
            self.open[key] = run
            self.most_open = max(self.most_open, len(self.open))
        return run

    def _report(self, found: Found) -> None:
        self._found.append(found)

    def _heartbeat(self, run: Run, event: dict[str, Any], here: _Here) -> None:
        run.heartbeats += 1
        window, active = window_of(event)
        run.active += active
        if window is None:
            return
        where = here.cheap(window.pointer)
        for rule_id, message, hint in _count(run, window, where):
            self._report((rule_id, here.at(window.pointer), message, hint))
        if run.latest is None or window.end > run.latest[0]:
            run.latest = (window.end, where)
        for completion in run.completions:
            self._too_early(run, completion)

    def _completion(self, run: Run, event: dict[str, Any], time: float | None, here: _Here) -> None:
        items = _items(event)
        xp = _metric(items, "xpEarned")
        if xp is not None:
            run.xp += xp[1]
            run.xp_at = here.kept(f"/generated/items/{xp[0]}/value")
        completion = Completion(time, here.kept("/eventTime"))
        generated = event.get("generated")
        extensions = generated.get("extensions") if isinstance(generated, dict) else None
        pct = extensions.get("pctCompleteApp") if isinstance(extensions, dict) else None
        if isinstance(pct, int | float) and not isinstance(pct, bool) and 0 <= pct <= 100:
            completion.pct, completion.pct_at = float(pct), here.kept("/generated/extensions/pctCompleteApp")
            self._progress(run, completion)
        if len(run.completions) >= KEPT_COMPLETIONS:
            del run.completions[0]
        run.completions.append(completion)
        self._too_early(run, completion)

    def _too_early(self, run: Run, completion: Completion) -> None:
        """``stream.completion-before-time``, once a run: the SDK sends the completion when the run ends."""
        latest, time = run.latest, completion.time
        if latest is None or time is None or latest[0] <= time + CADENCE or "early" in run.reported:
            return
        run.reported.add("early")
        self._report(("stream.completion-before-time", completion.at,
                      f"the run's heartbeat at {latest[1].named()} counts time until {_moment(latest[0])},"
                      f" {latest[0] - time:,.0f} s after this completion",
                      "send the ActivityEvent when the run ends, after its last TimeSpentEvent"))  # fmt: skip

    def _progress(self, run: Run, new: Completion) -> None:
        """``stream.progress-backwards``: masteredUnits are increments the service sums into pctCompleteApp,
        so the completion of the course cannot fall within a run."""
        for old in run.completions:
            if old.pct is None or old.time is None or new.time is None or new.pct is None:
                continue
            earlier, later = (old, new) if old.time <= new.time else (new, old)
            assert earlier.pct is not None and later.pct is not None
            if later.pct < earlier.pct and not later.reported and later.pct_at is not None:
                later.reported = True
                self._report(("stream.progress-backwards", later.pct_at,
                              f"course completion falls from {earlier.pct:g}% (at {earlier.at.named()}) to"
                              f" {later.pct:g}% within one run",
                              "pctCompleteApp is the course's completion so far; masteredUnits counts only"
                              " the units newly mastered, which the service adds up"))  # fmt: skip

    # -- ending runs -----------------------------------------------------------------------------------------

    def _end_idle(self) -> None:
        horizon = self.clock - ENDED
        for key in [key for key, run in self.open.items() if run.last < horizon]:
            self._end(self.open.pop(key), keep=True)

    def _end(self, run: Run, *, keep: bool) -> None:
        """A run has ended: its XP against its time, then set aside in case the stream comes back to it."""
        minutes = run.active / 60
        allowed = minutes * (1 + self.policy.xp_tolerance) + 1
        if run.heartbeats and run.xp_at is not None and run.xp > allowed and "xp" not in run.reported:
            run.reported.add("xp")
            self._report(("stream.xp-beyond-time", run.xp_at,
                          f"the run earns {run.xp:g} XP but its heartbeats count {minutes:,.1f} active"
                          f" minutes (at most {allowed:,.1f} XP with the tolerance)",
                          "1 XP = 1 focused minute: award at most the run's active minutes"))  # fmt: skip
        if keep:
            self._memory.set_aside(run)


class _Here:
    """The event being checked: where its values are, located in its document only when reported."""

    __slots__ = ("document", "index", "pointer", "source")

    def __init__(self, document: Document, source: str | None, index: int, pointer: str) -> None:
        self.document, self.source, self.index, self.pointer = document, source, index, pointer

    def cheap(self, suffix: str) -> Where:
        """A place to name in another finding's message: the document's line, not the value's."""
        line = self.document.first_line if self.document.text is not None else None
        return Where(self.source, self.index, self.pointer + suffix, line)

    def kept(self, suffix: str) -> Where:
        """A place a finding may point at later, once the document is gone: located now in a document
        written on several lines, else (a line of JSON Lines) its line, found without reading it."""
        text = self.document.text
        return self.at(suffix) if text is not None and "\n" in text.strip() else self.cheap(suffix)

    def at(self, suffix: str) -> Where:
        """The place of a value of this event, with its line and column."""
        pointer = self.pointer + suffix
        found = self.document.locate(pointer)
        return Where(self.source, self.index, pointer, *(found or (None, None)))


# --- what the stream remembers beyond its open runs ------------------------------------------------------


Row = tuple[str, int, int, str | None, int | None, str]


def _row(event_id: str, seq: int, where: Where) -> Row:
    return event_id, seq, where.document, where.source, where.line, where.pointer


class _Memory:
    """Every event id seen and the runs that ended: in memory up to a bound, then in a temporary SQLite
    database (stdlib ``sqlite3``: exact, on disk, and deleted when closed)."""

    def __init__(self) -> None:
        self.ids: dict[str, Where] = {}
        self.ended: dict[tuple[str, str], Run] = {}
        self._db: sqlite3.Connection | None = None
        self._spilled_ids = False
        self._pending: list[Row] = []
        self._seq = itertools.count()

    def _database(self) -> sqlite3.Connection:
        if self._db is None:
            # An empty name: a private temporary database, on disk, removed when closed.
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute("PRAGMA cache_size = -4096")  # KiB: bounded, whatever the stream
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("CREATE TABLE ids (key TEXT, seq INTEGER, document INTEGER, source TEXT,"
                             " line INTEGER, pointer TEXT)")  # fmt: skip
            self._db.execute("CREATE TABLE runs (key BLOB PRIMARY KEY, run BLOB) WITHOUT ROWID")
        return self._db

    def remember(self, event_id: str, where: Where) -> Where | None:
        """Note an id; the place of its first use if it was seen before (and is still in memory)."""
        if not self._spilled_ids:
            first = self.ids.get(event_id)
            if first is not None:
                return first
            self.ids[event_id] = where
            if len(self.ids) >= SPILL_IDS:
                self._spill_ids()
            return None
        self._pending.append(_row(event_id, next(self._seq), where))
        if len(self._pending) >= 10_000:
            self._write_ids()
        return None

    def _spill_ids(self) -> None:
        self._spilled_ids = True
        self._pending = [_row(event_id, next(self._seq), where) for event_id, where in self.ids.items()]
        self.ids = {}
        self._write_ids()

    def _write_ids(self) -> None:
        db = self._database()
        db.execute("BEGIN")
        db.executemany("INSERT INTO ids VALUES (?, ?, ?, ?, ?, ?)", self._pending)
        db.execute("COMMIT")
        self._pending.clear()

    def late_duplicates(self) -> Iterator[tuple[Where, Where]]:
        """(a later use, the first use) of each id used again once the ids were on disk."""
        if not self._spilled_ids:
            return
        self._write_ids()
        db = self._database()
        keys = db.execute("SELECT key FROM ids GROUP BY key HAVING count(*) > 1").fetchall()
        for (key,) in keys:
            rows = db.execute(
                "SELECT document, source, line, pointer FROM ids WHERE key = ? ORDER BY seq", (key,)
            ).fetchall()
            first = Where(rows[0][1], rows[0][0], rows[0][3], rows[0][2])
            for document, source, line, pointer in rows[1:]:
                if document != first.document:
                    yield Where(source, document, pointer, line), first

    def set_aside(self, run: Run) -> None:
        """Keep an ended run, in case the stream comes back to it: what its later checks need (a window
        repeated after it ended still overlaps its stretches)."""
        run.windows.clear()
        self.ended[run.key] = run
        if len(self.ended) > SPILL_RUNS:
            oldest = self.ended.pop(next(iter(self.ended)))
            self._database().execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?)", (pickle.dumps(oldest.key), pickle.dumps(oldest))
            )

    def take_run(self, key: tuple[str, str]) -> Run | None:
        """An ended run the stream comes back to, or None."""
        run = self.ended.pop(key, None)
        if run is not None or self._db is None:
            return run
        stored = pickle.dumps(key)
        row = self._db.execute("SELECT run FROM runs WHERE key = ?", (stored,)).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM runs WHERE key = ?", (stored,))
        taken: Run = pickle.loads(row[0])  # written by this object, from its own runs
        return taken

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


# --- the report ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamReport:
    """The verdict on a stream: its findings (each document's issues and those across documents, at most
    :data:`MAX_FINDINGS` kept, in stream order), counts, and the coverage statistics when asked."""

    findings: tuple[Finding, ...] = ()
    errors: int = 0
    """Errors found, those not kept included."""
    warnings: int = 0
    documents: int = 0
    events: int = 0
    runs: int = 0
    statistics: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the stream has no error."""
        return not self.errors

    @property
    def status(self) -> str:
        """``"success"`` or ``"error"``."""
        return "success" if self.ok else "error"

    @property
    def message(self) -> str:
        """A one-line summary."""
        seen = ", ".join(
            [counted(self.documents, "document"), counted(self.events, "event"), counted(self.runs, "run")]
        )
        found = f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        return f"The stream is {'valid' if self.ok else 'invalid'} ({seen}): {found}."

    def by_severity(self, severity: Severity) -> list[Finding]:
        """The findings kept of one severity."""
        return [finding for finding in self.findings if finding.issue.severity == severity]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: status, message, counts, findings (and ``statistics`` when asked)."""
        out: dict[str, Any] = {
            "status": self.status, "message": self.message, "documents": self.documents,
            "events": self.events, "runs": self.runs,
            "findings": [finding.to_dict() for finding in self.findings],
        }  # fmt: skip
        if self.statistics is not None:
            out["statistics"] = self.statistics
        return out


def check_stream(
    documents: Iterable[Item | Payload],
    *,
    policy: Policy | None = None,
    per_document: bool = True,
    across: bool = True,
    coverage: Coverage | None = None,
    checker: StreamChecker | None = None,
) -> Iterator[Finding]:
    """The findings of a stream, as they are found (a document's own, then any it lets conclude; at the end,
    those only the end tells). Memory is bounded by the runs open at once.

    >>> example = Path("examples/valid/timeback-activity-event.json")
    >>> [f.issue.rule for f in check_stream([example, example], per_document=False)]
    ['stream.duplicate-id']
    """
    checker = checker or StreamChecker(policy, documents=per_document, across=across, coverage=coverage)
    for item in documents:
        yield from checker.feed(item)
    yield from checker.finish()


def validate_stream(
    documents: Iterable[Item | Payload],
    *,
    policy: Policy | None = None,
    strict: bool = False,
    statistics: bool = False,
    per_document: bool = True,
) -> StreamReport:
    """Validate the documents of one invocation as one app's stream: each document with the whole pipeline,
    and all of them with the stream rules (``stream.*``).

    ``documents`` are payloads (bytes, text, parsed values, paths) or :class:`Item` with a source name and
    line, as :func:`from_file` and :func:`from_lines` read them; ``strict`` makes every warning an error;
    ``statistics`` adds the coverage statistics (:mod:`~caliper_schema.validation.statistics`);
    ``per_document=False`` runs the stream rules alone.
    """
    policy = policy or DEFAULT
    if strict and not policy.strict:
        policy = replace(policy, strict=True)
    coverage = Coverage(policy.subjects) if statistics else None
    checker = StreamChecker(policy, documents=per_document, coverage=coverage)
    kept: list[Finding] = []
    errors = warnings = dropped = dropped_errors = 0
    for finding in check_stream(documents, checker=checker):
        error = finding.issue.severity == "error"
        errors += error
        warnings += not error
        if len(kept) < MAX_FINDINGS:
            kept.append(finding)
        else:
            dropped += 1
            dropped_errors += error
    kept.sort(key=lambda finding: (finding.document, finding.issue.line or 0, finding.issue.column or 0))
    if dropped:
        severity: Severity = "error" if dropped_errors else "warning"
        closing = Issue(
            "", "limit.issues", severity, f"{dropped:,} more issues not shown", hint="fix these first"
        )
        kept.append(Finding(closing, None, checker.documents))
    return StreamReport(
        tuple(kept), errors, warnings, checker.documents, checker.events, checker.runs,
        coverage.to_dict() if coverage is not None else None,
    )  # fmt: skip
