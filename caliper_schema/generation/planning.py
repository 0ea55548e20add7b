"""The schema walk behind the generators: each schema compiled once into a plan of what to generate.

A plan says, for one value, what a valid instance looks like in terms a generator can act on: a constant,
a choice from an enum, a string of some form (an IRI, a date-time, a UUID URN...), a number, a list, an
entity *slot* (an IRI or an object of one of some types), or a *record* (an object: its properties, which
are required, which conditionals apply). It is read from the schemas alone, the way a validator reads
them (``$ref``, ``allOf``, ``properties``, ``required``, ``if``/``then``/``else``, ``anyOf``/``oneOf``
with a ``discriminator``), so a new or changed schema needs no new code here. The ``x-lint`` entries are
read too: a generated valid document should not draw a warning, so a lint's discouraged values are
avoided, its "required" properties generated, its forms (a sensor that SHOULD be an IRI, a decimal
written with a fraction) honoured.

The only things named here are the leaf forms a pattern stands for (:data:`FORMS`), because a generator
cannot invert an arbitrary regular expression: a schema with a new pattern fails to compile with a message
saying where to add it.

>>> plan = planner().document("ToolLaunchEvent")
>>> plan.required[:3], [c.keys for c in plan.conditionals]
(('id', 'type', 'actor'), [('action',)])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin

from caliper_schema.registry import BASE_URI, Catalogue, Schema, load

FORMS = {
    BASE_URI + "common/event-id.json": ("event-id", "schema.pattern"),
    BASE_URI + "common/duration.json": ("duration", "schema.pattern"),
    BASE_URI + "common/entity-id.json": ("iri", "schema.format"),
}
"""String schemas defined by a pattern (or a conditional): the generator form that satisfies them, and the
rule of the issue a malformed value of that form gets (an IRI-like entity id fails the IRI ``format``)."""
FORMATS = frozenset({"date-time", "iri", "email"})
Closure = Literal["closed", "linted", "open"]
"""``closed``: unknown properties are errors; ``linted``: warnings (an ``x-lint`` ``closed``); ``open``."""


class PlanError(Exception):
    """A schema uses a construct the generators cannot satisfy yet."""


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""An override value that leaves an optional property out."""


@dataclass(frozen=True)
class Const:
    """One allowed value."""

    value: Any
    rule: str
    """The rule an issue about a different value carries (the schema's ``x-rule``, or ``schema.const``)."""


@dataclass(frozen=True)
class Choice:
    """A value from an enum."""

    values: tuple[Any, ...]
    """The values to generate: the enum without those a lint warns about."""
    avoided: tuple[Any, ...]
    """Values the schema accepts but a lint warns about (``Other``, ``MarkedAsUnRead``)."""
    rule: str
    avoided_rule: str | None = None


@dataclass(frozen=True)
class Text:
    """A string of some form: ``plain``, ``iri``, ``email``, ``date-time``, ``duration``, ``event-id``."""

    form: str
    hard: bool = True
    """False when only a lint asks for the form (a sensor id SHOULD be an IRI)."""
    rule: str = "schema.format"
    """The rule an issue about a malformed value carries."""
    lint: str | None = None
    """The lint rule a well-formed but discouraged value draws (the Caliper DateTime form)."""


@dataclass(frozen=True)
class Whole:
    """An integer."""

    minimum: int | None = None


@dataclass(frozen=True)
class Real:
    """A number; ``decimal``: written with a fractional part (``12.0``), as a lint asks."""

    decimal: bool = False
    lint: str | None = None


@dataclass(frozen=True)
class Flag:
    """A boolean."""


@dataclass(frozen=True)
class Listing:
    """An array."""

    items: Plan
    min_items: int = 0


@dataclass(frozen=True)
class FreeMap:
    """An object with no declared properties (``extensions``, ``messageParameters``)."""


@dataclass(frozen=True)
class Slot:
    """An entity slot: an IRI (when ``iri``) or an object of one of ``targets`` (type name, schema $id)."""

    targets: tuple[tuple[str, str], ...]
    """The slot's own type first (a subtype shrinks to it), then its subtypes."""
    iri: bool
    rule: str = "caliper.slot-type"


@dataclass(frozen=True)
class Either:
    """One of several plans (an ``anyOf`` that is not an entity slot)."""

    branches: tuple[Plan, ...]


@dataclass(frozen=True)
class Patch:
    """What a ``then`` or ``else`` adds: narrower properties, more required ones."""

    properties: Mapping[str, Plan]
    required: tuple[str, ...]
    expected: tuple[str, ...] = ()
    """Properties a rule (not the schema) asks for in this case: generated, but their absence is no error."""


@dataclass(frozen=True)
class Conditional:
    """An ``if``/``then``/``else`` of a record: decided by the properties in ``keys``."""

    test: Schema
    keys: tuple[str, ...]
    then: Patch
    otherwise: Patch


@dataclass(eq=False)
class Record:
    """An object with declared properties: an event, an entity, an envelope, a Timeback reference."""

    title: str
    type_name: str | None = None
    """The ``type`` constant of a Caliper or Timeback document type."""
    properties: dict[str, Plan] = field(default_factory=dict)
    """Each property, its declarations (bases, then own) merged into one plan, in declaration order."""
    required: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()
    """Properties only a lint asks for (Timeback's ``app``): generated, but their absence is no error."""
    expected_rule: str | None = None
    conditionals: tuple[Conditional, ...] = ()
    closure: Closure = "open"
    closure_rule: str | None = None


Plan = Const | Choice | Text | Whole | Real | Flag | Listing | FreeMap | Slot | Either | Record


def merge(plans: list[Plan]) -> Plan:
    """One plan for a value several declarations constrain at once (a base's and a subtype's, a branch's).

    A constant wins; enums and slots intersect (a FeedbackEvent ``generated`` is an Entity *and*, when
    Ranked, a Rating: a Rating); arrays merge their items; otherwise the most specific (last) wins.

    >>> merge([Choice(("a", "b"), (), "r"), Choice(("b", "c"), (), "r")]).values
    ('b',)
    """
    last = plans[-1]
    if consts := [plan for plan in plans if isinstance(plan, Const)]:
        return consts[-1]
    if all(isinstance(plan, Choice) for plan in plans):
        return _merge_choices([plan for plan in plans if isinstance(plan, Choice)])
    if all(isinstance(plan, Slot) for plan in plans):
        slots = [plan for plan in plans if isinstance(plan, Slot)]
        names = [{name for name, _ in slot.targets} for slot in slots]
        targets = tuple(t for t in slots[-1].targets if all(t[0] in allowed for allowed in names))
        if not targets:
            raise PlanError(f"no entity type satisfies every declaration of a slot: {names}")
        return Slot(targets, all(slot.iri for slot in slots), slots[-1].rule)
    if all(isinstance(plan, Listing) for plan in plans):
        listings = [plan for plan in plans if isinstance(plan, Listing)]
        return Listing(merge([plan.items for plan in listings]), max(plan.min_items for plan in listings))
    return last


def _merge_choices(choices: list[Choice]) -> Choice:
    last = choices[-1]
    values = tuple(v for v in last.values if all(v in c.values or v in c.avoided for c in choices))
    avoided = tuple(v for c in choices for v in c.avoided if v in last.values + last.avoided)
    avoided_rule = next((c.avoided_rule for c in reversed(choices) if c.avoided_rule), None)
    return Choice(tuple(v for v in values if v not in avoided), tuple(dict.fromkeys(avoided)), last.rule,
                  avoided_rule)  # fmt: skip


@dataclass
class _Gathered:
    properties: dict[str, list[Plan]] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    expected_rule: str | None = None
    conditionals: list[Conditional] = field(default_factory=list)
    closure: Closure = "open"
    closure_rule: str | None = None


class Planner:
    """Compiles schemas of one catalogue into plans, each schema once.

    It decides what kind of plan a (sub)schema is, keyword by keyword; what an object schema declares
    across its bases is gathered by its :class:`Gatherer`.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.records: dict[str, Record] = {}
        self.gatherer = Gatherer(catalogue, self.plan)

    def document(self, type_name: str) -> Record:
        """The record of a document type (``ViewEvent``, ``Person``, ``ActivityEvent``...)."""
        uri = self.catalogue.types.get(type_name)
        if uri is None:
            raise KeyError(type_name)
        return self.record(uri)

    def record(self, uri: str) -> Record:
        """The record of the object schema at ``uri``, compiled once (records may refer to themselves)."""
        found = self.records.get(uri)
        if found is None:
            schema = self.catalogue.resolve(uri)
            found = self.records[uri] = Record(str(schema.get("title", uri)))
            self.gatherer.fill(found, schema, urldefrag(uri).url)
        return found

    def at(self, uri: str) -> Plan:
        """The plan of the schema at ``uri``."""
        schema = self.catalogue.resolve(uri)
        if _is_record(schema):
            return self.record(uri)
        return self.plan(schema, urldefrag(uri).url)

    def plan(self, schema: Schema, base: str) -> Plan:
        """The plan of one (sub)schema, ``$ref``s resolved against ``base``."""
        if "$ref" in schema:
            return self.at(urljoin(base, schema["$ref"]))
        if "const" in schema:
            return Const(schema["const"], schema.get("x-rule", "schema.const"))
        if "enum" in schema:
            return _choice(schema)
        if "discriminator" in schema and "oneOf" in schema:
            return self._slot(schema, base, iri=False)
        if "anyOf" in schema:
            return self._any_of(schema, base)
        if _is_record(schema):
            record = Record(str(schema.get("title", "object")))
            self.gatherer.fill(record, schema, base)
            return record
        return self._typed(schema, base)

    def _typed(self, schema: Schema, base: str) -> Plan:
        kind = schema.get("type")
        kinds = tuple(kind) if isinstance(kind, list) else (kind,)
        if kinds == ("string",):
            return self._text(schema, base)
        if kinds == ("integer",):
            return Whole(schema.get("minimum"))
        if "number" in kinds and set(kinds) <= {"integer", "number"}:
            lint = _lint(schema, "decimal")
            return Real(decimal=lint is not None, lint=lint["rule"] if lint else None)
        if kinds == ("boolean",):
            return Flag()
        if kinds == ("array",):
            items = self.plan(schema["items"], base) if "items" in schema else Text("plain")
            return Listing(items, schema.get("minItems", 0))
        if kinds == ("object",):
            return FreeMap()
        raise PlanError(f"{base}: cannot generate a value for {schema}")

    def _text(self, schema: Schema, base: str) -> Text:
        is_root = base in FORMS and self.catalogue.resolve(base) is schema
        rule = schema.get("x-rule")
        pattern_lint = _lint(schema, "pattern")
        lint_rule = pattern_lint["rule"] if pattern_lint else None
        if is_root:
            form, default = FORMS[base]
            return Text(form, rule=rule or default, lint=lint_rule)
        if "pattern" in schema or "if" in schema:
            raise PlanError(f"{base}: no generator for this string pattern: add its form to planning.FORMS")
        if schema.get("format") in FORMATS:
            return Text(schema["format"], rule=rule or "schema.format", lint=lint_rule)
        if "format" in schema:
            raise PlanError(f"{base}: no generator for format {schema['format']!r}")
        if (soft := _lint(schema, "format")) is not None:
            return Text(soft["format"], hard=False, rule=soft["rule"])
        return Text("plain")

    def _any_of(self, schema: Schema, base: str) -> Plan:
        branches = schema["anyOf"]
        if _is_iri_or_entity(branches):
            return self._slot(branches[1], base, iri=True)
        usable = tuple(self.plan(branch, base) for branch in branches if _usable(branch))
        if not usable:
            raise PlanError(f"{base}: no usable anyOf branch in {schema}")
        return usable[0] if len(usable) == 1 else Either(usable)

    def _slot(self, schema: Schema, base: str, *, iri: bool) -> Slot:
        mapping: dict[str, str] = schema["discriminator"]["mapping"]
        targets = [(name, urljoin(base, ref)) for name, ref in mapping.items()]
        own = [target for target in targets if target[1] == base]  # a $defs/ref lists its own type first
        rest = [target for target in targets if target[1] != base]
        return Slot(tuple(own + rest), iri, schema.get("x-rule", "caliper.slot-type"))


class Gatherer:
    """What an object schema declares across the bases it ``$ref``s and ``allOf``s: its properties (their
    declarations merged), required and lint-expected names, conditionals and closure, bases first."""

    def __init__(self, catalogue: Catalogue, plan: Callable[[Schema, str], Plan]) -> None:
        self.catalogue = catalogue
        self.plan = plan

    def fill(self, record: Record, schema: Schema, base: str) -> None:
        """Complete ``record`` with what ``schema`` and its bases declare."""
        gathered = _Gathered()
        self._gather(schema, base, gathered)
        record.properties = {name: merge(plans) for name, plans in gathered.properties.items()}
        type_plan = record.properties.get("type")
        record.type_name = type_plan.value if isinstance(type_plan, Const) else None
        record.required = tuple(dict.fromkeys(gathered.required))
        record.expected = tuple(n for n in dict.fromkeys(gathered.expected) if n not in record.required)
        record.expected_rule = gathered.expected_rule
        record.conditionals = tuple(gathered.conditionals)
        record.closure, record.closure_rule = gathered.closure, gathered.closure_rule

    def _gather(self, schema: Schema, base: str, into: _Gathered) -> None:
        """Collect what a schema and the bases it ``$ref``s or ``allOf``s declare, bases first."""
        for part in [*schema.get("allOf", []), *([{"$ref": schema["$ref"]}] if "$ref" in schema else [])]:
            if "if" in part:
                into.conditionals.append(self._conditional(part, base))
            elif "$ref" in part:
                target = urljoin(base, part["$ref"])
                self._gather(self.catalogue.resolve(target), urldefrag(target).url, into)
            else:
                self._gather(part, base, into)
        if "if" in schema:
            into.conditionals.append(self._conditional(schema, base))
        for name, sub in schema.get("properties", {}).items():
            into.properties.setdefault(name, []).append(self.plan(sub, base))
        into.required += schema.get("required", [])
        self._gather_lints(schema, into)
        if schema.get("unevaluatedProperties") is False or schema.get("additionalProperties") is False:
            into.closure = "closed"

    @staticmethod
    def _gather_lints(schema: Schema, into: _Gathered) -> None:
        for entry in schema.get("x-lint", []):
            if entry["check"] == "required":
                into.expected += entry["properties"]
                into.expected_rule = entry["rule"]
            elif entry["check"] == "closed" and into.closure == "open":
                into.closure, into.closure_rule = "linted", entry["rule"]

    def _conditional(self, schema: Schema, base: str) -> Conditional:
        test = schema["if"]
        keys = tuple(dict.fromkeys([*test.get("properties", {}), *test.get("required", [])]))
        return Conditional(test, keys, self._patch(schema.get("then"), base),
                           self._patch(schema.get("else"), base))  # fmt: skip

    def _patch(self, schema: Schema | None, base: str) -> Patch:
        if schema is None:
            return Patch({}, ())
        gathered = _Gathered()
        self._gather(schema, base, gathered)
        properties = {name: merge(plans) for name, plans in gathered.properties.items()}
        return Patch(properties, tuple(gathered.required))


def _is_record(schema: Schema) -> bool:
    return "properties" in schema or ("allOf" in schema and "type" not in schema)


def _is_iri_or_entity(branches: list[Schema]) -> bool:
    return (
        len(branches) == 2
        and branches[0].get("format") == "iri"
        and "discriminator" in branches[1]
        and "oneOf" in branches[1]
    )


def _usable(branch: Schema) -> bool:
    """A branch a generator can satisfy without a warning (no ``contains``, no lint on its mere use)."""
    return "contains" not in branch and not any(e["check"] == "present" for e in branch.get("x-lint", []))


def _lint(schema: Schema, check: str) -> dict[str, Any] | None:
    return next((entry for entry in schema.get("x-lint", []) if entry["check"] == check), None)


def _choice(schema: Schema) -> Choice:
    values = tuple(schema["enum"])
    avoided: list[Any] = []
    avoided_rule = None
    for entry in schema.get("x-lint", []):
        if entry["check"] == "discouraged":
            avoided += [value for value in values if value in entry["values"]]
        elif entry["check"] == "listed":
            avoided += [value for value in values if value not in entry["lists"][entry["default"]]]
        else:
            continue
        avoided_rule = entry["rule"]
    unique = tuple(dict.fromkeys(avoided))
    rule = schema.get("x-rule", "schema.enum")
    return Choice(tuple(v for v in values if v not in unique), unique, rule, avoided_rule)


@functools.cache
def planner() -> Planner:
    """The planner over the bundled catalogue."""
    return Planner(load())
