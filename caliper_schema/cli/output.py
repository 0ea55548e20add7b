"""Reporters for the command line: text, JSON and GitHub annotations, behind one small interface.

A reporter is told about each file as it is checked (with ``--stream``, about each finding of the stream
as it is found) and once more at the end, so text output streams while JSON output is one document. The
JSON shape is a contract other tools rely on::

    {"status": "success" | "error",
     "summary": {"files", "valid", "invalid", "unreadable", "errors", "warnings"},
     "files": [{"path": <as given>, "status": "success" | "error", "errors": [issue...], "warnings": [...]}],
     "statistics": {...}}                                    # with --statistics

and with ``--stream``, written as the findings are found (memory does not grow with them)::

    {"findings": [{"path", "pointer", "rule", "severity", "message", "hint", "line", "column"}...],
     "status", "documents", "events", "runs", "summary": {...}, "statistics": {...}}

Paths, pointers and messages carry what payloads and file names hold, so each format escapes them its own
way: text output shows control characters and escape sequences as visible escapes
(:func:`~caliper_schema.reporting.printable`), GitHub annotations escape properties and data as GitHub
documents, and JSON output is valid UTF-8 in any locale (ASCII when the stream cannot take UTF-8). They
write to an :class:`Output`, which escapes what the stream's encoding cannot carry and turns a failed write
into a recorded failure instead of a traceback.
"""

from __future__ import annotations

import codecs
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from caliper_schema.reporting import Issue, Report, counted, printable, unicode_safe
from caliper_schema.validation.statistics import render_table

UNREADABLE = "io.unreadable"
"""The rule of a file named that could not be read: counted as unreadable, not as checked and invalid."""


class Output:
    """A text stream as the commands need it: whatever its encoding, what they write reaches it, and a
    write that fails (a broken pipe, a full disk, a closed descriptor) is recorded in :attr:`failure`
    rather than raised (``stop=True`` raises it too, for a writer that should stop there).

    Where the encoding cannot carry a character it is escaped: as ``\\uXXXX`` in JSON text
    (``json_text=True``: still valid JSON, in ASCII), as a visible ``\\xe9``-style escape in plain text.
    Lone surrogates never reach the stream (they would not be UTF-8).
    """

    def __init__(self, stream: TextIO, *, json_text: bool = False, stop: bool = False) -> None:
        self.stream, self.json_text, self.stop = stream, json_text, stop
        self.failure: OSError | None = None
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            self.utf8 = codecs.lookup(self.encoding).name == "utf-8"
        except LookupError:
            self.encoding, self.utf8 = "ascii", False

    def write(self, text: str) -> None:
        """Write ``text``, or nothing once a write has failed."""
        if self.failure is not None:
            return
        text = unicode_safe(text)
        if not self.utf8 and not text.isascii():
            text = (
                _NON_ASCII.sub(_json_escape, text)
                if self.json_text
                else text.encode(self.encoding, "backslashreplace").decode(self.encoding)
            )
        try:
            self.stream.write(text)
        except OSError as error:
            self.failure = error
            if self.stop:
                raise

    def flush(self) -> None:
        """Flush the stream, recording a failure as :meth:`write` does."""
        if self.failure is None:
            try:
                self.stream.flush()
            except OSError as error:
                self.failure = error


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _json_escape(match: re.Match[str]) -> str:
    return json.dumps(match.group())[1:-1]  # \u00e9, or a surrogate pair beyond the first plane


Counts = Mapping[str, int]
"""What a stream held: ``documents``, ``events``, ``runs``."""


class Reporter(Protocol):
    """Receives each file's report (or, for a stream, each file's start and each finding), then the end."""

    def file(self, path: str, report: Report) -> None:
        """One checked file."""

    def source(self, path: str) -> None:
        """A file of the stream starts (its findings follow, as they are found)."""

    def finding(self, path: str, issue: Issue) -> None:
        """One issue of the stream, in the file ``path``."""

    def finish(self, *, stream: Counts | None = None, statistics: Mapping[str, Any] | None = None) -> None:
        """All files are checked; ``stream``: what the stream held; ``statistics``: coverage, if asked."""


def shown_pointer(pointer: str) -> str:
    """A JSON Pointer as a word of a line: the whole document's, the empty pointer, as ``""`` (``/`` is
    another pointer, to the member named "" of RFC 6901).

    >>> shown_pointer(""), shown_pointer("/data/0")
    ('""', '/data/0')
    """
    return pointer or '""'


class _Tally:
    def __init__(self, stream: Output) -> None:
        self.stream = stream
        self.files = self.invalid = self.unreadable = self.errors = self.warnings = 0
        self._failed: set[str] = set()
        """The files of a stream with an error, or not read."""

    def count(self, report: Report) -> None:
        self.files += 1
        if any(issue.rule == UNREADABLE for issue in report.issues):
            self.unreadable += 1
        else:
            self.invalid += not report.ok
        self.errors += report.error_count
        self.warnings += report.warning_count

    def source(self, path: str) -> None:
        self.files += 1

    def count_finding(self, path: str, issue: Issue) -> None:
        if issue.severity == "error":
            self.errors += 1
            if path not in self._failed:
                self._failed.add(path)
                if issue.rule == UNREADABLE:
                    self.unreadable += 1
                else:
                    self.invalid += 1
        else:
            self.warnings += 1

    @property
    def failed(self) -> bool:
        """A file is invalid or could not be read: the run is not a pass."""
        return bool(self.invalid or self.unreadable)

    def summary(self) -> dict[str, int]:
        """The counts: every file named is valid, invalid, or unreadable (not checked at all)."""
        valid = self.files - self.invalid - self.unreadable
        return {"files": self.files, "valid": valid, "invalid": self.invalid, "unreadable": self.unreadable,
                "errors": self.errors, "warnings": self.warnings}  # fmt: skip

    def closing(self, stream: Counts | None) -> str:
        """The last line of text and GitHub output: what was checked and the verdict, counted."""
        issues = f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        checked = f"{counted(self.files, 'file')} checked"
        if stream is not None:
            held = [counted(stream["documents"], "document"), counted(stream["events"], "event"),
                    counted(stream["runs"], "run")]  # fmt: skip
            checked += f" as one stream ({', '.join(held)})"
        unread = f", {self.unreadable} unreadable" if self.unreadable else ""
        valid = self.files - self.invalid - self.unreadable
        return f"{checked}: {valid} valid, {self.invalid} invalid{unread} ({issues})\n"


class TextReporter(_Tally):
    """``path:line:col: severity rule pointer message``, one line an issue, so editors can jump to it; the
    statistics table (if asked) and the closing summary line after them."""

    def _issue(self, path: str, issue: Issue) -> None:
        where = printable(path)
        if issue.line is not None:  # a finding across events may know the line and not the column
            where += f":{issue.line}" + (f":{issue.column}" if issue.column is not None else "")
        pointer, message = printable(shown_pointer(issue.pointer)), printable(issue.message)
        self.stream.write(f"{where}: {issue.severity} {issue.rule} {pointer} {message}\n")
        if issue.hint:
            self.stream.write(f"    hint: {printable(issue.hint)}\n")

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        for issue in report.issues:
            self._issue(path, issue)

    def finding(self, path: str, issue: Issue) -> None:
        self.count_finding(path, issue)
        self._issue(path, issue)

    def finish(self, *, stream: Counts | None = None, statistics: Mapping[str, Any] | None = None) -> None:
        if statistics is not None:
            self.stream.write("\n" + render_table(statistics) + "\n")
        self.stream.write(self.closing(stream))


_OPENING = '{\n  "findings": ['


class JsonReporter(_Tally):
    """One JSON document for the whole run; a stream's findings are written as they are found."""

    def __init__(self, stream: Output) -> None:
        super().__init__(stream)
        self.entries: list[dict[str, Any]] = []
        self._findings = 0

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        self.entries.append({"path": unicode_safe(path), **report.to_dict()})

    def finding(self, path: str, issue: Issue) -> None:
        self.count_finding(path, issue)
        entry = json.dumps({"path": unicode_safe(path), **issue.to_dict()}, ensure_ascii=False)
        self.stream.write(("," if self._findings else _OPENING) + "\n    " + entry)
        self._findings += 1

    def finish(self, *, stream: Counts | None = None, statistics: Mapping[str, Any] | None = None) -> None:
        status = "error" if self.failed else "success"
        document: dict[str, Any] = {"status": status}
        if stream is not None:
            document.update(stream)
        document["summary"] = self.summary()
        if stream is None:
            document["files"] = self.entries
        if statistics is not None:
            document["statistics"] = statistics
        text = json.dumps(document, indent=2, ensure_ascii=False)
        if stream is not None:  # after the findings written already: the same document, closed
            text = ("\n  ],\n" if self._findings else _OPENING + "],\n") + text.removeprefix("{\n")
        self.stream.write(text + "\n")


def github_data(text: str) -> str:
    """The message of a workflow command, escaped as GitHub's toolkit does (``%``, CR, LF), after every
    other control character is made visible.

    >>> github_data("50% done\\n::error::forged")
    '50%25 done\\\\n::error::forged'
    """
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property of a workflow command (``file=``, ``title=``), escaped as GitHub's toolkit does
    (``%``, CR, LF, ``:`` and ``,``); other control characters are made visible.

    >>> github_property("a,b:c%\\n.json")
    'a%2Cb%3Ac%25%0A.json'
    """
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(escaped.replace(":", "%3A").replace(",", "%2C"))


class GithubReporter(_Tally):
    """GitHub Actions workflow commands: each issue becomes an annotation on the pull request; the statistics
    (if asked) are a folded group of plain log lines, with workflow commands stopped around them (what a
    payload holds cannot act as one), then the closing summary line."""

    def _line(self, path: str, issue: Issue) -> str:
        props = [f"file={github_property(path)}"]
        if issue.line is not None:
            props.append(f"line={issue.line}")
            props += [f"col={issue.column}"] if issue.column is not None else []
        props.append(f"title={github_property(issue.rule)}")
        hint = f" (hint: {issue.hint})" if issue.hint else ""
        message = github_data(f"{shown_pointer(issue.pointer)} {issue.message}{hint}")
        return f"::{issue.severity} {','.join(props)}::{message}\n"

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        for issue in report.issues:
            self.stream.write(self._line(path, issue))

    def finding(self, path: str, issue: Issue) -> None:
        self.count_finding(path, issue)
        self.stream.write(self._line(path, issue))

    def finish(self, *, stream: Counts | None = None, statistics: Mapping[str, Any] | None = None) -> None:
        if statistics is not None:
            token = secrets.token_hex(16)  # no payload can guess it, so none can end the pause early
            self.stream.write(f"::group::Coverage statistics\n::stop-commands::{token}\n")
            self.stream.write(render_table(statistics) + f"\n::{token}::\n::endgroup::\n")
        self.stream.write(self.closing(stream))


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter] | type[GithubReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "github": GithubReporter,
}
