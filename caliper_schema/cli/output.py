"""Reporters for the command line: text, JSON and GitHub annotations, behind one small interface.

A reporter is told about each file as it is checked and once more at the end, so text output streams
while JSON output is one document. The JSON shape is a contract other tools rely on::

    {"status": "success" | "error",
     "files": [{"path": <as given>, "status": "success" | "error", "errors": [issue...], "warnings": [...]}]}
"""

from __future__ import annotations

import json
from typing import Any, Protocol, TextIO

from caliper_schema.reporting import Issue, Report, counted


class Reporter(Protocol):
    """Receives each file's report, then the end of the run."""

    def file(self, path: str, report: Report) -> None:
        """One checked file."""

    def finish(self) -> None:
        """All files are checked."""


class _Tally:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.files = self.invalid = self.errors = self.warnings = 0

    def count(self, report: Report) -> None:
        self.files += 1
        self.invalid += not report.ok
        self.errors += len(report.errors)
        self.warnings += len(report.warnings)


class TextReporter(_Tally):
    """``path:line:col: severity rule pointer message``, one line an issue, so editors can jump to it."""

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        for issue in report.issues:
            where = f"{path}:{issue.line}:{issue.column}" if issue.line is not None else path
            self.stream.write(
                f"{where}: {issue.severity} {issue.rule} {issue.pointer or '/'} {issue.message}\n"
            )
            if issue.hint:
                self.stream.write(f"    hint: {issue.hint}\n")

    def finish(self) -> None:
        valid = self.files - self.invalid
        issues = f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        files = counted(self.files, "file")
        self.stream.write(f"{files} checked: {valid} valid, {self.invalid} invalid ({issues})\n")


class JsonReporter(_Tally):
    """One JSON document for the whole run."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.entries: list[dict[str, Any]] = []

    def file(self, path: str, report: Report) -> None:
        self.count(report)
        self.entries.append({"path": path, **report.to_dict()})

    def finish(self) -> None:
        status = "error" if self.invalid else "success"
        json.dump({"status": status, "files": self.entries}, self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")


class GithubReporter(_Tally):
    """GitHub Actions workflow commands: each issue becomes an annotation on the pull request."""

    @staticmethod
    def _escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def _line(self, path: str, issue: Issue) -> str:
        props = [f"file={path}"]
        if issue.line is not None:
            props += [f"line={issue.line}", f"col={issue.column}"]
        props.append(f"title={issue.rule}")
        hint = f" (hint: {issue.hint})" if issue.hint else ""
        message = self._escape(f"{issue.pointer or '/'} {issue.message}{hint}")
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
