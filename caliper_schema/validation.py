"""The pipeline end to end: bytes, text or a parsed mapping in, a :class:`Report` out.

Parse (:mod:`~caliper_schema.parsing`) → dispatch (:mod:`~caliper_schema.dispatching`) → check
(:mod:`~caliper_schema.checking`) → lint (:mod:`~caliper_schema.linting`) → rules
(:mod:`~caliper_schema.rules`) → report (:mod:`~caliper_schema.reporting`). Every issue is reported, not
the first one; each gets the line and column of its value when the source text is known.

>>> report = validate(b'{"sensor": "https://app.example.com", "sendTime": "<dynamic-timestamp>",'
...                   b' "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": []}')
>>> [(issue.pointer, issue.rule) for issue in report.errors]
[('/sendTime', 'schema.format'), ('/data', 'schema.min-items')]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from caliper_schema import checking, linting, rules
from caliper_schema.dispatching import dispatch
from caliper_schema.parsing import Document, parse, parse_lines
from caliper_schema.reporting import Issue, Report

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


def _locate(issues: list[Issue], document: Document) -> list[Issue]:
    if document.text is None:
        return issues
    located = []
    for issue in issues:
        if issue.line is None and (position := document.locate(issue.pointer)) is not None:
            issue = replace(issue, line=position[0], column=position[1])
        located.append(issue)
    return located


def check_document(document: Document) -> list[Issue]:
    """Every issue of one parsed document (its parse issues when it could not be parsed)."""
    if not document.parsed:
        return list(document.issues)
    units, issues = dispatch(document.value)
    issues = list(document.issues) + issues
    for unit in units:
        errors = checking.check(unit)
        failed = {issue.pointer for issue in errors}
        issues += errors
        issues += [issue for issue in linting.lint(unit) if issue.pointer not in failed]
    issues += rules.run(units)
    located = _locate(issues, document)
    return sorted(located, key=lambda issue: (issue.line or 0, issue.column or 0))


def _report(documents: Iterable[Document], strict: bool) -> Report:
    issues: list[Issue] = []
    count = 0
    for document in documents:
        count += 1
        issues += check_document(document)
    return Report.from_issues(issues, strict=strict, documents=count)


def validate(
    payload: bytes | str | Mapping[str, Any], *, strict: bool = False, lines: bool = False
) -> Report:
    """Validate one payload: an Envelope, a bare Event or a bare Entity.

    ``payload`` is raw bytes or text (parsed strictly), or an already parsed mapping. ``lines=True``
    reads bytes or text as JSON Lines, one document per line. ``strict=True`` is certification grade:
    every warning becomes an error.

    >>> validate({"type": "Event"}).errors[0].message
    "missing required property 'id'"
    >>> validate('{"type": "Event"}', strict=True).status
    'error'
    """
    if isinstance(payload, Mapping):
        return _report([Document(dict(payload))], strict)
    if lines:
        return _report(parse_lines(payload), strict)
    return _report([parse(payload)], strict)


def validate_file(path: str | os.PathLike[str], *, strict: bool = False) -> Report:
    """Validate a ``.json`` file, or a ``.jsonl``/``.ndjson`` file one line at a time.

    Raises :class:`OSError` when the file cannot be read; the file is never written.

    >>> validate_file("examples/valid/timeback-activity-event.json").status
    'success'
    """
    file = Path(path)
    data = file.read_bytes()
    return validate(data, strict=strict, lines=file.suffix.lower() in JSON_LINES_SUFFIXES)
