"""Issues and reports: what the validator says about a payload.

An :class:`Issue` is data, in the manner of jsonschema's errors: a JSON Pointer into the payload, a stable
rule id, a severity, a message, and where it helps a hint and a line and column. A :class:`Report` gathers
the issues of one payload (or one file) and answers the question a sender asks: will it be accepted?

>>> report = Report.from_issues([Issue("/sendTime", "schema.format", "error", "is not a date-time")])
>>> report.status, len(report.errors)
('error', 1)
>>> report.to_response()["status"]
'error'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning"]
NOTICE = "limit.issues"
"""The rule of the closing issue that counts what a capped report does not show."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def unicode_safe(text: str) -> str:
    r"""``text`` with each lone UTF-16 surrogate (``\ud800``-``\udfff``, which no UTF-8 can carry) written
    as a visible ``\udXXX`` escape, so that any JSON encoder and any UTF-8 stream take it.

    >>> unicode_safe("/\ud800key")
    '/\\ud800key'
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(lambda match: _escape(match.group()), text)
    return text


# What could forge a line or drive a terminal when printed raw: C0 and C1 controls (newlines, ESC), the
# Unicode line and paragraph separators, the bidirectional overrides that reorder what is shown, and lone
# surrogates (which no UTF-8 output can carry).
_HIDDEN = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F),
           *range(0x2066, 0x206A), *range(0xD800, 0xE000)]  # fmt: skip
_VISIBLE = str.maketrans({code: _escape(chr(code)) for code in _HIDDEN})


def printable(text: str) -> str:
    r"""``text`` as one line that a terminal shows as written: control characters, newlines, escape
    sequences, bidirectional overrides and lone surrogates become visible escapes (``\n``, ``\x1b``).

    >>> printable("/a\n::error file=x::b\x1b[31m")
    '/a\\n::error file=x::b\\x1b[31m'
    """
    return text if text.isprintable() else text.translate(_VISIBLE)


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a payload.

    ``pointer`` is an RFC 6901 JSON Pointer to the offending value (or to where a missing property
    belongs); ``rule`` is a stable id such as ``schema.required`` or ``timeback.xp-earned-missing``.

    >>> Issue("/data/0/actor/id", "schema.format", "error", "is not a valid IRI").to_dict()["pointer"]
    '/data/0/actor/id'
    """

    pointer: str
    rule: str
    severity: Severity
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        # Keys and values come from payloads: a lone surrogate in one would make every encoder of the
        # report fail (or write bytes that are not UTF-8), so it is escaped here, once.
        for name in ("pointer", "message", "hint"):
            text = getattr(self, name)
            if text is not None and not text.isascii():
                object.__setattr__(self, name, unicode_safe(text))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``--format json`` and ``Report.to_response()``; absent fields are omitted."""
        out: dict[str, Any] = {
            "pointer": self.pointer,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
        }
        for key in ("hint", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def escalated(self) -> Issue:
        """This issue as an error: what ``strict`` does to warnings."""
        return self if self.severity == "error" else replace(self, severity="error")


def counted(n: int, word: str) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1.

    >>> counted(1, "error"), counted(0, "warning")
    ('1 error', '0 warnings')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one payload: ``status`` is ``"success"`` when there is no error (warnings allowed).

    A report shows at most :attr:`~caliper_schema.policy.Limits.max_issues` issues; ``hidden_errors`` and
    ``hidden_warnings`` count the others, which one closing ``limit.issues`` issue also states. What is
    hidden still weighs: the status follows every issue, shown or not.

    >>> Report.from_issues([]).to_response()
    {'status': 'success', 'message': 'The payload is valid.', 'errors': None}
    """

    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    documents: int = 1
    hidden_errors: int = 0
    hidden_warnings: int = 0

    @classmethod
    def from_issues(cls, issues: Iterable[Issue], *, documents: int = 1) -> Report:
        """Sort issues, as a :class:`~caliper_schema.policy.Policy` weighed them, into errors and warnings."""
        errors: list[Issue] = []
        warnings: list[Issue] = []
        for issue in issues:
            (errors if issue.severity == "error" else warnings).append(issue)
        return cls(tuple(errors), tuple(warnings), documents)

    @property
    def ok(self) -> bool:
        """True when the payload has no error, shown or hidden."""
        return not self.errors and not self.hidden_errors

    @property
    def status(self) -> Literal["success", "error"]:
        """``"success"`` or ``"error"``, as the Timeback validate endpoint says it."""
        return "success" if self.ok else "error"

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Errors then warnings."""
        return self.errors + self.warnings

    @property
    def error_count(self) -> int:
        """How many errors the payload has, shown or hidden (the closing ``limit.issues`` not counted)."""
        return sum(issue.rule != NOTICE for issue in self.errors) + self.hidden_errors

    @property
    def warning_count(self) -> int:
        """How many warnings the payload has, shown or hidden (the closing ``limit.issues`` not counted)."""
        return sum(issue.rule != NOTICE for issue in self.warnings) + self.hidden_warnings

    @property
    def message(self) -> str:
        """A one-line human summary."""
        warnings = self.warning_count
        if self.ok:
            tail = f" ({counted(warnings, 'warning')})" if warnings else ""
            return f"The payload is valid{tail}."
        tail = f" and {counted(warnings, 'warning')}" if warnings else ""
        return f"The payload is invalid: {counted(self.error_count, 'error')}{tail}."

    def to_response(self) -> dict[str, Any]:
        """Exactly the body of ``POST /caliper/event/validate``: ``{"status", "message", "errors"}``.

        ``errors`` is ``null`` on success, as in the service's documented 200 response.
        """
        errors = [issue.to_dict() for issue in self.errors] if self.errors else None
        return {"status": self.status, "message": self.message, "errors": errors}

    def to_dict(self) -> dict[str, Any]:
        """The report with its warnings: the per-file object of ``--format json`` without the path."""
        return {
            "status": self.status,
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }


Item = tuple[int, Hashable]
"""(document ordinal, the item of that document an issue is about): what the closing issue counts."""


@dataclass(slots=True)
class _Kept:
    order: int
    issue: Issue
    item: Item


@dataclass
class Cap:
    """Issues as they are found, keeping what a report shows: errors before warnings, the first ``limit``
    in the order found; the others are counted, with the items they are about. Memory stays bounded by
    ``limit`` however many issues pass, so a file of millions of broken lines is reported in constant
    space; nothing is dropped from the verdict.

    Issues arrive one document after another (:meth:`next_document`); within one, ``item`` says which
    event or entity an issue is about, so the closing issue can say in how many items issues are hidden.

    >>> cap = Cap(2)
    >>> for n in range(3):
    ...     cap.add(Issue(f"/data/{n}/id", "caliper.uuid", "error", "not a UUID"), item=n)
    >>> report = cap.report()
    >>> [issue.pointer for issue in report.errors], report.hidden_errors
    (['/data/0/id', '/data/1/id', ''], 1)
    >>> report.errors[-1].message
    '1 more issue not shown (1 error, 0 warnings), in 1 item'
    """

    limit: int
    _errors: list[_Kept] = field(default_factory=list)
    _warnings: list[_Kept] = field(default_factory=list)
    _found: int = 0
    _document: int = 0
    _first_error: int = 0
    _first_warning: int = 0
    """Where the current document's errors and warnings start in ``_errors`` and ``_warnings``."""
    _hidden: list[int] = field(default_factory=lambda: [0, 0])
    """Hidden errors, hidden warnings."""
    _hidden_items: int = 0
    _current: set[Hashable] = field(default_factory=set)
    """Items of the current document that have a hidden issue (bounded by the items of one document)."""
    _marked: dict[Item, bool] = field(default_factory=dict)
    """Items of closed documents that hold a kept issue: whether they also have a hidden issue."""

    @property
    def errors_found(self) -> int:
        """How many errors were added so far, kept or hidden."""
        return len(self._errors) + self._hidden[0]

    def keeps(self, severity: Severity) -> bool:
        """True when an issue of this severity, added now, would be kept (for now: a later error can
        still push a warning out): worth locating."""
        return self.room(severity) > 0

    def room(self, severity: Severity) -> int:
        """How many more issues of this severity would be kept (for now: see :meth:`keeps`)."""
        return self.limit - len(self._errors if severity == "error" else self._warnings)

    def add(self, issue: Issue, item: Hashable = None) -> None:
        """One more issue of the current document."""
        self._found += 1
        kept = self._errors if issue.severity == "error" else self._warnings
        if len(kept) < self.limit:
            kept.append(_Kept(self._found, issue, (self._document, item)))
        else:
            self._hidden[issue.severity != "error"] += 1
            self._current.add(item)

    def next_document(self) -> None:
        """The current document is done; what follows is about the next one."""
        self._document += 1
        if not self._current and (len(self._errors), len(self._warnings)) == (
            self._first_error,
            self._first_warning,
        ):
            return  # nothing new to mark or count: nearly every document of a valid stream
        for kept in self._errors[self._first_error :] + self._warnings[self._first_warning :]:
            self._marked[kept.item] = kept.item[1] in self._current
        self._first_error, self._first_warning = len(self._errors), len(self._warnings)
        self._hidden_items += len(self._current)
        self._current = set()

    def absorb(self, part: Cap) -> None:
        """Take in the issues ``part`` (a cap of the same limit, its last document closed) was given about
        the documents that follow this cap's, as if they had been added here: the report is the one a
        single cap would give. ``validate --jobs`` checks a long file in chunks this way.

        What ``part`` kept is all it can add to what is shown (the first ``limit`` errors and warnings of
        the whole are among the first of each part); what it hid stays hidden, counted with its items.

        >>> whole, first, second = Cap(2), Cap(2), Cap(2)
        >>> for n in range(3):
        ...     issue = Issue(f"/data/{n}/id", "caliper.uuid", "error", "not a UUID")
        ...     whole.add(issue, item=n)
        ...     whole.next_document()
        ...     (first if n == 0 else second).add(issue, item=n)
        ...     (first if n == 0 else second).next_document()
        >>> first.absorb(second)
        >>> first.report(3) == whole.report(3)
        True
        """
        shift, found, first_error, first_warning = (
            self._document,
            self._found,
            len(self._errors),
            len(self._warnings),
        )
        hidden: set[Item] = set()
        """Items of ``part`` first hidden here: what ``part`` kept, this cap had no room for."""
        for kept in sorted(part._errors + part._warnings, key=lambda each: each.order):
            item = (kept.item[0] + shift, kept.item[1])
            mine = self._errors if kept.issue.severity == "error" else self._warnings
            if len(mine) < self.limit:
                mine.append(_Kept(found + kept.order, kept.issue, item))
            else:
                self._hidden[kept.issue.severity != "error"] += 1
                if not part._marked.get(kept.item):
                    hidden.add(item)
        for kept in self._errors[first_error:] + self._warnings[first_warning:]:
            own = (kept.item[0] - shift, kept.item[1])
            self._marked[kept.item] = part._marked.get(own, False) or kept.item in hidden
        self._first_error, self._first_warning = len(self._errors), len(self._warnings)
        self._hidden = [mine + theirs for mine, theirs in zip(self._hidden, part._hidden, strict=True)]
        self._hidden_items += part._hidden_items + len(hidden)
        self._found += part._found
        self._document += part._document

    def report(self, documents: int = 1) -> Report:
        """The report of everything added: the kept issues in reading order, then the closing issue."""
        if not self._errors and not self._warnings and self._hidden == [0, 0]:
            return _valid(documents)  # the common case: nothing found
        report = Report.from_issues(self.shown(), documents=documents)
        return replace(report, hidden_errors=self._hidden[0], hidden_warnings=self._hidden[1])

    def shown(self) -> list[Issue]:
        """What a report shows, once everything is added: the kept issues in reading order, then the
        closing issue that counts the others (call it once)."""
        self.next_document()
        room = max(self.limit - len(self._errors), 0)
        for dropped in self._warnings[room:]:  # warnings a later error pushed out
            self._hidden[1] += 1
            if not self._marked.get(dropped.item):
                self._marked[dropped.item] = True
                self._hidden_items += 1
        kept = [each.issue for each in sorted(self._errors + self._warnings[:room], key=_reading_order)]
        errors, warnings = self._hidden
        if errors or warnings:
            severity: Severity = "error" if errors else "warning"
            message = (
                f"{counted(errors + warnings, 'more issue')} not shown ({counted(errors, 'error')},"
                f" {counted(warnings, 'warning')}), in {counted(self._hidden_items, 'item')}"
            )
            kept.append(Issue("", NOTICE, severity, message, hint="fix these first"))
        return kept


@functools.lru_cache(maxsize=16)
def _valid(documents: int) -> Report:
    # A report is immutable: one object serves every valid payload of so many documents (a frozen
    # dataclass costs ~2 us to build, a few percent of a valid event).
    return Report(documents=documents)


def _reading_order(kept: _Kept) -> tuple[int, int, int, int]:
    return kept.item[0], kept.issue.line or 0, kept.issue.column or 0, kept.order
