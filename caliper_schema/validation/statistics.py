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
    """A counter that keeps at most :data:`MAX_VALUES` distinct keys."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        if key in self.counts or len(self.counts) < MAX_VALUES:
            self.counts[key] += 1
        else:
            self.counts[OTHER] += 1

    def to_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0])))


class Coverage:
    """Counts what the documents shown to it cover, and the issues found in them.

    ``subjects`` is the Timeback subject list in force (the policy's), against which subjects are missing.
    """

    def __init__(self, subjects: str = "v9") -> None:
        self.subjects = subjects
        self.documents: Counter[str] = Counter()
        self.types = _Tally()
        self.actions: dict[str, _Tally] = {}
        self.profiles = _Tally()
        self.subject_values = _Tally()
        self.metrics = _Tally()
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
        if type_ in self.actions or len(self.actions) < MAX_VALUES:
            self.actions.setdefault(type_, _Tally()).add(_text(event.get("action")))
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
    cap = _CountingCap(policy.limits.max_issues, coverage=coverage)
    count = 0
    for document in _documents(stream, lines, policy):
        count += 1
        check_document(document, policy, cap)
        cap.next_document()
        if document.parsed:
            coverage.add(units=dispatch(document.value, max_items=policy.limits.max_items)[0])
        else:
            coverage.add(parsed=False)
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
    catalogue = load()
    return tuple(sorted(name for name, uri in catalogue.types.items() if catalogue.kind(uri) == "event"))


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
