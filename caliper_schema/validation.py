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
from caliper_schema.policy import DEFAULT, Policy
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


def check_document(document: Document, policy: Policy = DEFAULT) -> list[Issue]:
    """Every issue of one parsed document (its parse issues when it could not be parsed)."""
    if not document.parsed:
        return list(document.issues)
    units, issues = dispatch(document.value)
    issues = list(document.issues) + issues
    for unit in units:
        issues += checking.check(unit)
        issues += linting.lint(unit, policy)
    issues += rules.run(units)
    failed = {issue.pointer for issue in issues if issue.severity == "error"}
    # A warning about a value that is already wrong is noise: the error says it, with the same hint.
    issues = [issue for issue in issues if issue.severity == "error" or issue.pointer not in failed]
    located = _locate(issues, document)
    return sorted(located, key=lambda issue: (issue.line or 0, issue.column or 0))


def _report(documents: Iterable[Document], policy: Policy) -> Report:
    issues: list[Issue] = []
    count = 0
    for document in documents:
        count += 1
        issues += check_document(document, policy)
    return Report.from_issues(policy.judge(issues), documents=count)


def validate(
    payload: bytes | str | Mapping[str, Any],
    *,
    strict: bool = False,
    lines: bool = False,
    policy: Policy | None = None,
) -> Report:
    """Validate one payload: an Envelope, a bare Event or a bare Entity.

    ``payload`` is raw bytes or text (parsed strictly), or an already parsed mapping. ``lines=True``
    reads bytes or text as JSON Lines, one document per line. ``strict=True`` is certification grade:
    every warning becomes an error. ``policy`` re-grades or turns off rules and picks the Timeback subject
    list (see :class:`~caliper_schema.policy.Policy`).

    >>> validate({"type": "Event"}).errors[0].message
    "missing required property 'id'"
    >>> validate('{"type": "Event"}', strict=True).status
    'error'
    """
    policy = policy or DEFAULT
    if strict and not policy.strict:
        policy = replace(policy, strict=True)
    if isinstance(payload, Mapping):
        return _report([Document(dict(payload))], policy)
    if lines:
        return _report(parse_lines(payload), policy)
    return _report([parse(payload)], policy)


def validate_file(
    path: str | os.PathLike[str], *, strict: bool = False, policy: Policy | None = None
) -> Report:
    """Validate a ``.json`` file, or a ``.jsonl``/``.ndjson`` file one line at a time.

    Raises :class:`OSError` when the file cannot be read; the file is never written.

    >>> validate_file("examples/valid/timeback-activity-event.json").status
    'success'
    """
    file = Path(path)
    data = file.read_bytes()
    return validate(data, strict=strict, lines=file.suffix.lower() in JSON_LINES_SUFFIXES, policy=policy)
