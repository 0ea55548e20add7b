"""The pipeline end to end: bytes, text or a parsed mapping in, a :class:`Report` out.

Parse (:mod:`~caliper_schema.validation.parsing`) → dispatch (:mod:`~caliper_schema.validation.dispatching`) →
check (:mod:`~caliper_schema.validation.checking`) → lint (:mod:`~caliper_schema.validation.linting`) → rules
(:mod:`~caliper_schema.validation.rules`) → report (:mod:`~caliper_schema.reporting`). Every item of every
document is judged, and every issue weighs in the verdict; a report shows the first ``max_issues`` of them
(errors first) and counts the rest (:class:`~caliper_schema.reporting.Cap`). Each shown issue gets the
line and column of its value when the source text is known. Files, devices, pipes and standard input are
read through :mod:`~caliper_schema.validation.reading`, never past the size limit.

>>> report = validate(b'{"sensor": "https://app.example.com", "sendTime": "<dynamic-timestamp>",'
...                   b' "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": []}')
>>> [(issue.pointer, issue.rule) for issue in report.errors]
[('/sendTime', 'schema.format'), ('/data', 'schema.min-items')]
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.reporting import Cap, Issue, Report
from caliper_schema.validation import checking, linting, reading, rules
from caliper_schema.validation.dispatching import Unit, dispatch, is_envelope
from caliper_schema.validation.fastpath import clean_engine
from caliper_schema.validation.parsing import Document, parse, parse_lines, parse_value, refused

if TYPE_CHECKING:
    from caliper_schema.modelbase import CaliperModel

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
ASSERTIONS = (
    "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "contains",
    "minContains", "maxContains", "minProperties", "maxProperties", "required", "dependentRequired",
    "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "items", "not", "anyOf", "oneOf",
    "discriminator",
)  # fmt: skip
"""The schema keywords that fail with an error of their own (the others only lead to subschemas)."""
FIXED_RULES = (
    "json.syntax", "json.trailing-data", "json.duplicate-key", "json.non-finite", "json.encoding",
    "json.bom", "json.empty", "json.surrogate", "json.not-json", "document.not-an-object",
    "document.missing-type", "document.unknown-type", "limit.size", "limit.depth", "limit.string",
    "limit.items", "limit.issues",
)  # fmt: skip
"""The parse, dispatch and limit rules (a policy may raise them, never lower them: ``policy.UNREAD``)."""


class _Sink:
    """One document's issues on their way to the report: weighed by the policy, located only when they
    will be shown, and tagged with the item (``/data/N``) they are about."""

    def __init__(self, document: Document, policy: Policy, cap: Cap) -> None:
        self.document, self.policy, self.cap = document, policy, cap
        self.envelope = is_envelope(document.value)

    def item(self, pointer: str) -> Hashable:
        if not self.envelope or not pointer.startswith("/data/"):
            return None
        index = pointer[6:].partition("/")[0]
        return int(index) if index.isdigit() else None

    def hinted(self) -> Callable[[str], bool]:
        """Which of the next schema errors need a hint: those the report may still show, the cap being
        what it is now (an issue it hides now is never shown later), each weighed as the policy will
        weigh it (re-graded, or off: then it needs none)."""
        room = {"error": self.cap.room("error"), "warning": self.cap.room("warning")}

        def wanted(rule: str) -> bool:
            grade = self.policy.severities.get(rule, "error")  # a schema error, before the policy
            if grade == "off":
                return False
            room[grade] -= 1
            return room[grade] >= 0

        return wanted

    def add(self, issues: Iterable[Issue], item: Hashable = ...) -> None:
        for found in issues:
            issue = self.policy.weigh(found)
            if issue is None:
                continue
            if self.cap.keeps(issue.severity) and issue.line is None and self.document.text is not None:
                position = self.document.locate(issue.pointer)
                if position is not None:
                    issue = replace(issue, line=position[0], column=position[1])
            self.cap.add(issue, self.item(issue.pointer) if item is ... else item)


def _failed(issues: Iterable[Issue]) -> set[str]:
    return {issue.pointer for issue in issues if issue.severity == "error"}


def _warned(issues: Iterable[Issue]) -> set[str]:
    return {issue.pointer for issue in issues if issue.severity == "warning"}


def _quiet(issues: Iterable[Issue], *failed: set[str]) -> Iterator[Issue]:
    # A warning about a value that is already wrong is noise: the error says it, with the same hint.
    for issue in issues:
        if issue.severity == "error" or not any(issue.pointer in each for each in failed):
            yield issue


def _heard(
    issues: Iterable[Issue], listening: set[str], own: set[str], shell: set[str] | None
) -> Iterator[Issue]:
    """``issues`` as they come, noting in ``own`` the errors at a pointer a warning may be about (and, for
    the envelope shell, in ``shell`` those inside ``data``): a unit may have a million errors, and only
    these few are worth remembering."""
    for issue in issues:
        if issue.pointer in listening:
            own.add(issue.pointer)
        if shell is not None and issue.pointer.startswith("/data/"):
            shell.add(issue.pointer)
        yield issue


def check_document(document: Document, policy: Policy, cap: Cap) -> None:
    """Every issue of one parsed document (its parse issues when it could not be parsed), into ``cap``.

    Every item is checked whatever the cap: it bounds what is shown, not what is judged. Issues stream
    into the cap as they are found, so a unit with a million of them is never held whole.
    """
    if not document.parsed:
        _Sink(document, policy, cap).add(document.issues)
        return
    units, dispatched = dispatch(document.value, max_items=policy.limits.max_items)
    clean = clean_engine(policy.subjects).validator
    # No schema error and nothing a lint would flag: the common case, one native pass a unit.
    unclean = [not clean(unit.schema).is_valid(unit.value) for unit in units]
    text = document.text if document.text is not None else document.serialised
    found = rules.run(units, text, best_practice=policy.best_practice)
    early = list(document.issues) + dispatched
    if not found and not early and not any(unclean):
        return  # a valid document: nothing to weigh, locate or count
    sink = _Sink(document, policy, cap)
    # The rule layer's issues come last but are known first, and each unit's lints before its schema
    # errors, so that every warning can be weighed against every error as the unit is checked. A unit's
    # issues lie under its pointer, so the first unit (the envelope shell, or the whole bare document) is
    # the only one that can mute an earlier issue (a BOM's warning).
    failed = _failed(early) | _failed(found)
    watched = _warned(found)
    struck: set[str] = set()
    for index, unit in enumerate(units):
        lints = linting.lint(unit, policy) if unclean[index] else []
        listening = _warned(lints) | watched | (_warned(early) if index == 0 else set())
        own = _failed(lints) & listening
        errors: Iterator[Issue] = iter(())
        if unclean[index]:
            found_here = checking.issues_of(unit, sink.hinted())
            errors = _heard(found_here, listening, own, failed if index == 0 else None)
        if index == 0:
            failed |= {pointer for pointer in _failed(lints) if pointer.startswith("/data/")}
            if _warned(early):  # the document's own errors may mute it: hear them all first
                errors = iter(list(errors))
            sink.add(_quiet(early, failed, own))
        sink.add(errors, _item_of(unit))
        sink.add(_quiet(lints, failed, own), _item_of(unit))
        struck |= own & watched
    if not units:
        sink.add(_quiet(early, failed))
    sink.add(_quiet(found, failed, struck))


def document_issues(document: Document, policy: Policy = DEFAULT) -> list[Issue]:
    """Every issue of one document as ``policy`` weighs them, in reading order, as many as a report of it
    shows, then the closing ``limit.issues`` that counts the rest (for callers that judge documents one by
    one: the stream rules, a Dask task).

    >>> [issue.rule for issue in document_issues(parse(b'{"type": "Event"}'))][:2]
    ['schema.required', 'schema.required']
    """
    cap = Cap(policy.limits.max_issues)
    check_document(document, policy, cap)
    return cap.shown()


def _item_of(unit: Unit) -> Hashable:
    return int(unit.pointer[6:]) if unit.pointer.startswith("/data/") else None


def _report(documents: Iterable[Document], policy: Policy) -> Report:
    cap = Cap(policy.limits.max_issues)
    count = 0
    for document in documents:
        count += 1
        check_document(document, policy, cap)
        cap.next_document()
    return cap.report(documents=count)


def _policy(policy: Policy | None, strict: bool) -> Policy:
    policy = policy or DEFAULT
    return replace(policy, strict=True) if strict and not policy.strict else policy


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
    policy = _policy(policy, strict)
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


def validate_reader(
    stream: BinaryIO, *, strict: bool = False, lines: bool = False, policy: Policy | None = None
) -> Report:
    """Validate what a binary stream holds (standard input, a pipe, a device, an open file), reading no
    more than the size limit of a document, or of each line with ``lines=True``.

    >>> import io
    >>> validate_reader(io.BytesIO(b'{"type": "Event"}\\n[]\\n'), lines=True).errors[-1].rule
    'document.not-an-object'
    """
    policy = _policy(policy, strict)
    limit = policy.limits.max_bytes
    if lines:
        return _report(parse_lines(reading.read_lines(stream, limit), policy.limits), policy)
    data = reading.read_document(stream, limit)
    if isinstance(data, reading.Oversized):
        return _report([refused(data, policy.limits)], policy)
    return validate(data, policy=policy)


def validate_file(
    path: str | os.PathLike[str], *, strict: bool = False, policy: Policy | None = None
) -> Report:
    """Validate a ``.json`` file, or a ``.jsonl``/``.ndjson`` file one line at a time.

    Raises :class:`OSError` when the file cannot be read; the file is never written. A file of any kind
    (a device, a pipe) is read no further than the size limit.

    >>> validate_file("examples/valid/timeback-activity-event.json").status
    'success'
    """
    file = Path(path)
    with file.open("rb") as stream:
        lines = file.suffix.lower() in JSON_LINES_SUFFIXES
        return validate_reader(stream, strict=strict, lines=lines, policy=policy)


@functools.cache
def rule_ids() -> frozenset[str]:
    """Every rule id a policy can name: the parse and dispatch rules, ``schema.<keyword>`` for each
    assertion keyword the schemas use, their ``x-rule`` and ``x-lint`` ids, and the rule layer's.

    >>> {"schema.required", "caliper.uuid", "json.syntax"} <= rule_ids(), "json.whatever" in rule_ids()
    (True, False)
    """
    from caliper_schema.locating import walk
    from caliper_schema.registry import load

    names = set(FIXED_RULES) | set(rules.RULES)
    for path, node in walk(list(load().schemas.values())):
        if isinstance(node, dict):
            if _is_schema(path):
                names.update(checking.keyword_rule(key) for key in node if _asserts(key, node[key]))
            if isinstance(node.get("x-rule"), str):
                names.add(node["x-rule"])
            names.update(entry["rule"] for entry in node.get("x-lint", []))
    return frozenset(names)


_FALSE_ONLY = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems")


def _asserts(keyword: str, value: Any) -> bool:
    """True for a keyword that fails with an error of its own: those four only when they are ``false``
    (given a subschema, the errors are the subschema's)."""
    return keyword in ASSERTIONS and (keyword not in _FALSE_ONLY or value is False)


_NAMES = ("properties", "patternProperties", "$defs", "dependentSchemas", "dependentRequired", "mapping")
_DATA = ("enum", "const", "default", "examples")


def _is_schema(path: tuple[str | int, ...]) -> bool:
    """False for an object whose keys are names (of properties, definitions) or data, not keywords."""
    if path and path[-1] in _NAMES:
        return False
    return not any(isinstance(part, str) and (part in _DATA or part.startswith("x-")) for part in path)
