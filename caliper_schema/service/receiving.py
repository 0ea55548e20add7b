"""A posted envelope, from the request body to the validator's verdict and the events to store.

The body is read a chunk at a time and refused as soon as it passes the policy's document size limit
(``limits.max_bytes``, the validator's own): a client cannot make the service buffer more than that. The
verdict is :func:`caliper_schema.validate`'s under the configured :class:`~caliper_schema.policy.Policy`;
this module adds one issue of its own kind, ``document.not-an-envelope``, since the endpoint takes an
Envelope where the validator also accepts a bare event. Nothing here decides what is valid Caliper.

>>> received = judge(b'{"type": "Event"}', Policy())
>>> sorted(issue.rule for issue in received.report.errors)[:2]
['document.not-an-envelope', 'schema.required']
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from caliper_schema.policy import Policy
from caliper_schema.registry import load
from caliper_schema.reporting import Issue, Report, counted
from caliper_schema.validation.dispatching import is_envelope, json_type
from caliper_schema.validation.parsing import oversized
from caliper_schema.validation.pipeline import validate
from caliper_schema.validation.streams import Item, StreamChecker

SLOTS = ("actor", "object", "generated", "target", "referrer", "edApp", "group", "membership", "session",
         "federatedSession")  # fmt: skip
"""The event properties a stored event carries as they were sent (StoredEvent, facts §1.1)."""


class TooLarge(Exception):
    """The body passed the document size limit; ``size`` is what is known of it (at least the limit + 1)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


async def read_bounded(chunks: AsyncIterator[bytes], limit: int, declared: int | None = None) -> bytes:
    """The whole body, or :class:`TooLarge` as soon as it is known to pass ``limit`` bytes."""
    if declared is not None and declared > limit:
        raise TooLarge(declared)  # Content-Length says so: not a byte is read
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge(max(size, declared or 0))
        parts.append(chunk)
    return b"".join(parts)


def refused_for_size(size: int, policy: Policy) -> Report:
    """The validator's verdict on a document of ``size`` bytes it is not given."""
    document = oversized(size, policy.limits)
    issues = list(document.issues) if document is not None else []
    return Report.from_issues(policy.judge(issues))


@dataclass(frozen=True)
class Received:
    """The verdict on a body, its parsed value when it could be read, and the actors it names."""

    report: Report
    value: Any = None
    actors: tuple[str, ...] = field(default=())

    @property
    def sensor(self) -> str | None:
        """The envelope's sensor, when it has a string one."""
        sensor = self.value.get("sensor") if isinstance(self.value, dict) else None
        return sensor if isinstance(sensor, str) else None


def _lenient(body: bytes) -> Any:
    """The body as Python, for display and filtering only (the verdict is the validator's)."""
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def _read(body: bytes) -> Any:
    """A valid body, read fast; orjson refuses a few things the validator accepts (a byte order mark, an
    integer beyond 64 bits), which the stdlib then reads."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _lenient(body.removeprefix(b"\xef\xbb\xbf"))


def _not_an_envelope(value: Any) -> Issue:
    what = value.get("type") if isinstance(value, dict) else None
    shape = f"a bare {what}" if isinstance(what, str) else f"a JSON {json_type(value)} that is no Envelope"
    return Issue(
        "",
        "document.not-an-envelope",
        "error",
        f"this endpoint takes an Envelope {{sensor, sendTime, dataVersion, data}}; this is {shape}",
        hint="wrap events in an envelope: "
        '{"sensor": ..., "sendTime": ..., "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", '
        '"data": [...]}',
    )


def actors_of(value: Any) -> tuple[str, ...]:
    """The actor ids and emails the items of an envelope name (for the page's actor filter)."""
    data = value.get("data") if isinstance(value, dict) else None
    found: list[str] = []
    for item in data if isinstance(data, list) else []:
        actor = item.get("actor") if isinstance(item, dict) else None
        if isinstance(actor, str):
            found.append(actor)
        elif isinstance(actor, dict):
            found += [actor[key] for key in ("id", "email") if isinstance(actor.get(key), str)]
    return tuple(dict.fromkeys(found))


HTTP_HINTS = {
    "json.trailing-data": "send one envelope per request: put the events in its data array",
    "json.encoding": "send the body encoded as UTF-8",
    "json.bom": "RFC 8259: JSON text MUST NOT begin with a BOM; send the body as UTF-8 without one",
}
"""The hints, by rule, an HTTP client can follow where the validator's speak to a command-line user of
files (save the file..., use a .jsonl file or --jsonl)."""


def for_http(report: Report) -> Report:
    """``report`` with the hints of :data:`HTTP_HINTS` in place of the validator's; all else as it was.

    >>> cli = validate(b"{}\\n{}\\n")
    >>> for_http(cli).errors[0].hint
    'send one envelope per request: put the events in its data array'
    """

    def told(issues: tuple[Issue, ...]) -> tuple[Issue, ...]:
        return tuple(
            replace(issue, hint=HTTP_HINTS[issue.rule]) if issue.rule in HTTP_HINTS else issue
            for issue in issues
        )

    return replace(report, errors=told(report.errors), warnings=told(report.warnings))


_NOT_READ = ("json.", "limit.size", "limit.depth", "limit.string")
"""The rules whose error means the body was not parsed (``limit.items`` and the closing ``limit.issues`` are
about a body read in full, which may still be no envelope)."""


def judge(body: bytes, policy: Policy) -> Received:
    """The validator's verdict on a posted body, as the service answers it."""
    report = for_http(validate(body, policy=policy))
    parse_failed = any(issue.rule.startswith(_NOT_READ) for issue in report.errors)
    value = None if parse_failed else _read(body) if report.ok else _lenient(body)
    if value is not None and not is_envelope(value):
        extra = policy.judge([_not_an_envelope(value)])
        shown = Report.from_issues([*extra, *report.errors, *report.warnings], documents=report.documents)
        # What the cap hid still counts: the answer's closing issue states it, the counts keep it.
        report = replace(shown, hidden_errors=report.hidden_errors, hidden_warnings=report.hidden_warnings)
    return Received(report, value, actors_of(value))


def events_of(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    """The events among an accepted envelope's data items (entities are not events: not stored as such)."""
    catalogue = load()
    events = []
    for item in envelope["data"]:
        schema = catalogue.type_schema(item["type"])
        if schema is not None and catalogue.kind(schema) == "event":
            events.append(item)
    return events


def actor_keys(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """An event's actor id and email, for the list endpoint's ``actorId`` and ``actorEmail`` filters."""
    actor = event.get("actor")
    if isinstance(actor, str):
        return actor, None
    if isinstance(actor, dict):
        found = actor.get("id"), actor.get("email")
        return tuple(value if isinstance(value, str) else None for value in found)  # type: ignore[return-value]
    return None, None


@dataclass(frozen=True)
class Across:
    """The stream rules' findings over every envelope accepted: what no single verdict could see."""

    findings: tuple[dict[str, Any], ...]
    """Each issue's JSON form with the ``envelope`` (its id) it is in."""
    envelopes: int
    events: int
    runs: int

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(finding["severity"] == "error" for finding in self.findings)

    @property
    def message(self) -> str:
        """A one-line summary."""
        warnings = len(self.findings) - self.errors
        seen = f"{counted(self.events, 'event')} in {counted(self.runs, 'run')}"
        found = f"{counted(self.errors, 'error')}, {counted(warnings, 'warning')}"
        return f"Across the {counted(self.envelopes, 'envelope')} accepted ({seen}): {found}."

    def to_response(self) -> dict[str, Any]:
        """The body of ``GET /_control/stream``."""
        return {
            "status": "error" if self.errors else "success", "message": self.message,
            "envelopes": self.envelopes, "events": self.events, "runs": self.runs,
            "findings": list(self.findings),
        }  # fmt: skip


def across(accepted: Iterable[tuple[int, bytes]], policy: Policy) -> Across:
    """The stream rules (``stream.*``) over the accepted envelopes, oldest first. Each was validated when
    it was received, so the rules run alone; envelopes refused are not part of the stream: the service
    would not have taken their events."""
    checker = StreamChecker(policy, documents=False)
    ids: list[int] = []
    findings = []
    for envelope_id, body in accepted:
        ids.append(envelope_id)
        findings += checker.feed(Item(body, f"envelope #{envelope_id}"))
    findings += checker.finish()
    findings.sort(key=lambda finding: (finding.document, finding.issue.line or 0))
    found = tuple({"envelope": ids[finding.document], **finding.issue.to_dict()} for finding in findings)
    return Across(found, checker.documents, checker.events, checker.runs)
