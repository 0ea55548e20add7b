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

from typing import Any, Literal, NamedTuple

from caliper_schema import hints
from caliper_schema.locating import pointer as join
from caliper_schema.registry import ENVELOPE_SHELL, Catalogue, load
from caliper_schema.reporting import Issue

ENVELOPE_KEYS = frozenset({"sensor", "sendTime", "dataVersion", "data"})

Kind = Literal["envelope", "event", "entity", "node"]
"""``node``: an id-less Caliper node such as a SystemIdentifier, which is neither event nor entity."""


class Unit(NamedTuple):
    """One value to check against one schema: a whole bare document, an envelope shell, or a data item.

    A named tuple rather than a frozen dataclass: one or more are made for every document, at half the cost.
    """

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


def _item(value: Any, where: str, catalogue: Catalogue) -> Unit | Issue:
    type_ = value.get("type") if isinstance(value, dict) else None
    schema = catalogue.types.get(type_) if isinstance(type_, str) else None
    if schema is not None:  # the common case first: an object of a known type
        return Unit(where, value, schema, catalogue.kind(schema))
    if not isinstance(value, dict):
        return Issue(
            where,
            "document.not-an-object",
            "error",
            f"is a JSON {json_type(value)}; a Caliper document is an object (an envelope, event or entity)",
        )
    if type_ is None:
        return Issue(
            join(where, "type"),
            "document.missing-type",
            "error",
            "has no type; every Caliper event and entity names its type (Event, ActivityEvent, ...)",
        )
    if not isinstance(type_, str):
        return Issue(join(where, "type"), "document.unknown-type", "error", "type must be a string")
    known = sorted(catalogue.types)
    hint = hints.nearest(type_, known) or hints.listing(known)
    return Issue(join(where, "type"), "document.unknown-type", "error", f"unknown type {type_!r}", hint=hint)


def _entries(value: Any, catalogue: Catalogue, max_items: int) -> list[Unit | Issue]:
    if not is_envelope(value):
        return [_item(value, "", catalogue)]
    entries: list[Unit | Issue] = [Unit("", value, ENVELOPE_SHELL, "envelope")]
    data = value.get("data")
    if isinstance(data, list):
        if len(data) > max_items:
            entries.append(Issue("/data", "limit.items", "error", f"{len(data):,} items; the limit is"
                                 f" {max_items:,} (the first {max_items:,} are checked)"))  # fmt: skip
        entries += [_item(item, f"/data/{index}", catalogue) for index, item in enumerate(data[:max_items])]
    return entries


def dispatch(
    value: Any, catalogue: Catalogue | None = None, *, max_items: int = 10_000
) -> tuple[list[Unit], list[Issue]]:
    """Split a parsed document into units to check, and issues for what cannot be dispatched."""
    entries = _entries(value, catalogue or load(), max_items)
    units = [entry for entry in entries if type(entry) is Unit]
    if len(units) == len(entries):
        return units, []
    return units, [entry for entry in entries if type(entry) is Issue]
