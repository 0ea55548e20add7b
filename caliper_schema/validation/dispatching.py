"""Step 3, dispatch: what each document is, and the one schema that checks it.

A document is an Envelope (it carries ``sensor``/``sendTime``/``dataVersion``/``data`` and no ``type``), or a
bare Event or Entity. Each event or entity, bare or inside ``data``, is checked against the single schema
its ``type`` selects, never against a union of every type: that is what keeps errors about the real
problem (``shared/reference/tooling-facts.md`` §2). An envelope is checked as a shell, then item by item.
An object of no known type goes to the union of every type (``DOCUMENT``): it is checked against what all
events (or all entities) have in common, so that its other faults are reported with its type's.

>>> units, issues = dispatch({"type": "Event"})
>>> units[0].schema.rsplit("/", 1)[-1], units[0].kind, issues
('event.json', 'event', [])
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from caliper_schema import hints
from caliper_schema.locating import pointer as join
from caliper_schema.registry import DOCUMENT, ENVELOPE_SHELL, Catalogue, load
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


def carries_timeback(value: Any) -> bool:
    """True for a Timeback event, or an envelope that carries one: what Timeback's words are for.

    >>> carries_timeback({"type": "ViewEvent"}), carries_timeback({"data": [{"type": "TimeSpentEvent"}]})
    (False, True)
    """
    if not isinstance(value, dict):
        return False
    if "type" not in value and isinstance(value.get("data"), list):
        return any(_is_timeback(item) for item in value["data"])
    return _is_timeback(value)


def _is_timeback(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    catalogue = load()
    type_ = value.get("type")
    if isinstance(type_, str) and type_ in catalogue.timeback_types:
        return catalogue.kind(catalogue.types[type_]) == "event"
    return value.get("profile") == "TimebackProfile"


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
    found = catalogue.typed.get(type_) if isinstance(type_, str) else None
    if found is not None:  # the common case first: an object of a known type
        return Unit(where, value, *found)
    if not isinstance(value, dict):
        message = f"is a JSON {json_type(value)}; a Caliper document is an object"
        return Issue(where, "document.not-an-object", "error", message + " (an envelope, event or entity)")
    # Still checked, against what every event (or entity) has in common, so that its other faults show in
    # this report too; checking says what is wrong with its type (:func:`untyped`).
    return Unit(where, value, DOCUMENT, "event" if "action" in value else "entity")


def untyped(unit: Unit) -> Issue:
    """The issue of a unit of no known type (dispatched to the union of all, ``DOCUMENT``): its type is
    missing, not a string, or not a Caliper or Timeback type; and only what every event or entity has in
    common is checked.

    >>> untyped(dispatch({"type": "Webpage", "id": "https://example.edu/pages/1"})[0][0]).message
    "'Webpage' is not a Caliper type; only what every entity has is checked"
    """
    type_, where, kind = unit.value.get("type"), join(unit.pointer, "type"), unit.kind
    examples = "timeback" if unit.value.get("profile") == "TimebackProfile" else kind
    name_it = f"name its type: {_EXAMPLES[examples]}"
    if type_ is None:
        message = f"has no type, so only what every {kind} has is checked"
        return Issue(where, "document.missing-type", "error", message, hint=name_it)
    if not isinstance(type_, str):
        message = f"type must be a string, not {article_of(type_)}; only what every {kind} has is checked"
        return Issue(where, "document.unknown-type", "error", message, hint=name_it)
    message, nearest = unknown_type(type_, sorted(load().types))
    message += f"; only what every {kind} has is checked"
    return Issue(where, "document.unknown-type", "error", message, hint=nearest or name_it)


_EXAMPLES = {
    "event": "an event type such as `Event`, `ViewEvent` or `NavigationEvent`",
    "entity": "an entity type such as `Person`, `DigitalResource` or `SoftwareApplication`",
    "timeback": "a Timeback event is an `ActivityEvent` or a `TimeSpentEvent`",
}


def article_of(value: Any) -> str:
    """The JSON type of ``value`` after its article: ``an object``, ``a string``, ``null``."""
    name = json_type(value)
    return name if name == "null" else hints.article(name)


def unknown_type(type_: str, known: list[str]) -> tuple[str, str | None]:
    """The message and hint for a ``type`` that names no Caliper or Timeback type: which family it is not
    of (Timeback's only when the nearest names are Timeback types), and the nearest of ``known``.

    >>> unknown_type("Webpage", ["Person", "WebPage"])
    ("'Webpage' is not a Caliper type", 'did you mean `WebPage`?')
    >>> unknown_type("TimebackUsr", ["Person", "TimebackUser"])[0]
    "'TimebackUsr' is not a Caliper or Timeback type"
    """
    close = hints.closest(type_, known)
    timeback = load().timeback_types
    family = "Caliper or Timeback" if any(name in timeback for name in close) else "Caliper"
    return f"{type_!r} is not a {family} type", hints.nearest(type_, known)


def _entries(value: Any, catalogue: Catalogue, max_items: int) -> list[Unit | Issue]:
    if not is_envelope(value):
        return [_item(value, "", catalogue)]
    entries: list[Unit | Issue] = [Unit("", value, ENVELOPE_SHELL, "envelope")]
    data = value.get("data")
    if isinstance(data, list):
        if len(data) > max_items:
            entries.append(Issue("/data", "limit.items", "error", f"{len(data):,} items; the limit is"
                                 f" {max_items:,} (the first {max_items:,} are checked)"))  # fmt: skip
            data = data[:max_items]
        entries += [_item(item, f"/data/{index}", catalogue) for index, item in enumerate(data)]
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
