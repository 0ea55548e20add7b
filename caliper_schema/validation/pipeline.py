"""The pipeline end to end: bytes, text or a parsed mapping in, a :class:`Report` out.

Parse (:mod:`~caliper_schema.validation.parsing`) → dispatch (:mod:`~caliper_schema.validation.dispatching`) →
check (:mod:`~caliper_schema.validation.checking`) → lint (:mod:`~caliper_schema.validation.linting`) → rules
(:mod:`~caliper_schema.validation.rules`) → report (:mod:`~caliper_schema.reporting`). Every issue is
reported, not the first one; each gets the line and column of its value when the source text is known.

>>> report = validate(b'{"sensor": "https://app.example.com", "sendTime": "<dynamic-timestamp>",'
...                   b' "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": []}')
>>> [(issue.pointer, issue.rule) for issue in report.errors]
[('/sendTime', 'schema.format'), ('/data', 'schema.min-items')]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.reporting import Issue, Report, Severity
from caliper_schema.validation import checking, linting, rules
from caliper_schema.validation.dispatching import dispatch
from caliper_schema.validation.fastpath import clean_engine, fast_engine
from caliper_schema.validation.parsing import Document, oversized, parse, parse_lines, parse_value

if TYPE_CHECKING:
    from caliper_schema.modelbase import CaliperModel

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
    units, issues = dispatch(document.value, max_items=policy.limits.max_items)
    issues = list(document.issues) + issues
    unchecked = invalid = 0
    clean = clean_engine(policy.subjects).validator
    for checked, unit in enumerate(units, start=1):
        if clean(unit.schema).is_valid(unit.value):
            continue  # no schema error and nothing a lint would flag: the common case, one native pass
        issues += checking.check(unit)
        issues += linting.lint(unit, policy)
        if len(issues) > policy.limits.max_issues:
            # Enough to report: an envelope of bad items must not run the slow path for every one.
            unchecked = len(units) - checked
            # Not explained, but judged: an invalid item left unchecked still makes the document invalid.
            invalid = sum(not fast_engine().is_valid(each.schema, each.value) for each in units[checked:])
            break
    text = document.text if document.text is not None else document.serialised
    issues += rules.run(units, text, best_practice=policy.best_practice)
    if not issues:
        return issues  # the common case: nothing to weigh, locate or cap
    failed = {issue.pointer for issue in issues if issue.severity == "error"}
    # A warning about a value that is already wrong is noise: the error says it, with the same hint.
    issues = [issue for issue in issues if issue.severity == "error" or issue.pointer not in failed]
    return _capped(_locate(issues, document), policy.limits.max_issues, unchecked, invalid)


def _capped(issues: list[Issue], cap: int, unchecked: int, invalid: int = 0) -> list[Issue]:
    """At most ``cap`` issues in reading order, errors kept before warnings, and one that counts the rest
    (and the items of an envelope left unchecked once there was that much to report)."""
    ranked = sorted(issues, key=lambda issue: issue.severity != "error")
    kept, dropped = ranked[:cap], ranked[cap:]
    kept.sort(key=lambda issue: (issue.line or 0, issue.column or 0))
    if dropped:
        errors = invalid or any(issue.severity == "error" for issue in dropped)
        severity: Severity = "error" if errors else "warning"
        message = f"{len(dropped)} more issue{'s' if len(dropped) > 1 else ''} not shown"
        message += f"; {unchecked} more item{'s' if unchecked > 1 else ''} not checked" if unchecked else ""
        kept.append(Issue("", "limit.issues", severity, message, hint="fix these first"))
    return kept


def _report(documents: Iterable[Document], policy: Policy) -> Report:
    issues: list[Issue] = []
    count = 0
    for document in documents:
        count += 1
        issues += check_document(document, policy)
    return Report.from_issues(policy.judge(issues), documents=count)


def validate(
    payload: bytes | bytearray | str | Mapping[str, Any] | list[Any] | CaliperModel | None,
    *,
    strict: bool = False,
    lines: bool = False,
    policy: Policy | None = None,
) -> Report:
    """Validate one payload: an Envelope, a bare Event or a bare Entity.

    ``payload`` is raw bytes or text (parsed strictly), or an already parsed value (checked to be JSON:
    a ``datetime`` or a ``NaN`` in it is an issue, not a crash), or a generated model, checked as its
    ``model_dump_json()``: what would be sent. ``lines=True``
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
    if isinstance(payload, bytearray):
        payload = bytes(payload)
    modelbase = sys.modules.get("caliper_schema.modelbase")  # a model's module imported it: no import here
    if modelbase is not None and isinstance(payload, modelbase.CaliperModel):
        payload = str(payload.model_dump_json())
    if not isinstance(payload, bytes | str):
        value = dict(payload) if isinstance(payload, Mapping) else payload
        return _report([parse_value(value, policy.limits)], policy)
    if lines:
        return _report(parse_lines(payload, policy.limits), policy)
    return _report([parse(payload, policy.limits)], policy)


def validate_file(
    path: str | os.PathLike[str], *, strict: bool = False, policy: Policy | None = None
) -> Report:
    """Validate a ``.json`` file, or a ``.jsonl``/``.ndjson`` file one line at a time.

    Raises :class:`OSError` when the file cannot be read; the file is never written.

    >>> validate_file("examples/valid/timeback-activity-event.json").status
    'success'
    """
    policy = policy or DEFAULT
    if strict and not policy.strict:
        policy = replace(policy, strict=True)
    file = Path(path)
    if file.suffix.lower() in JSON_LINES_SUFFIXES:
        with file.open("rb") as stream:  # a line at a time: memory bounded by the longest line
            return _report(parse_lines(stream, policy.limits), policy)
    refused = oversized(file.stat().st_size, policy.limits)  # a file beyond the limit is not read at all
    if refused is not None:
        return _report([refused], policy)
    return validate(file.read_bytes(), policy=policy)
