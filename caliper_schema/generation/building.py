"""Valid documents from plans: one walk, driven by a :class:`~caliper_schema.generation.drawing.Draw`.

:class:`Builder` turns a :class:`~caliper_schema.generation.planning.Record` into a document. It decides the
properties a conditional depends on first (``action``, ``profile``), then applies the ``then`` or ``else``
that holds, then the rest; optional properties are drawn, rarer with depth; an entity slot is an IRI or an
object of one of its types, and only an IRI past :data:`MAX_DEPTH`, so documents stay small and shrink to
smaller ones. Leaf values come from :mod:`~caliper_schema.generation.faking`.

What the schemas cannot say but the rule layer checks (:mod:`~caliper_schema.validation.rules`) is honoured
too: Timeback metrics that add up (``xpEarned`` present, ``correctQuestions <= totalQuestions``, time in
0-86400 s, a window that ends by ``eventTime``) by :mod:`~caliper_schema.generation.conventions`; unique
event ids and times in order (``startedAtTime <= endedAtTime``, ``eventTime <= sendTime``) by the leaf values
of :class:`~caliper_schema.generation.faking.Leaves` and the ranges of :data:`ORDERED`.

With ``record_sites``, the builder notes every value it wrote (:class:`Site`): where, under which plan,
and whether it was required. :mod:`~caliper_schema.generation.mutating` picks its targets from them.

>>> import random
>>> from caliper_schema.generation.drawing import RandomDraw
>>> event = Builder(RandomDraw(random.Random(4))).document("ToolLaunchEvent")
>>> event["type"], event["action"] != "Launched" or "federatedSession" in event
('ToolLaunchEvent', True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from caliper_schema import hints
from caliper_schema.generation import faking
from caliper_schema.generation.conventions import CONVENTIONS, RULE_CONDITIONALS
from caliper_schema.generation.drawing import Draw
from caliper_schema.generation.planning import (
    ABSENT,
    Choice,
    Const,
    Either,
    Flag,
    FreeMap,
    Listing,
    Plan,
    Planner,
    Real,
    Record,
    Slot,
    Text,
    Whole,
    merge,
    planner,
)
from caliper_schema.locating import pointer as join
from caliper_schema.registry import BASE_URI, ENVELOPE, Schema, load

MAX_DEPTH = 3
"""How deep entity objects nest: the document is at depth 0, an entity in one of its slots at 1; a slot
whose object would be at ``MAX_DEPTH`` holds an IRI, and nothing there gets an optional property."""
OPTIONAL = (0.5, 0.3, 0.15, 0.0)
"""The chance of each optional property, by depth."""
AS_OBJECT = (0.6, 0.4, 0.2, 0.0)
"""The chance that an entity slot holds an object rather than an IRI, by depth of the slot's owner."""
LIST_SIZE = (2, 2, 1, 0)
"""The most items an array gets, by depth (its ``minItems`` wins)."""
FIRST_KEYS = ("@context", "id", "type", "profile", "actor", "action", "object", "generated", "eventTime")
"""Keys written first, in this order, as in the Caliper specification's examples; the rest in schema order."""
ORDERED = (
    ("startedAtTime", "endedAtTime"), ("startDate", "endDate"), ("minDateTime", "maxDateTime"),
    ("dateCreated", "dateModified"), ("dateToShow", "dateToSubmit"), ("dateToStartOn", "dateToSubmit"),
    ("dateToActivate", "dateToSubmit"), ("start", "end"), ("minValue", "maxValue"),
    ("minSelections", "maxSelections"), ("scoreGiven", "maxScore"), ("resultScore", "maxResultScore"),
    ("metricValue", "maxMetricValue"),
)  # fmt: skip
"""Pairs of properties of one object that read as a range: generated in order (swapped if need be)."""


@dataclass
class _Wants:
    """Which properties one object must, should, or was told to have."""

    overrides: Mapping[str, Any]
    required: dict[str, None]
    expected: dict[str, None]
    unit: bool
    """The object is a document (bare, or an envelope's item), not a nested entity."""


@dataclass(frozen=True, slots=True)
class Site:
    """One value the builder wrote: where, under which plan, in which record, and whether required."""

    pointer: str
    plan: Plan
    value: Any
    owner: Record | None = None
    name: str | None = None
    required: bool = False


_TESTS: dict[int, tuple[Schema, jsonschema_rs.Validator]] = {}


def holds(test: Schema, value: Mapping[str, Any]) -> bool:
    """Whether a conditional's ``if`` holds for the properties generated so far.

    >>> holds({"properties": {"action": {"const": "Ranked"}}, "required": ["action"]}, {"action": "Ranked"})
    True
    """
    found = _TESTS.get(id(test))
    if found is None:  # keyed by identity: the schemas live as long as the process; the pair keeps it alive
        found = _TESTS[id(test)] = (test, jsonschema_rs.validator_for(test))
    return bool(found[1].is_valid(value))


class Builder:
    """Builds valid documents from the bundled schemas, every choice asked of one :class:`Draw`."""

    def __init__(self, draw: Draw, *, record_sites: bool = False, plans: Planner | None = None) -> None:
        self.draw = draw
        self.plans = plans or planner()
        self.sites: list[Site] | None = [] if record_sites else None
        self.leaves = faking.Leaves(draw)

    # --- documents ------------------------------------------------------------------------------------

    def document(self, type_name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A bare event or entity of ``type_name``, its overrides (property: value) used as given.

        >>> import random
        >>> from caliper_schema.generation.drawing import RandomDraw
        >>> Builder(RandomDraw(random.Random(1))).document("ViewEvent", {"actor": "https://example.edu/u/1"})["actor"]
        'https://example.edu/u/1'
        """
        self.leaves.begin_document()
        return self.record(self.plans.document(type_name), "", 0, unit=True, overrides=overrides)

    def envelope(
        self,
        types: Sequence[str],
        sizes: tuple[int, int] = (1, 3),
        overrides: Mapping[str, Any] | None = None,
        item_overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An Envelope of ``sizes[0]..sizes[1]`` documents of ``types`` (the first is ``types[0]``), sent
        within a minute of the last; ``overrides`` fix envelope properties, ``item_overrides`` each item's.

        >>> import random
        >>> from caliper_schema.generation.drawing import RandomDraw
        >>> envelope = Builder(RandomDraw(random.Random(1))).envelope(["TimeSpentEvent"], (2, 2))
        >>> [item["type"] for item in envelope["data"]]
        ['TimeSpentEvent', 'TimeSpentEvent']
        >>> all(item["eventTime"] <= envelope["sendTime"] for item in envelope["data"])
        True
        """
        self.leaves.begin_envelope()
        data = []
        for index in range(self.draw.integer(*sizes)):
            type_name = types[0] if index == 0 else self.draw.choice(types)
            self.leaves.begin_item()
            record = self.plans.document(type_name)
            data.append(self.record(record, join("/data", index), 0, unit=True, overrides=item_overrides))
        shell = self.plans.at(ENVELOPE)
        assert isinstance(shell, Record)
        return self.record(shell, "", 0, overrides={"data": data, **(overrides or {})})

    # --- records --------------------------------------------------------------------------------------

    def record(
        self,
        record: Record,
        where: str,
        depth: int,
        *,
        unit: bool = False,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An object of ``record``: discriminating properties, then the conditionals, then the rest."""
        wants = _Wants(overrides or {}, dict.fromkeys(record.required), dict.fromkeys(record.expected), unit)
        properties = dict(record.properties)
        conditionals = record.conditionals + RULE_CONDITIONALS.get(record.type_name or "", ())
        value: dict[str, Any] = {}
        keys = [name for c in conditionals for name in c.keys if name in properties]
        for name in dict.fromkeys(keys):
            self._property(record, name, properties[name], value, where, depth, wants)
        for conditional in conditionals:
            patch = conditional.then if holds(conditional.test, value) else conditional.otherwise
            for name, plan in patch.properties.items():
                properties[name] = merge([properties[name], plan]) if name in properties else plan
            wants.required.update(dict.fromkeys(patch.required))
            wants.expected.update(dict.fromkeys(patch.expected))
        for name, plan in properties.items():
            if name not in value and name not in keys:
                self._property(record, name, plan, value, where, depth, wants)
        _order_ranges(value, wants.overrides)
        _name_the_email(value, wants.overrides)
        value = _reordered(value, properties)
        self._note(Site(where, record, value))
        return value

    def _property(
        self,
        record: Record,
        name: str,
        plan: Plan,
        value: dict[str, Any],
        where: str,
        depth: int,
        wants: _Wants,
    ) -> None:
        here = join(where, name)
        if name in wants.overrides:
            if wants.overrides[name] is not ABSENT:
                value[name] = wants.overrides[name]
                self._note(Site(here, plan, value[name], record, name, name in wants.required))
            return
        if not self._wanted(name, plan, depth, wants):
            return
        if isinstance(plan, Listing) and name not in wants.required:
            plan = Listing(plan.items, max(plan.min_items, 1))  # an optional list, when sent, has items
        convention = CONVENTIONS.get((record.type_name, name)) or CONVENTIONS.get(("*", name))
        if convention is not None:
            value[name] = convention(self, plan, here, depth)
        else:
            value[name] = self.value(plan, here, depth, record, name)
        self._note(Site(here, plan, value[name], record, name, name in wants.required))

    def _wanted(self, name: str, plan: Plan, depth: int, wants: _Wants) -> bool:
        if name == "@context":
            return wants.unit  # the rule layer asks it of each event and entity document, not nested ones
        if name in wants.required or name in wants.expected:
            return True
        if isinstance(plan, Listing) and LIST_SIZE[min(depth, MAX_DEPTH)] == 0:
            return False
        return self.draw.boolean(OPTIONAL[min(depth, MAX_DEPTH)])

    def _note(self, site: Site) -> None:
        if self.sites is not None:
            self.sites.append(site)

    # --- values ---------------------------------------------------------------------------------------

    def value(self, plan: Plan, where: str, depth: int, owner: Record | None = None, name: str = "") -> Any:
        """A valid value for ``plan``, written at ``where`` (its sites noted)."""
        if isinstance(plan, Const):
            return plan.value
        if isinstance(plan, Choice):
            return self.draw.choice(plan.values or plan.avoided)
        if isinstance(plan, Text):
            return self.leaves.text(plan.form, name, owner.type_name if owner else None)
        if isinstance(plan, Whole):
            low = max(plan.minimum or 0, 0)
            return self.draw.integer(low, low + 20)
        if isinstance(plan, Real):
            return faking.decimal(self.draw) if plan.decimal else self.draw.integer(0, 100)
        if isinstance(plan, Flag):
            return self.draw.boolean(0.5)
        if isinstance(plan, Listing):
            return self.listing(plan, where, depth)
        if isinstance(plan, FreeMap):
            return self.leaves.free_map(name)
        if isinstance(plan, Slot):
            return self.slot(plan, where, depth)
        if isinstance(plan, Either):
            return self.value(self.draw.choice(plan.branches), where, depth, owner, name)
        return self.record(plan, where, depth + 1)

    def listing(self, plan: Listing, where: str, depth: int) -> list[Any]:
        """An array of ``plan.items``, short, and shorter with depth."""
        most = max(plan.min_items, LIST_SIZE[min(depth, MAX_DEPTH)])
        items = []
        for index in range(self.draw.integer(plan.min_items, most)):
            item = self.value(plan.items, join(where, index), depth)
            self._note(Site(join(where, index), plan.items, item))
            items.append(item)
        return items

    def slot(self, plan: Slot, where: str, depth: int) -> Any:
        """An entity slot: an IRI of its own type, or an object of one of its types."""
        deep = depth >= MAX_DEPTH - 1
        if plan.iri and (deep or not self.draw.boolean(AS_OBJECT[min(depth, MAX_DEPTH)])):
            return faking.iri(self.draw, plan.targets[0][0])
        _, uri = self.draw.choice(plan.targets)
        return self.record(self.plans.record(uri), where, depth + 1)


def _order_ranges(value: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """Swap the generated ends of each range of :data:`ORDERED` that came out backwards."""
    for low, high in ORDERED:
        a, b = value.get(low), value.get(high)
        mine = low not in overrides and high not in overrides
        if mine and type(a) is type(b) and isinstance(a, int | float | str) and _above(a, b):
            value[low], value[high] = b, a


def _above(a: Any, b: Any) -> bool:
    return bool(a > b)


def _name_the_email(value: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """``ada.lovelace@example.edu`` for Ada Lovelace, when both were generated."""
    name, email = value.get("name"), value.get("email")
    if isinstance(name, str) and isinstance(email, str) and "email" not in overrides and name.count(" ") == 1:
        value["email"] = name.replace(" ", ".").lower() + "@example.edu"


def _reordered(value: dict[str, Any], properties: Mapping[str, Plan]) -> dict[str, Any]:
    """``@context``, ``id``, ``type`` first, then the schema's order: documents read as in the spec."""
    order = [*FIRST_KEYS, *properties]
    return {name: value[name] for name in dict.fromkeys(order) if name in value}


# --- which document types there are ----------------------------------------------------------------------


class UnknownType(ValueError):
    """A document type (or profile) name that the schemas do not define, with the nearest names."""


def event_types() -> tuple[str, ...]:
    """Every event type: the 22 of Caliper 1.2 and Timeback's ``ActivityEvent`` and ``TimeSpentEvent``.

    >>> len(event_types()), event_types()[:2]
    (24, ('ActivityEvent', 'TimeSpentEvent'))
    """
    catalogue = load()
    return tuple(name for name, uri in catalogue.types.items() if catalogue.kind(uri) == "event")


def entity_types(*, bare: bool = True) -> tuple[str, ...]:
    """Every entity type (``SystemIdentifier`` and ``TextPositionSelector`` included); with ``bare``, only
    those that can stand as a document of their own without a warning: one that declares ``@context``,
    which the rule layer asks of every entity document (``caliper.context-missing``).

    >>> "Person" in entity_types(), "TimebackUser" in entity_types(), len(entity_types(bare=False))
    (True, True, 76)
    """
    catalogue = load()
    names = [name for name, uri in catalogue.types.items() if catalogue.kind(uri) != "event"]
    return tuple(name for name in names if not bare or "@context" in planner().document(name).properties)


def resolve_types(requested: str | Sequence[str] | None, kind: str = "event") -> tuple[str, ...]:
    """The document types asked for (a name or names), checked; every type of ``kind`` when ``None``.

    >>> try:
    ...     resolve_types("ActivityEvnt")
    ... except UnknownType as error:
    ...     print(error)
    unknown document type 'ActivityEvnt': did you mean `ActivityEvent`?
    """
    if requested is None:
        return event_types() if kind == "event" else entity_types()
    names = (requested,) if isinstance(requested, str) else tuple(requested)
    known = load().types
    for name in names:
        if name not in known:
            hint = hints.nearest(name, sorted(known)) or "see `caliper-schema schema --list`"
            raise UnknownType(f"unknown document type {name!r}: {hint}")
    if not names:
        raise UnknownType("no document type given")
    return names


def with_profile(types: Sequence[str] | None, profile: str) -> tuple[str, ...]:
    """Those of ``types`` whose events may carry ``profile``; with ``types`` ``None``, the event types the
    profile covers (the profile's tables: ``GradingProfile`` is for GradeEvents and ViewEvents of a Result).

    >>> with_profile(["ViewEvent", "ActivityEvent"], "GradingProfile")
    ('ViewEvent',)
    >>> with_profile(None, "GradingProfile")
    ('GradeEvent', 'ViewEvent')
    """
    vocabulary = planner().at(BASE_URI + "caliper/vocab/profile.json")
    known = [*vocabulary.values, *vocabulary.avoided] if isinstance(vocabulary, Choice) else []
    if profile not in known:
        raise UnknownType(
            f"unknown profile {profile!r}: {hints.nearest(profile, known) or hints.listing(known)}"
        )
    names = load().coverage.get(profile, ()) if types is None else types
    admitted = tuple(
        name for name in names if _admits(planner().document(name).properties.get("profile"), profile)
    )
    if not admitted:
        raise UnknownType(f"no document of type {', '.join(names)} may carry the profile {profile!r}")
    return admitted


def _admits(plan: Plan | None, value: Any) -> bool:
    if isinstance(plan, Const):
        return bool(plan.value == value)
    return isinstance(plan, Choice) and value in plan.values
