"""Step 3, dispatch: what each document is, and the one schema that checks it.

A document is an Envelope (it carries ``sensor``/``sendTime``/``dataVersion``/``data`` and no ``type``), or a
bare Event or Entity. Each event or entity, bare or inside ``data``, is checked against the single schema
its ``type`` selects, never against a union of every type: that is what keeps errors about the real
problem (``shared/reference/tooling-facts.md`` §2). An envelope is checked as a shell, then item by item.

>>> units, issues = dispatch({"type": "Event"})
>>> units[0].schema.rsplit("/", 1)[-1], units[0].kind, issues
('event.json', 'event', [])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from caliper_schema import hints
from caliper_schema.locating import pointer as join
from caliper_schema.registry import ENVELOPE_SHELL, Catalogue, load
from caliper_schema.reporting import Issue

ENVELOPE_KEYS = frozenset({"sensor", "sendTime", "dataVersion", "data"})

Kind = Literal["envelope", "event", "entity", "node"]
"""``node``: an id-less Caliper node such as a SystemIdentifier, which is neither event nor entity."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One value to check against one schema: a whole bare document, an envelope shell, or a data item."""

    pointer: str
    """Where the value sits in its document (``""`` or ``/data/3``)."""
    value: Any
    schema: str
    """The ``$id`` (with any fragment) of the schema that checks it."""
    kind: Kind


def is_envelope(value: Any) -> bool:
    """True for an object that looks like an Envelope rather than an event or entity."""
    return isinstance(value, dict) and "type" not in value and not ENVELOPE_KEYS.isdisjoint(value)


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _item(value: Any, where: str, catalogue: Catalogue) -> Iterator[Unit | Issue]:
    if not isinstance(value, dict):
        yield Issue(
            where,
            "document.not-an-object",
            "error",
            f"is a JSON {json_type(value)}; a Caliper document is an object (an envelope, event or entity)",
        )
        return
    type_ = value.get("type")
    if type_ is None:
        yield Issue(
            join(where, "type"),
            "document.missing-type",
            "error",
            "has no type; every Caliper event and entity names its type (Event, ActivityEvent, ...)",
        )
        return
    if not isinstance(type_, str):
        yield Issue(join(where, "type"), "document.unknown-type", "error", "type must be a string")
        return
    schema = catalogue.type_schema(type_)
    if schema is None:
        known = sorted(catalogue.types)
        hint = hints.nearest(type_, known) or hints.listing(known)
        yield Issue(
            join(where, "type"), "document.unknown-type", "error", f"unknown type {type_!r}", hint=hint
        )
        return
    yield Unit(where, value, schema, catalogue.kind(schema))


def _units(value: Any, catalogue: Catalogue, max_items: int) -> Iterator[Unit | Issue]:
    if not is_envelope(value):
        yield from _item(value, "", catalogue)
        return
    yield Unit("", value, ENVELOPE_SHELL, "envelope")
    data = value.get("data")
    if isinstance(data, list):
        if len(data) > max_items:
            yield Issue("/data", "limit.items", "error", f"{len(data):,} items; the limit is {max_items:,}"
                        f" (the first {max_items:,} are checked)")  # fmt: skip
        for index, item in enumerate(data[:max_items]):
            yield from _item(item, join("/data", index), catalogue)


def dispatch(
    value: Any, catalogue: Catalogue | None = None, *, max_items: int = 10_000
) -> tuple[list[Unit], list[Issue]]:
    """Split a parsed document into units to check, and issues for what cannot be dispatched."""
    units: list[Unit] = []
    issues: list[Issue] = []
    for entry in _units(value, catalogue or load(), max_items):
        if isinstance(entry, Unit):
            units.append(entry)
        else:
            issues.append(entry)
    return units, issues
