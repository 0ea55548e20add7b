"""Coverage statistics: what a set of payloads exercises of Caliper and Timeback, and what it breaks.

A :class:`Coverage` counts, over the documents it is shown, the event types and their actions, the
profiles, the Timeback subjects and metric types, and the issues by rule; :meth:`Coverage.to_dict` is plain
data (the ``"statistics"`` object of JSON output), with what the payloads leave out of the Timeback profile
and of Caliper's event types, and :func:`render_table` lays that data out as text for people. A team uses it
to see which parts of the profile its fixtures, or its app's output, exercise. :func:`check_file` and
:func:`check_reader` validate as :func:`~caliper_schema.validation.pipeline.validate_file` does (the same
report) while counting into a Coverage every document and every issue, those the report's cap hides too.

Values read from payloads are counted as they are (a misspelt type is its own row, which is the point), but
at most :data:`MAX_VALUES` distinct ones per table: a hostile stream cannot grow it without bound, and the
rest are counted together. The text table escapes whatever a payload could use to forge lines or
terminal sequences.

>>> coverage = Coverage()
>>> coverage.add({"type": "ViewEvent", "action": "Viewed", "profile": "ReadingProfile"})
>>> coverage.to_dict()["actions"]
{'ViewEvent': {'Viewed': 1}}
>>> render_table(coverage.to_dict()).splitlines()[0]
'documents: 1 (0 envelopes, 1 event, 0 entities, 0 unreadable)'
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.registry import BASE_URI, load
from caliper_schema.reporting import Cap, Issue, Report, counted
from caliper_schema.validation.dispatching import Unit, dispatch
from caliper_schema.validation.parsing import Document, parse, parse_lines, refused
from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES, check_document
from caliper_schema.validation.reading import Oversized, read_document, read_lines

MAX_VALUES = 1000
"""Distinct values kept per table; more are counted under :data:`OTHER`."""
OTHER = "(other values)"
NONE = "(none)"
_TIMEBACK = ("ActivityEvent", "TimeSpentEvent")
_MISSING = (("timebackEventTypes", "Timeback event types"), ("subjects", "subjects in force"),
            ("metricTypes", "Timeback metric types"), ("eventTypes", "Caliper event types"))  # fmt: skip
_SECTIONS = (("eventTypes", "event types"), ("actions", "actions"), ("profiles", "profiles"),
             ("subjects", "Timeback subjects"), ("metricTypes", "Timeback metric types"))  # fmt: skip


class _Tally:
    """A counter that keeps at most ``limit`` distinct keys (None: all)."""

    __slots__ = ("counts", "limit")

    def __init__(self, limit: int | None) -> None:
        self.counts: Counter[str] = Counter()
        self.limit = limit

    def add(self, key: str, n: int = 1) -> None:
        if key in self.counts or self.limit is None or len(self.counts) < self.limit:
            self.counts[key] += n
        else:
            self.counts[OTHER] += n

    def absorb(self, part: _Tally) -> None:
        # In the order each key was first seen: a key is kept when it is first seen, or never.
        for key, n in part.counts.items():
            self.add(key, n)

    def to_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0])))


class Coverage:
    """Counts what the documents shown to it cover, and the issues found in them.

    ``subjects`` is the Timeback subject list in force (the policy's), against which subjects are missing.
    Each table keeps :data:`MAX_VALUES` distinct values; ``bounded=False`` keeps them all, for a part of
    the documents (a chunk of a file, checked in another process) that a bounded Coverage then
    :meth:`absorbs <absorb>`.
    """

    def __init__(self, subjects: str = "v9", *, bounded: bool = True) -> None:
        max_values = MAX_VALUES if bounded else None
        self.subjects, self.max_values = subjects, max_values
        self.documents: Counter[str] = Counter()
        self.types = _Tally(max_values)
        self.actions: dict[str, _Tally] = {}
        self.profiles = _Tally(max_values)
        self.subject_values = _Tally(max_values)
        self.metrics = _Tally(max_values)
        self.rules: dict[str, Counter[str]] = {}

    def add(self, value: Any = None, *, units: Iterable[Unit] | None = None, parsed: bool = True) -> None:
        """Count one document: its parsed ``value``, or its dispatched ``units`` when the caller has them
        already; ``parsed=False``: a document that could not be read."""
        self.documents["total"] += 1
        if not parsed:
            self.documents["unreadable"] += 1
            return
        for unit in units if units is not None else dispatch(value)[0]:
            if unit.kind in ("envelope", "event", "entity"):
                self.documents[unit.kind] += 1
            if unit.kind == "event" and isinstance(unit.value, dict):
                self._event(unit.value)

    def _event(self, event: dict[str, Any]) -> None:
        type_ = _text(event.get("type"))
        self.types.add(type_)
        actions = self._actions_of(type_)
        if actions is not None:
            actions.add(_text(event.get("action")))
        self.profiles.add(_text(event.get("profile")))
        if type_ in _TIMEBACK:
            context = event.get("object")
            if isinstance(context, dict) and "subject" in context:
                self.subject_values.add(_text(context["subject"]))
            generated = event.get("generated")
            items = generated.get("items") if isinstance(generated, dict) else None
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and "type" in item:
                    self.metrics.add(_text(item["type"]))

    def _actions_of(self, type_: str) -> _Tally | None:
        """The tally of a type's actions; None past the bound on types."""
        if type_ in self.actions or self.max_values is None or len(self.actions) < self.max_values:
            return self.actions.setdefault(type_, _Tally(self.max_values))
        return None

    def absorb(self, part: Coverage) -> None:
        """Add what ``part`` (``bounded=False``) counted over documents that follow those
        counted here: the counts are those this Coverage would have made of them itself.

        >>> whole, first, second = Coverage(), Coverage(), Coverage(bounded=False)
        >>> for n, event in enumerate([{"type": "ViewEvent", "action": "Viewed"}] * 3):
        ...     whole.add(event)
        ...     (first if n == 0 else second).add(event)
        >>> first.absorb(second)
        >>> first.to_dict() == whole.to_dict()
        True
        """
        self.documents.update(part.documents)
        pairs = [(self.types, part.types), (self.profiles, part.profiles),
                 (self.subject_values, part.subject_values), (self.metrics, part.metrics)]  # fmt: skip
        for mine, theirs in pairs:
            mine.absorb(theirs)
        for type_, tally in part.actions.items():
            actions = self._actions_of(type_)
            if actions is not None:
                actions.absorb(tally)
        for rule, counts in part.rules.items():
            self.rules.setdefault(rule, Counter()).update(counts)

    def count(self, issues: Iterable[Issue]) -> None:
        """Count issues (as the policy weighed them) by rule and severity."""
        for issue in issues:
            self.rules.setdefault(issue.rule, Counter())[issue.severity] += 1

    def to_dict(self) -> dict[str, Any]:
        """The statistics as plain data: counts by value, most frequent first, and what is left out."""
        ranked = sorted(self.rules.items(), key=lambda pair: (-sum(pair[1].values()), pair[0]))
        documents = self.documents
        return {
            "documents": {
                "total": documents["total"], "envelopes": documents["envelope"], "events": documents["event"],
                "entities": documents["entity"], "unreadable": documents["unreadable"],
            },
            "eventTypes": self.types.to_dict(),
            "actions": {type_: tally.to_dict() for type_, tally in sorted(self.actions.items())},
            "profiles": self.profiles.to_dict(),
            "subjects": self.subject_values.to_dict(),
            "metricTypes": self.metrics.to_dict(),
            "issues": {rule: {"errors": n["error"], "warnings": n["warning"]} for rule, n in ranked},
            "missing": {
                "timebackEventTypes": _unseen(_TIMEBACK, self.types),
                "subjects": _unseen(_subject_list(self.subjects), self.subject_values),
                "metricTypes": _unseen(_metric_types(), self.metrics),
                "eventTypes": _unseen(_event_types(), self.types),
            },
        }  # fmt: skip


# --- validating while counting ------------------------------------------------------------------------


@dataclass
class _CountingCap(Cap):
    """A report's cap that counts every issue it is given by rule, kept or not."""

    coverage: Coverage = field(default_factory=Coverage)

    def add(self, issue: Issue, item: Hashable = None) -> None:
        self.coverage.count((issue,))
        super().add(issue, item)


def _documents(stream: BinaryIO, lines: bool, policy: Policy) -> Iterator[Document]:
    limits = policy.limits
    if lines:
        yield from parse_lines(read_lines(stream, limits.max_bytes), limits)
        return
    data = read_document(stream, limits.max_bytes)
    yield refused(data, limits) if isinstance(data, Oversized) else parse(data, limits)


def check_documents(
    documents: Iterable[Document],
    policy: Policy,
    coverage: Coverage | None = None,
    *,
    limit: int | None = None,
) -> tuple[Cap, int]:
    """Every document checked into one cap, as a report of them all is made, each document and issue
    counted into ``coverage`` if given: the cap (its last document closed) and how many documents.
    ``limit``: the cap's, when not the policy's ``max_issues``."""
    limit = policy.limits.max_issues if limit is None else limit
    cap = Cap(limit) if coverage is None else _CountingCap(limit, coverage=coverage)
    count = 0
    for document in documents:
        count += 1
        check_document(document, policy, cap)
        cap.next_document()
        if coverage is None:
            continue
        if document.parsed:
            coverage.add(units=dispatch(document.value, max_items=policy.limits.max_items)[0])
        else:
            coverage.add(parsed=False)
    return cap, count


def check_reader(
    stream: BinaryIO, coverage: Coverage, *, lines: bool = False, policy: Policy | None = None
) -> Report:
    """The report :func:`~caliper_schema.validation.pipeline.validate_reader` gives on ``stream``, with its
    documents and every issue (those beyond the report's cap too) counted into ``coverage``.

    >>> import io
    >>> coverage = Coverage()
    >>> check_reader(io.BytesIO(b'{"type": "Event"}'), coverage).status, coverage.to_dict()["eventTypes"]
    ('error', {'Event': 1})
    """
    policy = policy or DEFAULT
    cap, count = check_documents(_documents(stream, lines, policy), policy, coverage)
    return cap.report(documents=count)


def check_file(path: str | os.PathLike[str], coverage: Coverage, *, policy: Policy | None = None) -> Report:
    """:func:`check_reader` on a file: a ``.jsonl``/``.ndjson`` file a line at a time, else one document."""
    file = Path(path)
    with file.open("rb") as stream:
        return check_reader(stream, coverage, lines=file.suffix.lower() in JSON_LINES_SUFFIXES, policy=policy)


def _unseen(names: Iterable[str], tally: _Tally) -> list[str]:
    return [name for name in names if name not in tally.counts]


def _text(value: Any) -> str:
    if value is None:
        return NONE
    return value if isinstance(value, str) else repr(value)[:80]


@functools.cache
def _subject_list(subjects: str) -> tuple[str, ...]:
    lints = load().schemas[BASE_URI + "timeback/subject.json"].get("x-lint", [])
    lists: dict[str, list[str]] = next(
        (entry["lists"] for entry in lints if entry.get("rule") == "timeback.subject"), {}
    )
    return tuple(lists.get(subjects, ()))


@functools.cache
def _metric_types() -> tuple[str, ...]:
    names: list[str] = []
    for schema in ("timeback/activity-metric.json", "timeback/time-spent-metric.json"):
        names += load().schemas[BASE_URI + schema]["properties"]["type"]["enum"]
    return tuple(names)


@functools.cache
def _event_types() -> tuple[str, ...]:
    """Caliper's event types: the Timeback ones are counted on their own line."""
    catalogue = load()
    events = (name for name, uri in catalogue.types.items() if catalogue.kind(uri) == "event")
    return tuple(sorted(name for name in events if name not in _TIMEBACK))


# --- the text table --------------------------------------------------------------------------------------


def shown(text: str, width: int = 60) -> str:
    """``text`` safe on a terminal line: control, format and separator characters escaped, cut at ``width``.

    >>> shown("Viewed\\n\\x1b[2J")
    'Viewed\\\\n\\\\x1b[2J'
    """
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char == "\\" or (category[0] in "CZ" and char != " "):
            out.append(char.encode("unicode_escape").decode("ascii") if char != "\\" else "\\\\")
        else:
            out.append(char)
    joined = "".join(out)
    return joined if len(joined) <= width else joined[: width - 1] + "…"


def _rows(title: str, counts: Mapping[str, int], indent: str = "  ") -> list[str]:
    if not counts:
        return [f"{title}: none"]
    names = [shown(name) for name in counts]
    width = max(len(name) for name in names)
    digits = max(len(f"{count:,}") for count in counts.values())
    pairs = zip(names, counts.values(), strict=True)
    return [f"{title}:"] + [f"{indent}{name.ljust(width)}  {count:>{digits},}" for name, count in pairs]


def render_table(statistics: Mapping[str, Any]) -> str:
    """The statistics of :meth:`Coverage.to_dict` as a plain text table, one section a dimension."""
    documents = statistics["documents"]
    entities = documents["entities"]
    lines = [
        f"documents: {documents['total']:,} ({counted(documents['envelopes'], 'envelope')}, "
        f"{counted(documents['events'], 'event')}, {entities:,} entit{'y' if entities == 1 else 'ies'}, "
        f"{documents['unreadable']:,} unreadable)"
    ]
    for key, title in _SECTIONS:
        if key == "actions":
            pairs = {f"{type_} {action}": count for type_, actions in statistics["actions"].items()
                     for action, count in actions.items()}  # fmt: skip
            lines += _rows(title, pairs)
        else:
            lines += _rows(title, statistics[key])
    issues = statistics["issues"]
    if issues:
        names = [shown(rule) for rule in issues]
        width = max(len(name) for name in names)
        lines.append("issues by rule (errors, warnings):")
        lines += [f"  {name.ljust(width)}  {counts['errors']:>7,}  {counts['warnings']:>7,}"
                  for name, counts in zip(names, issues.values(), strict=True)]  # fmt: skip
    else:
        lines.append("issues by rule: none")
    for key, title in _MISSING:
        missing = statistics["missing"][key]
        lines.append(f"not covered, {title}: {', '.join(missing) if missing else 'none'}")
    return "\n".join(lines)
