"""Invalid documents: a valid one with exactly one labelled mutation, and where its error should be.

A mutation takes a copy of a valid document and the :class:`~caliper_schema.generation.building.Site` list its
builder noted, changes one value, and says where the validator should report it (a JSON Pointer) and under
which rule. The schema mutations (:data:`SCHEMA_MUTATIONS`) are read off the plans, so every schema gets them:

* ``remove-required``: delete a required property (conditional ones too: a Launched ``federatedSession``);
* ``wrong-type``: a value of another JSON type (``42`` for a string, ``[]`` for an object);
* ``bad-enum``: a near miss of an enum value (``completed``);
* ``bad-const``: a near miss of a constant (``Http://purl.imsglobal.org/ctx/caliper/v1p2``);
* ``bad-format``: a malformed date-time, IRI, email, UUID URN or duration (:data:`MALFORMED`);
* ``extra-property``: an unknown property on a closed object;
* ``slot-type``: an entity of a type its slot does not admit (a Person where a Rating is required);
* ``wrong-action``: a Caliper action the event type does not allow.

:data:`RULE_MUTATIONS` breaks each rule of the rule layer (:mod:`~caliper_schema.validation.rules`) alone, and
:data:`LINT_MUTATIONS` each kind of ``x-lint``: those are labelled ``rule:<id>`` and ``lint:<id>``. A
mutation whose issue is a warning by default is *strict*: the document is invalid under ``strict=True``.

>>> import random
>>> from caliper_schema.generation.building import Builder
>>> from caliper_schema.generation.drawing import RandomDraw
>>> draw = RandomDraw(random.Random(2))
>>> builder = Builder(draw, record_sites=True)
>>> document = builder.document("ViewEvent")
>>> mutant = mutate(document, builder, draw, labels=["remove-required"])
>>> mutant.label, mutant.rule, mutant.pointer.lstrip("/") not in mutant.document
('remove-required', 'schema.required', True)
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from caliper_schema.generation.building import MAX_DEPTH, Builder, Site
from caliper_schema.generation.drawing import Draw
from caliper_schema.generation.faking import EPOCH, timestamp
from caliper_schema.generation.planning import Choice, Const, Either, Real, Record, Slot, Text
from caliper_schema.locating import parent_of, to_pointer, unescape, walk
from caliper_schema.locating import pointer as join
from caliper_schema.registry import BASE_URI, CALIPER_CONTEXT, load


@dataclass(frozen=True)
class Mutant:
    """An invalid document, what was done to it, and the issue that should say so."""

    document: dict[str, Any]
    label: str
    """What was done: ``remove-required``, ``bad-format``, ``rule:timeback.time-range``, ..."""
    pointer: str
    """Where the validator should report it (or at the parent, for a key the schema reports on its object)."""
    rule: str | None
    """The rule id of that issue: the one the validator reports when the mutation alone cannot say (a
    wrong JSON type against an enum); ``None`` only if it reports none there."""
    strict: bool = False
    """True when the issue is a warning by default: the document is invalid under ``strict=True`` only."""


@dataclass(frozen=True)
class Change:
    """What a mutation did: where the issue should be, its rule, and a label when not the mutation's own."""

    pointer: str
    rule: str | None
    label: str | None = None


@dataclass
class Target:
    """What a mutation works on: a copy of the valid document, the builder's sites, a builder for more."""

    document: dict[str, Any]
    sites: list[Site]
    builder: Builder

    def set(self, where: str, value: Any) -> None:
        """Write ``value`` at ``where`` (which must exist or be a new key of an existing object)."""
        parent, key = self.locate(where)
        parent[key] = value

    def delete(self, where: str) -> None:
        """Remove the member or item at ``where``."""
        parent, key = self.locate(where)
        del parent[key]

    def get(self, where: str) -> Any:
        """The value at ``where``."""
        parent, key = self.locate(where)
        return parent[key]

    def locate(self, where: str) -> tuple[Any, Any]:
        """The container holding ``where`` and the key or index in it."""
        tokens = [unescape(token) for token in where.split("/")[1:]]
        node: Any = self.document
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node[token]
        last = tokens[-1]
        return node, int(last) if isinstance(node, list) else last


Mutation = Callable[[Target, Draw], Change | None]
"""Changes one value of ``target.document`` and says where; ``None`` (the document untouched) when the
document offers nothing to mutate this way."""


def _pick(draw: Draw, sites: Iterable[Site], keep: Callable[[Site], bool]) -> Site | None:
    unique = {site.pointer: site for site in sites if keep(site)}  # a value noted twice counts once
    return draw.choice(list(unique.values())) if unique else None


def _near_miss(value: Any, taken: Iterable[Any]) -> str:
    text, taken = str(value), set(map(str, taken))
    for candidate in (text[:1].swapcase() + text[1:], text.upper(), text + "s", text + "_"):
        if candidate not in taken:
            return candidate
    return text + "-x"


# --- schema mutations -----------------------------------------------------------------------------------


def remove_required(target: Target, draw: Draw) -> Change | None:
    """Delete a property the schema requires (``type`` aside: that is ``slot-type``'s)."""
    site = _pick(draw, target.sites, lambda s: s.required and s.name != "type")
    if site is None:
        return None
    target.delete(site.pointer)
    return Change(site.pointer, "schema.required")


def _other_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 42
    return [] if isinstance(value, dict) else {"0": value}


def wrong_type(target: Target, draw: Draw) -> Change | None:
    """Replace a value by one of another JSON type."""
    site = _pick(draw, target.sites, lambda s: s.pointer != "" and s.name != "type")
    if site is None:
        return None
    target.set(site.pointer, _other_type(target.get(site.pointer)))
    if isinstance(site.plan, Record) and site.owner is None and parent_of(site.pointer) == "/data":
        return Change(site.pointer, "document.not-an-object")
    untyped = isinstance(site.plan, Const | Choice | Either)  # enums and constants may declare no type
    return Change(site.pointer, None if untyped else "schema.type")


def bad_enum(target: Target, draw: Draw) -> Change | None:
    """Replace an enum value by a near miss (``completed`` for ``Completed``)."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Choice) and isinstance(s.value, str))
    if site is None or not isinstance(site.plan, Choice):
        return None
    target.set(site.pointer, _near_miss(site.value, site.plan.values + site.plan.avoided))
    return Change(site.pointer, site.plan.rule)


def bad_const(target: Target, draw: Draw) -> Change | None:
    """Replace a constant (not a ``type``) by a near miss (``v1p1`` data versions, ``timebackProfile``)."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Const) and s.name != "type")
    if site is None or not isinstance(site.plan, Const):
        return None
    target.set(site.pointer, _near_miss(site.plan.value, [site.plan.value]))
    return Change(site.pointer, site.plan.rule)


MALFORMED = {
    "date-time": ("2024-04-24", "2024-04-24 14:12:00", "24/04/2024 14:12"),
    "iri": ("example.edu/users/554433", "users/554433", "https://example.edu/users/ada lovelace"),
    "email": ("ada.lovelace.example.edu", "ada.lovelace(at)example.edu"),
    "event-id": ("urn:uuid:1234", "c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "urn:uuid:c51570e4f8ed4c18bb3a"),
    "duration": ("30 minutes", "PT", "P1.5D"),
}
"""Values of each form that its schema rejects, as people get them wrong."""


def bad_format(target: Target, draw: Draw) -> Change | None:
    """Replace a formatted string (date-time, IRI, email, UUID URN, duration) by a malformed one."""
    site = _pick(
        draw, target.sites, lambda s: isinstance(s.plan, Text) and s.plan.hard and s.plan.form in MALFORMED
    )
    if site is None or not isinstance(site.plan, Text):
        return None
    target.set(site.pointer, draw.choice(MALFORMED[site.plan.form]))
    return Change(site.pointer, site.plan.rule)


UNKNOWN_NAMES = ("colour", "userId", "timestamp", "sub_type")


def _add_unknown(target: Target, draw: Draw, closure: str) -> tuple[str, Record] | None:
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Record) and s.plan.closure == closure
                 and isinstance(s.value, dict))  # fmt: skip
    if site is None or not isinstance(site.plan, Record):
        return None
    name = next(n for n in UNKNOWN_NAMES if n not in site.plan.properties)
    where = join(site.pointer, name)
    target.set(where, "blue" if name == "colour" else 1)
    return where, site.plan


def extra_property(target: Target, draw: Draw) -> Change | None:
    """Add an unknown property to a closed object (custom data belongs in ``extensions``)."""
    added = _add_unknown(target, draw, "closed")
    return Change(added[0], "schema.unknown-property") if added else None


def _entity_types() -> list[str]:
    catalogue = load()
    return [name for name, uri in catalogue.types.items() if catalogue.kind(uri) != "event"]


def slot_type(target: Target, draw: Draw) -> Change | None:
    """Put an entity of a type the slot does not admit in an entity slot."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Slot) and isinstance(s.value, dict | str))
    if site is None or not isinstance(site.plan, Slot):
        return None
    allowed = {name for name, _ in site.plan.targets}
    wrong = draw.choice([name for name in _entity_types() if name not in allowed])
    record = target.builder.plans.document(wrong)
    target.set(site.pointer, target.builder.record(record, site.pointer, MAX_DEPTH - 1))
    return Change(join(site.pointer, "type"), site.plan.rule)


def wrong_action(target: Target, draw: Draw) -> Change | None:
    """Give an event a Caliper action its type does not allow (``Viewed`` for a SessionEvent)."""
    vocabulary = target.builder.plans.at(BASE_URI + "caliper/vocab/action.json")
    assert isinstance(vocabulary, Choice)

    def disallowed(site: Site) -> list[str]:
        plan = site.plan.properties.get("action") if isinstance(site.plan, Record) else None
        if isinstance(plan, Const):
            allowed = [plan.value]
        elif isinstance(plan, Choice):
            allowed = [*plan.values, *plan.avoided]
        else:
            return []
        return [action for action in vocabulary.values if action not in allowed]

    site = _pick(draw, target.sites, lambda s: s.owner is None and bool(disallowed(s)))
    if site is None or not isinstance(site.plan, Record):
        return None
    where = join(site.pointer, "action")
    target.set(where, draw.choice(disallowed(site)))
    plan = site.plan.properties["action"]
    return Change(where, plan.rule if isinstance(plan, Const | Choice) else None)


SCHEMA_MUTATIONS: dict[str, Mutation] = {
    "remove-required": remove_required,
    "wrong-type": wrong_type,
    "bad-enum": bad_enum,
    "bad-const": bad_const,
    "bad-format": bad_format,
    "extra-property": extra_property,
    "slot-type": slot_type,
    "wrong-action": wrong_action,
}


# --- lint mutations: accepted by default, warned about (invalid under strict) ---------------------------


def _lint_change(site: Site | None, rule: str | None) -> Change | None:
    return Change(site.pointer, rule, f"lint:{rule}") if site and rule else None


def datetime_form(target: Target, draw: Draw) -> Change | None:
    """Write a date-time as RFC 3339 allows but Caliper does not: an offset, no milliseconds."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Text) and s.plan.form == "date-time"
                 and s.plan.lint is not None and isinstance(s.value, str))  # fmt: skip
    if site is None or not isinstance(site.plan, Text):
        return None
    target.set(site.pointer, target.get(site.pointer)[:19] + "+00:00")  # the same second: ranges stay ordered
    return _lint_change(site, site.plan.lint)


def decimal_literal(target: Target, draw: Draw) -> Change | None:
    """Write a decimal as an integer (``50`` for ``50.0``)."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Real) and s.plan.decimal)
    if site is None or not isinstance(site.plan, Real):
        return None
    target.set(site.pointer, int(target.get(site.pointer)))
    return _lint_change(site, site.plan.lint)


def avoided_value(target: Target, draw: Draw) -> Change | None:
    """Use an enum value a lint warns about (the subject ``Other``, the action ``MarkedAsUnRead``)."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Choice) and bool(s.plan.avoided))
    if site is None or not isinstance(site.plan, Choice):
        return None
    target.set(site.pointer, draw.choice(site.plan.avoided))
    return _lint_change(site, site.plan.avoided_rule)


def expected_missing(target: Target, draw: Draw) -> Change | None:
    """Leave out a property only a lint asks for (Timeback's ``object.app``)."""
    site = _pick(draw, target.sites, lambda s: s.owner is not None and s.name in s.owner.expected)
    if site is None or site.owner is None:
        return None
    target.delete(site.pointer)
    return _lint_change(site, site.owner.expected_rule)


def linted_property(target: Target, draw: Draw) -> Change | None:
    """Add an unknown property to an object the Timeback service reads but does not close."""
    added = _add_unknown(target, draw, "linted")
    return Change(added[0], added[1].closure_rule, f"lint:{added[1].closure_rule}") if added else None


def soft_format(target: Target, draw: Draw) -> Change | None:
    """Break a form only a lint asks for (a sensor id that is not an IRI)."""
    site = _pick(draw, target.sites, lambda s: isinstance(s.plan, Text) and not s.plan.hard)
    if site is None or not isinstance(site.plan, Text):
        return None
    target.set(site.pointer, "my-sensor")
    return _lint_change(site, site.plan.rule)


LINT_MUTATIONS: dict[str, Mutation] = {
    "lint-datetime-form": datetime_form,
    "lint-decimal-literal": decimal_literal,
    "lint-avoided-value": avoided_value,
    "lint-expected-missing": expected_missing,
    "lint-unknown-property": linted_property,
    "lint-soft-format": soft_format,
}


# --- rule mutations: each rule of the rule layer broken alone -------------------------------------------

Breaker = Callable[[dict[str, Any], Draw], str | None]
"""Breaks one rule in a document (changed in place) and returns the pointer of the issue; returns ``None``,
the document untouched, when that document cannot break it (a Timeback rule in a ViewEvent)."""
EXTRA_CONTEXT = "https://example.edu/ctx/custom.jsonld"


def _units(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, document) for a bare event or entity, or each object in an envelope's ``data``."""
    if isinstance(document.get("data"), list) and "type" not in document:
        for index, item in enumerate(document["data"]):
            if isinstance(item, dict):
                yield join("/data", index), item
    else:
        yield "", document


def _events(document: dict[str, Any], *types: str) -> list[tuple[str, dict[str, Any]]]:
    catalogue = load()
    return [
        (where, unit) for where, unit in _units(document)
        if unit.get("type") in catalogue.types and catalogue.kind(catalogue.types[unit["type"]]) == "event"
        and (not types or unit["type"] in types)
    ]  # fmt: skip


def _drawn_event(
    document: dict[str, Any],
    draw: Draw,
    *types: str,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """(pointer, event) of one event of these types (of any type, given none) that ``keep`` accepts,
    drawn from the document; None when there is none."""
    events = [(where, event) for where, event in _events(document, *types) if keep is None or keep(event)]
    return draw.choice(events) if events else None


def _has_items(event: dict[str, Any]) -> bool:
    return bool(event["generated"]["items"])


def _moved(stamp: str, seconds: int) -> str:
    moment = datetime.fromisoformat(stamp) + timedelta(seconds=seconds)
    return timestamp(int((moment - EPOCH).total_seconds() * 1000))


def _metric(unit: dict[str, Any], kind: str) -> int | None:
    return next((i for i, item in enumerate(unit["generated"]["items"]) if item.get("type") == kind), None)


def _items(where: str) -> str:
    return where + "/generated/items"


def _unit_with(document: dict[str, Any], draw: Draw, key: str) -> tuple[str, dict[str, Any]] | None:
    """One of the document's units (its root, or an envelope's items) that has ``key``, drawn."""
    units = [(where, unit) for where, unit in _units(document) if key in unit]
    return draw.choice(units) if units else None


def context_missing(document: dict[str, Any], draw: Draw) -> str | None:
    """Drop a document's ``@context``."""
    picked = _unit_with(document, draw, "@context")
    if picked is None:
        return None
    where, unit = picked
    del unit["@context"]
    return where + "/@context"


def context_order(document: dict[str, Any], draw: Draw) -> str | None:
    """List the Caliper context first in an ``@context`` array."""
    picked = _unit_with(document, draw, "@context")
    if picked is None:
        return None
    where, unit = picked
    unit["@context"] = [CALIPER_CONTEXT, EXTRA_CONTEXT]
    return where + "/@context/1"


def not_a_uuid(document: dict[str, Any], draw: Draw) -> str | None:
    """An event id of the UUID shape but no RFC 4122 version (``...-0xxx-...``)."""
    if (found := _drawn_event(document, draw)) is None:
        return None
    where, event = found
    event["id"] = event["id"][:23] + "0" + event["id"][24:]
    return where + "/id"


def copied_without_generated(document: dict[str, Any], draw: Draw) -> str | None:
    """A Copied ResourceManagementEvent that names no copy."""
    if (found := _drawn_event(document, draw, "ResourceManagementEvent")) is None:
        return None
    where, event = found
    event["action"] = "Copied"
    event.pop("generated", None)
    return where + "/generated"


def duplicate_event_id(document: dict[str, Any], draw: Draw) -> str | None:
    """Two events of one envelope with the same id (the second repeats the first's)."""
    events = _events(document)
    if "data" not in document or not events:
        return None
    if len(events) == 1:
        document["data"].append(copy.deepcopy(events[0][1]))
        return join("/data", len(document["data"]) - 1) + "/id"
    events[1][1]["id"] = events[0][1]["id"]
    return events[1][0] + "/id"


def event_after_send(document: dict[str, Any], draw: Draw) -> str | None:
    """An event that happens a second after its envelope was sent."""
    if "sendTime" not in document or (found := _drawn_event(document, draw)) is None:
        return None
    where, event = found
    event["eventTime"] = _moved(document["sendTime"], 1)
    return where + "/eventTime"


def placeholder(document: dict[str, Any], draw: Draw) -> str | None:
    """An actor (or an entity's id) left as a template's ``YOUR_USER_ID``."""
    units = [(where, unit) for where, unit in _units(document) if "actor" in unit or "id" in unit]
    if not units:
        return None
    where, unit = draw.choice(units)
    actor = unit.get("actor")
    if isinstance(actor, dict):
        actor["id"] = "https://example.edu/users/YOUR_USER_ID"
        return where + "/actor/id"
    key = "actor" if "actor" in unit else "id"
    unit[key] = "https://example.edu/users/YOUR_USER_ID"
    return join(where, key)


def xp_earned_missing(document: dict[str, Any], draw: Draw) -> str | None:
    """An ActivityEvent without its ``xpEarned`` metric."""
    if (found := _drawn_event(document, draw, "ActivityEvent")) is None:
        return None
    where, event = found
    items = event["generated"]["items"]
    items[:] = [item for item in items if item.get("type") != "xpEarned"]
    return _items(where)


def question_pairing(document: dict[str, Any], draw: Draw) -> str | None:
    """``totalQuestions`` without ``correctQuestions``."""
    if (found := _drawn_event(document, draw, "ActivityEvent")) is None:
        return None
    where, event = found
    items = event["generated"]["items"]
    items[:] = [item for item in items if item.get("type") != "correctQuestions"]
    if _metric(event, "totalQuestions") is None:
        items.append({"type": "totalQuestions", "value": 10})
    return join(_items(where), _metric(event, "totalQuestions") or 0)


def correct_exceeds_total(document: dict[str, Any], draw: Draw) -> str | None:
    """One more correct answer than questions."""
    if (found := _drawn_event(document, draw, "ActivityEvent")) is None:
        return None
    where, event = found
    items = event["generated"]["items"]
    total = _metric(event, "totalQuestions")
    if total is None:
        items += [{"type": "totalQuestions", "value": 10}, {"type": "correctQuestions", "value": 10}]
        total = len(items) - 2
    correct = _metric(event, "correctQuestions")
    assert correct is not None
    items[correct]["value"] = items[total]["value"] + 1
    return join(_items(where), correct) + "/value"


def count_not_whole(document: dict[str, Any], draw: Draw) -> str | None:
    """Half a mastered unit."""
    if (found := _drawn_event(document, draw, "ActivityEvent")) is None:
        return None
    where, event = found
    items = event["generated"]["items"]
    if (index := _metric(event, "masteredUnits")) is None:
        items.append({"type": "masteredUnits", "value": 0})
        index = len(items) - 1
    items[index]["value"] = 2.5
    return join(_items(where), index) + "/value"


def pct_complete_range(document: dict[str, Any], draw: Draw) -> str | None:
    """A course 120 % complete."""
    if (found := _drawn_event(document, draw, "ActivityEvent")) is None:
        return None
    where, event = found
    event["generated"].setdefault("extensions", {})["pctCompleteApp"] = 120
    return where + "/generated/extensions/pctCompleteApp"


def duplicate_metric(document: dict[str, Any], draw: Draw) -> str | None:
    """The first metric of a collection sent twice."""
    if (found := _drawn_event(document, draw, "ActivityEvent", "TimeSpentEvent")) is None:
        return None
    where, event = found
    items = event["generated"]["items"]
    if not items:
        return None
    items.append(copy.deepcopy(items[0]))
    return join(_items(where), len(items) - 1) + "/type"


def time_range(document: dict[str, Any], draw: Draw) -> str | None:
    """More than a day of time spent (90000 s)."""
    if (found := _drawn_event(document, draw, "TimeSpentEvent", keep=_has_items)) is None:
        return None
    where, event = found
    event["generated"]["items"][0]["value"] = 90_000
    return join(_items(where), 0) + "/value"


def window_order(document: dict[str, Any], draw: Draw) -> str | None:
    """A time-spent window that starts a minute after it ends."""
    if (found := _drawn_event(document, draw, "TimeSpentEvent", keep=_has_items)) is None:
        return None
    where, event = found
    item = event["generated"]["items"][0]
    item.setdefault("endDate", event["eventTime"])
    item["startDate"] = _moved(item["endDate"], 60)
    return join(_items(where), 0) + "/endDate"


def window_after_event(document: dict[str, Any], draw: Draw) -> str | None:
    """A time-spent window that ends a minute after the event."""
    if (found := _drawn_event(document, draw, "TimeSpentEvent", keep=_has_items)) is None:
        return None
    where, event = found
    event["generated"]["items"][0]["endDate"] = _moved(event["eventTime"], 60)
    return join(_items(where), 0) + "/endDate"


# --- the best-practice tier: each SHOULD broken alone (found only with Policy(best_practice=True)) ------


def _objects_of(document: dict[str, Any], type_: str) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, object) for every object of ``type_`` in the document."""
    return [(to_pointer("", path), node) for path, node in walk(document)
            if isinstance(node, dict) and node.get("type") == type_]  # fmt: skip


def _drop_one(document: dict[str, Any], draw: Draw, type_: str, names: tuple[str, ...]) -> str | None:
    """Drop one of ``names`` from an object of ``type_`` that has it."""
    present = [(where, node, name) for where, node in _objects_of(document, type_) for name in names
               if name in node]  # fmt: skip
    if not present:
        return None
    where, node, name = draw.choice(present)
    del node[name]
    return join(where, name)


def profile_missing(document: dict[str, Any], draw: Draw) -> str | None:
    """An event that names no profile (one whose schema does not require it)."""
    catalogue = load()
    found = _drawn_event(document, draw, keep=lambda event: "profile" in event
                         and "profile" not in catalogue.required(catalogue.types[event["type"]]))  # fmt: skip
    if found is None:
        return None
    where, event = found
    del event["profile"]
    return where + "/profile"


def uuid_v1(document: dict[str, Any], draw: Draw) -> str | None:
    """An event id that is a version 1 UUID (RFC 4122, but not the version 4 Caliper recommends)."""
    if (found := _drawn_event(document, draw)) is None:
        return None
    where, event = found
    event["id"] = event["id"][:23] + "1" + event["id"][24:]
    return where + "/id"


def attempt_properties(document: dict[str, Any], draw: Draw) -> str | None:
    """An Attempt without its assignee, assignable or count."""
    return _drop_one(document, draw, "Attempt", ("assignee", "assignable", "count"))


def score_properties(document: dict[str, Any], draw: Draw) -> str | None:
    """A Score without its attempt, maxScore or scoreGiven."""
    return _drop_one(document, draw, "Score", ("attempt", "maxScore", "scoreGiven"))


def result_properties(document: dict[str, Any], draw: Draw) -> str | None:
    """A Result without its attempt, maxResultScore or resultScore."""
    return _drop_one(document, draw, "Result", ("attempt", "maxResultScore", "resultScore"))


def timed_out_session(document: dict[str, Any], draw: Draw) -> str | None:
    """The Session a TimedOut SessionEvent ends, given without its duration."""
    timed_out = _drawn_event(document, draw, "SessionEvent", keep=lambda event: event["action"] == "TimedOut")
    if timed_out is None:
        return None
    where, event = timed_out
    ended = event["eventTime"]
    event["object"] = {"id": "https://example.edu/sessions/6a1f0c", "type": "Session",
                       "user": "https://example.edu/users/554433", "startedAtTime": _moved(ended, -3600),
                       "endedAtTime": ended}  # fmt: skip
    return where + "/object/duration"


def federated_session(document: dict[str, Any], draw: Draw) -> str | None:
    """An event in an LTI session (its session an LtiSession) that references no federatedSession."""
    if (found := _drawn_event(document, draw, keep=lambda event: "federatedSession" not in event)) is None:
        return None
    where, event = found
    event["session"] = {"id": "https://lms.example.edu/lti/sessions/b533eb02823f", "type": "LtiSession"}
    return where + "/federatedSession"


def media_current_time(document: dict[str, Any], draw: Draw) -> str | None:
    """A MediaEvent whose target is a MediaLocation with no currentTime."""
    if (found := _drawn_event(document, draw, "MediaEvent")) is None:
        return None
    where, event = found
    event["target"] = {"id": "https://example.edu/videos/1042#location", "type": "MediaLocation"}
    return where + "/target/currentTime"


def context_role(document: dict[str, Any], draw: Draw) -> str | None:
    """A Membership whose only role is a sub-role, without its context role."""
    memberships = _objects_of(document, "Membership")
    if not memberships:
        return None
    where, membership = draw.choice(memberships)
    membership["roles"] = ["Instructor#TeachingAssistant"]
    return where + "/roles/0"


def empty_value(document: dict[str, Any], draw: Draw) -> str | None:
    """An event that sends empty ``extensions`` rather than leaving them out."""
    if (found := _drawn_event(document, draw)) is None:
        return None
    where, event = found
    event["extensions"] = {}
    return where + "/extensions"


def reply_to(document: dict[str, Any], draw: Draw) -> str | None:
    """A reply Message ("Re: ...") that does not say what it replies to."""
    messages = _objects_of(document, "Message")
    if not messages:
        return None
    where, message = draw.choice(messages)
    message.pop("replyTo", None)
    message.pop("body", None)
    message["name"] = "Re: " + str(message.get("name", "the reading for week 3"))
    return where + "/replyTo"


def assignable_attempt(document: dict[str, Any], draw: Draw) -> str | None:
    """A Submitted AssignableEvent that names no Attempt."""
    if (found := _drawn_event(document, draw, "AssignableEvent")) is None:
        return None
    where, event = found
    event["action"] = "Submitted"
    event.pop("generated", None)
    return where + "/generated"


def context_duplicate(document: dict[str, Any], draw: Draw) -> str | None:
    """An @context array that lists a context twice."""
    picked = _unit_with(document, draw, "@context")
    if picked is None:
        return None
    where, unit = picked
    unit["@context"] = [EXTRA_CONTEXT, EXTRA_CONTEXT, CALIPER_CONTEXT]
    return where + "/@context/1"


RULE_MUTATIONS: dict[str, Breaker] = {
    "caliper.context-missing": context_missing,
    "caliper.context-order": context_order,
    "caliper.uuid": not_a_uuid,
    "caliper.copied-without-generated": copied_without_generated,
    "caliper.duplicate-event-id": duplicate_event_id,
    "caliper.event-after-send": event_after_send,
    "caliper.placeholder": placeholder,
    "timeback.xp-earned-missing": xp_earned_missing,
    "timeback.question-pairing": question_pairing,
    "timeback.correct-exceeds-total": correct_exceeds_total,
    "timeback.count-not-whole": count_not_whole,
    "timeback.pct-complete-range": pct_complete_range,
    "timeback.duplicate-metric": duplicate_metric,
    "timeback.time-range": time_range,
    "timeback.window-order": window_order,
    "timeback.window-after-event": window_after_event,
    "bestpractice.profile": profile_missing,
    "bestpractice.uuid-v4": uuid_v1,
    "bestpractice.attempt-properties": attempt_properties,
    "bestpractice.score-properties": score_properties,
    "bestpractice.result-properties": result_properties,
    "bestpractice.timed-out-session": timed_out_session,
    "bestpractice.federated-session": federated_session,
    "bestpractice.media-current-time": media_current_time,
    "bestpractice.context-role": context_role,
    "bestpractice.empty-value": empty_value,
    "bestpractice.reply-to": reply_to,
    "bestpractice.assignable-attempt": assignable_attempt,
    "bestpractice.context-duplicate": context_duplicate,
}
"""Rule id → how to break that rule alone. A rule of :mod:`~caliper_schema.validation.rules` needs an entry
here (``tests/test_strategies.py`` fails otherwise): a function that changes the document in place so that
the rule, and nothing else, fires, and returns the pointer of the issue."""


def _rule_mutation(rule_id: str, breaker: Breaker) -> Mutation:
    def mutation(target: Target, draw: Draw) -> Change | None:
        where = breaker(target.document, draw)
        return Change(where, rule_id, f"rule:{rule_id}") if where is not None else None

    return mutation


# --- choosing one ---------------------------------------------------------------------------------------


def _severity(rule: str | None) -> str:
    from caliper_schema.validation import rules

    registered = rules.RULES.get(rule or "")
    return registered.severity if registered else "error"


def mutations(
    *, strict: bool = False, labels: Iterable[str] | None = None, best_practice: bool = False
) -> list[tuple[str, Mutation]]:
    """The mutations to choose from, by label: the schema's, the rules' (``rule:<id>``), and under
    ``strict`` those whose issue is a warning by default (``lint-*``, warning rules); the best-practice
    tier's (found only under ``Policy(best_practice=True)``) with ``best_practice``. ``labels`` keeps the
    ones matching any of its shell-style patterns (``["rule:timeback.*"]``).

    >>> [label for label, _ in mutations(labels=["bad-*"])]
    ['bad-enum', 'bad-const', 'bad-format']
    """
    from caliper_schema.validation import rules

    chosen: list[tuple[str, Mutation]] = list(SCHEMA_MUTATIONS.items())
    for rule_id, breaker in RULE_MUTATIONS.items():
        registered = rules.RULES.get(rule_id)
        if registered is None or (registered.best_practice and not best_practice):
            continue
        if strict or registered.severity == "error":
            chosen.append((f"rule:{rule_id}", _rule_mutation(rule_id, breaker)))
    if strict:
        chosen += LINT_MUTATIONS.items()
    if labels is not None:
        patterns = list(labels)
        chosen = [(label, m) for label, m in chosen if any(fnmatch.fnmatchcase(label, p) for p in patterns)]
    return chosen


def mutate(
    document: dict[str, Any],
    builder: Builder,
    draw: Draw,
    *,
    strict: bool = False,
    labels: Iterable[str] | None = None,
    best_practice: bool = False,
) -> Mutant | None:
    """``document`` (built by ``builder``, with its sites noted) with one mutation, or ``None`` when no
    chosen mutation applies to it. Each mutation that applies is as likely as the others. With
    ``best_practice``, the best-practice tier's too: such a mutant is ``strict``, and its issue is only
    reported under ``Policy(best_practice=True)``."""
    if builder.sites is None:
        raise ValueError("the builder must note its sites: Builder(draw, record_sites=True)")
    chosen = mutations(strict=strict, labels=labels, best_practice=best_practice)
    for index in range(len(chosen) - 1):  # a drawn permutation: its first applicable mutation is uniform
        pick = draw.integer(index, len(chosen) - 1)  # among those that apply, and shrinks to the first
        chosen[index], chosen[pick] = chosen[pick], chosen[index]
    target = Target(copy.deepcopy(document), builder.sites, builder)
    for label, mutation in chosen:
        change = mutation(target, draw)
        if change is not None:
            severity = "warning" if (change.label or "").startswith("lint:") else _severity(change.rule)
            rule = change.rule or _reported(target.document, change.pointer)
            return Mutant(target.document, change.label or label, change.pointer, rule,
                          strict=severity == "warning")  # fmt: skip
    return None


def _reported(document: dict[str, Any], where: str) -> str | None:
    """The rule of the error the validator reports at ``where`` (or on its parent, for a key), for a
    mutation several rules could explain (a number where an enum of strings is expected)."""
    from caliper_schema.validation.pipeline import validate

    errors = validate(document).errors
    return next((issue.rule for issue in errors if issue.pointer in (where, parent_of(where))), None)
