"""Step 5, linting: the soft constraints the schemas carry as ``x-lint`` annotations.

Some points of the sources are ambiguous: the Caliper DateTime form versus any RFC 3339 date-time, the
SDK-only subject ``Other``, a sensor id that "SHOULD" be an IRI, properties the Timeback OpenAPI leaves
open. Each is a hard constraint nowhere; the schema that owns the value says so in an ``x-lint`` entry, and
this module reports it as a warning (an error under ``strict``). Expressing them as schema keywords would
not do: a failing subschema drops its annotations, so one soft miss would cascade into hard
"unevaluated property" errors.

The walk follows the schema the way a validator does (``$ref``, ``allOf``, ``properties``, ``items``,
``anyOf``/``oneOf`` by discriminator or JSON type, ``then``/``else``) but only to find which ``x-lint``
entries apply where; it is compiled once per schema.

>>> from caliper_schema.validation.dispatching import dispatch
>>> units, _ = dispatch({"type": "Event", "eventTime": "2024-01-01T10:00:00Z"})
>>> [(issue.pointer, issue.rule) for issue in lint(units[0])]
[('/eventTime', 'caliper.datetime-form')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag

from caliper_schema import hints
from caliper_schema.locating import pointer as join
from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.registry import Catalogue, Schema, absolute, load
from caliper_schema.reporting import Issue
from caliper_schema.validation.checking import suggest
from caliper_schema.validation.dispatching import Unit, carries_timeback, json_type
from caliper_schema.validation.fastpath import clean_engine, conforms

Lint = dict[str, Any]


@dataclass(eq=False)
class _Node:
    """What one subschema says about the value it applies to, for linting purposes."""

    lints: list[Lint] = field(default_factory=list)
    parts: list[_Node] = field(default_factory=list)
    """Subschemas that apply to the same value: ``$ref``, ``allOf``, ``then``, ``else``."""
    properties: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    by_type: dict[str, str] = field(default_factory=dict)
    """A discriminated ``oneOf``: the schema of each ``type`` value, whose plan is its own (:func:`_plan`,
    compiled when an entity of that type is first walked)."""
    timeback: bool = False
    """The wording of the plan this node belongs to, for the plans ``by_type`` leads to."""
    schema: str | None = None
    """For the root of a document type's schema (an entity's, an event's): its ``$id``. A value the
    lint-hardened fast path accepts as that type has nothing to lint, and is not walked."""
    branches: list[tuple[frozenset[str] | None, _Node]] = field(default_factory=list)
    """Other ``anyOf``/``oneOf`` branches, with the JSON types each accepts (``None``: any)."""
    known: frozenset[str] = frozenset()
    """Every property name this node and its parts declare (for the ``closed`` check)."""
    where: str | None = None
    """The URI of the schema it was compiled from, for a ``closed`` check's hints."""

    def children(self) -> Iterator[_Node]:
        """Every node this one leads to."""
        yield from self.parts
        yield from self.properties.values()
        yield from ([self.items] if self.items is not None else [])
        yield from (branch for _, branch in self.branches)

    def declared(self) -> frozenset[str]:
        """Every property name this node and its parts declare."""
        names: set[str] = set()
        seen: set[int] = set()
        stack = [self]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                names.update(node.properties)
                stack.extend(node.parts)
        return frozenset(names)


def _prune(nodes: list[_Node]) -> None:
    """Keep only the paths that lead to a lint: most of a schema has none, and the walk runs per payload."""
    active = {id(node) for node in nodes if node.lints or node.by_type}
    changed = True
    while changed:  # a fixed point: the schema graph has cycles (an Entity's isPartOf is an Entity)
        changed = False
        for node in nodes:
            if id(node) not in active and any(id(child) in active for child in node.children()):
                active.add(id(node))
                changed = True
    for node in nodes:
        node.known = (
            node.declared() if any(entry["check"] == "closed" for entry in node.lints) else frozenset()
        )
        node.parts = [part for part in node.parts if id(part) in active]
        node.properties = {name: child for name, child in node.properties.items() if id(child) in active}
        node.items = node.items if node.items is not None and id(node.items) in active else None
        node.branches = [(types, branch) for types, branch in node.branches if id(branch) in active]
    for node in nodes:  # then step over nodes that only lead on ($ref, allOf): fewer calls per payload
        node.parts = [inner for part in node.parts for inner in _through(part, set())]
        node.properties = {name: _single(child) for name, child in node.properties.items()}
        node.items = _single(node.items) if node.items is not None else None
        node.branches = [(types, _single(branch)) for types, branch in node.branches]


def _relay(node: _Node) -> bool:
    """True for a node that only leads on to its parts (a ``$ref``, an ``allOf``): no check of its own."""
    return not (node.lints or node.properties or node.items or node.by_type or node.branches or node.schema)


def _through(node: _Node, seen: set[int]) -> list[_Node]:
    """The nodes a relay leads to, in order (itself if it is no relay)."""
    if not _relay(node) or id(node) in seen:
        return [node]
    seen.add(id(node))
    return [inner for part in node.parts for inner in _through(part, seen)]


def _single(node: _Node) -> _Node:
    """The one node a relay leads to, or the node itself."""
    found = _through(node, set())
    return found[0] if len(found) == 1 else node


class _Compiler:
    def __init__(self, catalogue: Catalogue, timeback: bool) -> None:
        self.catalogue = catalogue
        self.timeback = timeback
        self.memo: dict[int, _Node] = {}
        self.types = frozenset(catalogue.types.values())

    def at(self, uri: str) -> _Node:
        node = self.compile(self.catalogue.resolve(uri), urldefrag(uri).url)
        if uri in self.types:
            node.schema = uri
        return node

    def compile(self, schema: Schema, base: str) -> _Node:
        if id(schema) in self.memo:
            return self.memo[id(schema)]
        node = self.memo[id(schema)] = _Node(lints=[self.worded(entry) for entry in schema.get("x-lint", [])])
        if any(entry["check"] == "closed" for entry in node.lints):
            node.where = self.catalogue.locate(schema)
        if "$ref" in schema:
            node.parts.append(self.at(absolute(base, schema["$ref"])))
        node.parts += [self.compile(sub, base) for sub in schema.get("allOf", [])]
        node.parts += [self.compile(schema[key], base) for key in ("then", "else") if key in schema]
        node.properties = {
            name: self.compile(sub, base) for name, sub in schema.get("properties", {}).items()
        }
        if isinstance(schema.get("items"), dict):
            node.items = self.compile(schema["items"], base)
        mapping = schema.get("discriminator", {}).get("mapping")
        for keyword in ("anyOf", "oneOf"):
            if mapping and keyword == "oneOf":
                node.by_type = {name: absolute(base, ref) for name, ref in mapping.items()}
                node.timeback = self.timeback
            else:
                node.branches += [
                    (self.json_types(sub, base), self.compile(sub, base)) for sub in schema.get(keyword, [])
                ]
        return node

    def worded(self, entry: Lint) -> Lint:
        """An entry in the words that fit the payload: its ``timeback`` wording for a Timeback one."""
        return {**entry, **entry["timeback"]} if self.timeback and "timeback" in entry else entry

    def json_types(self, schema: Schema, base: str) -> frozenset[str] | None:
        declared = schema.get("type")
        if declared is None and "$ref" in schema:
            target = absolute(base, schema["$ref"])
            return self.json_types(self.catalogue.resolve(target), urldefrag(target).url)
        if declared is None:
            return None
        return frozenset([declared] if isinstance(declared, str) else declared)


@functools.cache
def _plan(schema: str, timeback: bool = False) -> _Node:
    compiler = _Compiler(load(), timeback)
    root = compiler.at(schema)
    _prune(list(compiler.memo.values()))
    return root


def _accepts(types: frozenset[str] | None, value: Any) -> bool:
    kind = json_type(value)
    return types is None or kind in types or (kind == "integer" and "number" in types)


def _walk(value: Any, node: _Node, where: str, policy: Policy, out: list[Issue]) -> None:
    if node.schema is not None and clean_engine(policy.subjects).is_valid(node.schema, value):
        # Most entities of an invalid document are clean: one native check costs less than their walk.
        return
    _visit(value, node, where, policy, out)


def _visit(value: Any, node: _Node, where: str, policy: Policy, out: list[Issue]) -> None:
    # Appends rather than yields: a generator per visited node cost more than the checks themselves.
    for entry in node.lints:
        out.extend(CHECKS[entry["check"]](entry, value, where, node, policy))
    for part in node.parts:
        _walk(value, part, where, policy, out)
    if isinstance(value, dict):
        for name, child in node.properties.items():
            if name in value:
                _walk(value[name], child, join(where, name), policy, out)
        type_ = value.get("type") if node.by_type else None
        schema = node.by_type.get(type_) if isinstance(type_, str) else None
        if schema is not None:
            _walk(value, _plan(schema, node.timeback), where, policy, out)
    elif isinstance(value, list) and node.items is not None:
        for index, item in enumerate(value):
            _walk(item, node.items, join(where, index), policy, out)
    for types, branch in node.branches:
        if _accepts(types, value):
            _walk(value, branch, where, policy, out)


def lint(unit: Unit, policy: Policy = DEFAULT) -> list[Issue]:
    """The ``x-lint`` findings for one unit, as warnings (asked for a unit the lint-hardened fast path
    rejects: the walk starts without asking it again)."""
    found: list[Issue] = []
    _visit(unit.value, _plan(unit.schema, carries_timeback(unit.value)), unit.pointer, policy, found)
    return list(dict.fromkeys(found))


# --- the checks an x-lint entry can name ---------------------------------------------------------------

Check = Callable[[Lint, Any, str, _Node, Policy], Iterator[Issue]]


def _warning(entry: Lint, where: str, message: str, hint: str | None = None) -> Issue:
    return Issue(where, entry["rule"], "warning", message, hint=hint or entry.get("hint"))


def _pattern(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if isinstance(value, str) and not re.search(entry["pattern"], value):
        yield _warning(entry, where, f"{value!r} {entry['message']}")


def _format(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if isinstance(value, str) and not conforms(value, entry["format"]):
        yield _warning(entry, where, f"{value!r} {entry['message']}", hints.placeholder(value))


def _discouraged(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if isinstance(value, str) and value in entry["values"]:
        better = entry["values"][value]
        yield _warning(entry, where, f"{value!r} {entry['message']}", f"use `{better}`" if better else None)


def _present(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    yield _warning(entry, where, entry["message"])


def _required(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if isinstance(value, dict):
        for name in entry["properties"]:
            if name not in value:
                yield _warning(entry, join(where, name), entry["message"])


def _closed(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if isinstance(value, dict):
        known = sorted(node.known)
        renames = entry.get("renames", {})
        declarations = load().declarations(node.where) if node.where else {}
        for name in value:
            if name not in node.known:
                hint = f"use `{renames[name]}`: {entry['renamed']}" if name in renames else None
                hint = hint or suggest(name, value[name], known, lambda other: declarations.get(other, ()))
                yield _warning(entry, join(where, name), f"{name!r} {entry['message']}", hint)


def _decimal(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    if type(value) is int:  # a bool is an int too, but the schema's "number" type already rejects it
        yield _warning(entry, where, f"{value!r} {entry['message']}", f"write it as {value}.0")


def _listed(entry: Lint, value: Any, where: str, node: _Node, policy: Policy) -> Iterator[Issue]:
    """A value outside the list the policy picks (e.g. the Timeback subject list in force)."""
    chosen = policy.subjects if entry["rule"] == "timeback.subject" else entry["default"]
    allowed = entry["lists"][chosen]
    if isinstance(value, str) and value not in allowed:
        hint = hints.nearest(value, allowed) or hints.listing(allowed)
        yield _warning(entry, where, f"{value!r} {entry['message']} ({chosen})", hint)


CHECKS: dict[str, Check] = {
    "listed": _listed,
    "pattern": _pattern,
    "format": _format,
    "discouraged": _discouraged,
    "present": _present,
    "required": _required,
    "closed": _closed,
    "decimal": _decimal,
}
