"""Reporters for the command line: text, JSON and GitHub annotations, behind one small interface.

A reporter is told about each file as it is checked and once more at the end, so text output streams
while JSON output is one document. The JSON shape is a contract other tools rely on::

    {"status": "success" | "error",
     "files": [{"path": <as given>, "status": "success" | "error", "errors": [issue...], "warnings": [...]}]}

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
from typing import Any, Protocol, TextIO

from caliper_schema.reporting import Issue, Report, counted, printable, unicode_safe


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


class Reporter(Protocol):
    """Receives each file's report, then the end of the run."""

    def file(self, path: str, report: Report) -> None:
        """One checked file."""

    def finish(self) -> None:
        """All files are checked."""


class _Tally:
    def __init__(self, stream: Output) -> None:
        self.stream = stream
        self.files = self.invalid = self.errors = self.warnings = 0

    def count(self, report: Report) -> None:
        self.files += 1
        self.invalid += not report.ok
        self.errors += report.error_count
        self.warnings += report.warning_count


class TextReporter(_Tally):
    """``path:line:col: severity rule pointer message``, one line an issue, so editors can jump to it."""

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        path = printable(path)
        for issue in report.issues:
            where = f"{path}:{issue.line}:{issue.column}" if issue.line is not None else path
            pointer, message = printable(issue.pointer or "/"), printable(issue.message)
            self.stream.write(f"{where}: {issue.severity} {issue.rule} {pointer} {message}\n")
            if issue.hint:
                self.stream.write(f"    hint: {printable(issue.hint)}\n")

    def finish(self) -> None:
        valid = self.files - self.invalid
        issues = f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        files = counted(self.files, "file")
        self.stream.write(f"{files} checked: {valid} valid, {self.invalid} invalid ({issues})\n")


class JsonReporter(_Tally):
    """One JSON document for the whole run."""

    def __init__(self, stream: Output) -> None:
        super().__init__(stream)
        self.entries: list[dict[str, Any]] = []

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        self.entries.append({"path": unicode_safe(path), **report.to_dict()})

    def finish(self) -> None:
        status = "error" if self.invalid else "success"
        document = {"status": status, "files": self.entries}
        self.stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


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
    """GitHub Actions workflow commands: each issue becomes an annotation on the pull request."""

    def _line(self, path: str, issue: Issue) -> str:
        props = [f"file={github_property(path)}"]
        if issue.line is not None:
            props += [f"line={issue.line}", f"col={issue.column}"]
        props.append(f"title={github_property(issue.rule)}")
        hint = f" (hint: {issue.hint})" if issue.hint else ""
        message = github_data(f"{issue.pointer or '/'} {issue.message}{hint}")
        return f"::{issue.severity} {','.join(props)}::{message}\n"

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        for issue in report.issues:
            self.stream.write(self._line(path, issue))

    def finish(self) -> None:
        self.stream.write(f"{self.files} files checked, {self.invalid} invalid\n")


REPORTERS: dict[str, type[TextReporter] | type[JsonReporter] | type[GithubReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "github": GithubReporter,
}
