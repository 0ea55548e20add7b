"""Step 4b, tracing: the fast path's errors, as the authority would have raised them.

jsonschema-rs (:mod:`~caliper_schema.validation.fastpath`) lists every error of a unit in microseconds;
jsonschema (:mod:`~caliper_schema.validation.authority`) takes a millisecond or more, in pure Python, and
a second or more to import. This module turns jsonschema-rs's errors into :class:`Failure` records with
the fields of jsonschema's ``ValidationError`` that :mod:`~caliper_schema.validation.checking` explains
(keyword, its value, the instance, the schema object, the paths, the context of an ``anyOf``), in the order
jsonschema yields them, so that the same explanations come out of either engine.

Three things differ between the engines, and are put back here:

* **Order.** jsonschema walks a schema's keywords in the order the schema writes them (``properties`` in
  the order they are declared, ``items`` in array order); jsonschema-rs in an order of its own. Each error's
  evaluation path is followed through the bundled schemas (:func:`trace`) to a sort key in jsonschema's order.
* **Entity slots.** The fast path lowers a discriminated ``oneOf`` to ``x-dispatch``, which only says "not
  a valid X here". :func:`slot` says what the authority reports for such a slot (one plan for both engines);
  here each step becomes failures, the entity's own errors from its type's validator.
* **Messages.** The few explanations that quote jsonschema's message get jsonschema's wording
  (:func:`message`), not jsonschema-rs's.

Anything this module cannot map with certainty (a keyword it does not know, a path it cannot follow)
raises :class:`Untraceable`, and :func:`~caliper_schema.validation.checking.check` asks the authority
instead: slower, never wrong. ``tests/test_tracing.py`` proves both engines give the same issues, in the
same order, on the IMS corpus, the generator's invalid documents and the examples.

>>> from caliper_schema.registry import ENVELOPE_SHELL
>>> [(f.validator, f.detail) for f in failures(ENVELOPE_SHELL, {"sensor": "s", "data": []})]
[('required', 'sendTime'), ('required', 'dataVersion'), ('minItems', None)]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urldefrag

import jsonschema_rs

from caliper_schema import hints
from caliper_schema.registry import Schema, absolute, load
from caliper_schema.validation.fastpath import DRAFT, fast_engine

Path = tuple[str | int, ...]


class Untraceable(Exception):
    """A fast-path error this module cannot map to the authority's with certainty."""


# --- what the authority reports for an entity slot (shared with authority.py) ------------------------


class Raise(NamedTuple):
    """An error the slot raises itself, with the fields jsonschema's ``ValidationError`` takes."""

    message: str
    validator: str
    validator_value: Any
    instance: Any
    schema: Schema
    path: Path = ()


class Descend(NamedTuple):
    """The errors of ``instance`` (at ``path`` below the slot's value) against ``schema``."""

    instance: Any
    schema: Schema
    path: Path = ()
    schema_path: int | None = None


def slot(schema: Schema, instance: dict[str, Any]) -> Iterator[Raise | Descend]:
    """What a ``oneOf`` with a sibling ``discriminator`` reports for an object: the errors of the branch
    its type names (branch ``X`` accepts nothing but ``"type": "X"``, so no other branch could pass).

    An object whose type is missing or not a known type is still checked against what every type the
    slot admits has in common (:func:`least`), so its other faults show in the same report. One of a known
    type the slot does not admit is not: its properties are those of another type.

    >>> [step.validator for step in slot(load().resolve(load().types["Person"] + "#/$defs/ref/anyOf/1"),
    ...                                  {"type": "Group", "id": "https://example.edu/groups/1"})]
    ['discriminator']
    """
    discriminator = schema["discriminator"]
    name = discriminator["propertyName"]
    mapping: dict[str, str] = discriminator.get("mapping", {})
    value = instance.get(name)
    if name not in instance:
        yield Raise(f"{name!r} is a required property", "required", [name], instance,
                    {"required": [name], "x-hint": _name_it(name, mapping, schema)})  # fmt: skip
    elif not isinstance(value, str):
        yield Raise(f"{value!r} is not a string", "type", "string", value, {"type": "string"}, (name,))
    elif value not in mapping:
        yield Raise(f"{value!r} is not allowed here", "discriminator", sorted(mapping), value, schema,
                    (name,))  # fmt: skip
        if value in load().types:
            return  # a type of its own, just not one this slot admits: its properties are not the slot's
    else:
        index, branch = next((i, b) for i, b in enumerate(schema["oneOf"]) if b.get("$ref") == mapping[value])
        yield Descend(instance, branch, schema_path=index)
        return
    # What every admitted type has; and, for a member holding an object of an admitted type (the entity
    # wrapped one level too deep), the errors of that object as what it says it is.
    admitted = frozenset(mapping)
    common = least(admitted, name, event="action" in instance)
    yield Descend(instance, common)
    types = load().types
    for key, inner in instance.items():
        wrapped = inner.get(name) if isinstance(inner, dict) else None
        if key not in common["properties"] and isinstance(wrapped, str) and wrapped in admitted:
            yield Descend(inner, _reference(types[wrapped]), (key,))


@functools.cache
def _reference(uri: str) -> Schema:
    return {"$ref": uri}


def _name_it(name: str, mapping: dict[str, str], schema: Schema) -> str:
    if len(mapping) == 1:
        return f'add "{name}": "{next(iter(mapping))}"'
    return f"name what it is: {schema.get('description') or hints.listing(sorted(mapping))}"


@functools.cache
def least(admitted: frozenset[str], name: str = "type", *, event: bool = False) -> Schema:
    """What every type of ``admitted`` asks of an object, as a schema: the properties they all require
    (but ``name``, the type itself) and the declarations they share; and, when every one of them is
    closed, no property none of them declares. The types compared are those of the same kind as the
    object (events when it has an ``action``, else entities) and, when there are any, the Caliper ones:
    a Timeback entity shares nothing with a Caliper one but its name.

    >>> sorted(least(frozenset({"Score"}))["required"])
    ['id']
    """
    catalogue = load()
    types = sorted(admitted)
    kinds = {type_: catalogue.kind(catalogue.types[type_]) for type_ in types}
    same_kind = [type_ for type_ in types if (kinds[type_] == "event") == event] or types
    entities = [type_ for type_ in same_kind if kinds[type_] != "node"] or same_kind
    caliper = [type_ for type_ in entities if type_ not in catalogue.timeback_types] or entities
    uris = [catalogue.types[type_] for type_ in types]
    compared = [catalogue.types[type_] for type_ in caliper]
    declared = [catalogue.declarations(uri) for uri in compared]
    shared: dict[str, Any] = {}
    for prop, where in declared[0].items():
        common = [uri for uri in where if all(uri in other.get(prop, ()) for other in declared[1:])]
        if common and prop != name:
            shared[prop] = {"allOf": [{"$ref": uri} for uri in common]}
    required = frozenset.intersection(*(catalogue.required(uri) for uri in compared)) - {name}
    schema: Schema = {"type": "object", "required": sorted(required), "properties": shared,
                      "x-admits": sorted(admitted)}  # fmt: skip
    if all(catalogue.closed(uri) for uri in uris):
        known = {prop for uri in uris for prop in catalogue.declarations(uri)}
        schema["properties"] = {**dict.fromkeys(sorted(known - set(shared)), True), **shared}
        schema["additionalProperties"] = False
    return schema


# --- failures: jsonschema's errors, rebuilt ---------------------------------------------------------


@dataclass(eq=False, slots=True)
class Failure:
    """One schema error with the fields of jsonschema's ``ValidationError`` that the explainers read."""

    validator: str
    """The keyword that failed, as jsonschema names it (``unevaluatedProperties``, not the fast path's
    ``additionalProperties``)."""
    validator_value: Any
    instance: Any
    schema: Schema
    """The schema object holding the keyword: the bundled catalogue's own object, as jsonschema's is."""
    absolute_path: Path
    relative_path: Path = ()
    """For an error in an ``anyOf``'s context: its path below the ``anyOf``'s instance."""
    relative_schema_path: Path = ()
    """For an error in an ``anyOf``'s context: the branch it came from (the only part ever read)."""
    detail: Any = None
    """What jsonschema's message names besides the keyword's value and the instance: the missing
    property of a ``required`` error, the unexpected ones of a closed object."""
    branches: Callable[[], list[Failure]] | list[Failure] | None = None
    said: str | None = None
    """The message of an error a slot raises itself (:class:`Raise`)."""

    @property
    def context(self) -> list[Failure]:
        """The errors of each branch of a failed ``anyOf``/``oneOf``, branch by branch."""
        if callable(self.branches):
            self.branches = self.branches()
        return self.branches or []

    @property
    def message(self) -> str:
        """jsonschema's message for this error."""
        if self.said is not None:
            return self.said
        return message(self.validator, self.validator_value, self.instance, self.detail)


def message(keyword: str, value: Any, instance: Any, detail: Any = None) -> str:
    """jsonschema's message for a failed keyword (its wording, for the explanations that quote it).

    >>> message("minimum", 1, 0)
    '0 is less than the minimum of 1'
    """
    wording = _MESSAGES.get(keyword)
    if wording is None:
        raise Untraceable(f"no message for the keyword {keyword!r}")
    return wording(value, instance, detail)


def _sized(short: str, empty: str, limit: int) -> Callable[[Any, Any, Any], str]:
    return lambda value, instance, _: f"{instance!r} {empty if value == limit else short}"


def _types(value: Any, instance: Any, _: Any) -> str:
    names = [value] if isinstance(value, str) else value
    return f"{instance!r} is not of type {', '.join(repr(name) for name in names)}"


def _additional(value: Any, instance: Any, extras: list[str]) -> str:
    listed = ", ".join(repr(extra) for extra in sorted(extras, key=str))
    were = "was" if len(extras) == 1 else "were"
    return f"Additional properties are not allowed ({listed} {were} unexpected)"


_MESSAGES: dict[str, Callable[[Any, Any, Any], str]] = {
    "type": _types,
    "required": lambda value, instance, name: f"{name!r} is a required property",
    "const": lambda value, instance, _: f"{value!r} was expected",
    "enum": lambda value, instance, _: f"{instance!r} is not one of {value!r}",
    "format": lambda value, instance, _: f"{instance!r} is not a {value!r}",
    "pattern": lambda value, instance, _: f"{instance!r} does not match {value!r}",
    "minimum": lambda value, instance, _: f"{instance!r} is less than the minimum of {value!r}",
    "maximum": lambda value, instance, _: f"{instance!r} is greater than the maximum of {value!r}",
    "minItems": _sized("is too short", "should be non-empty", 1),
    "minLength": _sized("is too short", "should be non-empty", 1),
    "maxItems": _sized("is too long", "is expected to be empty", 0),
    "maxLength": _sized("is too long", "is expected to be empty", 0),
    "contains": lambda value, instance, _: f"{instance!r} does not contain items matching the given schema",
    "anyOf": lambda value, instance, _: f"{instance!r} is not valid under any of the given schemas",
    "oneOf": lambda value, instance, _: f"{instance!r} is not valid under any of the given schemas",
    "additionalProperties": _additional,
    "unevaluatedProperties": lambda value, instance, names: (
        f"Unevaluated properties are not allowed ({names} were unexpected)"
    ),
    "discriminator": lambda value, instance, _: f"{instance!r} is not allowed here",
}
"""jsonschema's wording for each keyword the schemas use (``authority._unevaluated_properties``' own for
``unevaluatedProperties``, ``slot``'s for ``discriminator``)."""


def failures(schema: str, instance: Any) -> list[Failure]:
    """Every error of ``instance`` against the bundled schema ``schema``, as the authority lists them."""
    return _call(_reference(schema), None, instance, (), 0, None)


def _call(root: Schema, base: str | None, instance: Any, at: Path, anchor: int, branch: int | None
          ) -> list[Failure]:  # fmt: skip
    """The failures of one jsonschema-rs call: ``instance`` (at ``at`` in the unit) against ``root``.

    ``anchor``: how much of ``at`` an enclosing ``anyOf`` context's instance covers; ``branch``: the
    branch of that context the failures belong to.
    """
    errors = _validator(root).iter_errors(instance)
    return _ordered(errors, Scope(root, base, instance, at, anchor, branch))


class Scope(NamedTuple):
    """Where a list of jsonschema-rs errors is traced from: one call, or one branch of an ``anyOf``."""

    root: Schema
    """The schema object the evaluation paths start from."""
    base: str | None
    """What the references of ``root`` resolve against."""
    value: Any
    """The instance at ``root``."""
    at: Path
    """Where ``value`` is in the unit."""
    anchor: int
    """How much of a path the instance of the enclosing ``anyOf`` context covers."""
    branch: int | None
    """The branch of that context."""
    above: Sequence[str | int] = ()
    """In a context: the ``anyOf``'s evaluation path (the errors' paths start with it)."""
    skip: int = 0
    """In a context: the length of the ``anyOf``'s instance path (the errors' paths start with it)."""


def _ordered(errors: Iterable[jsonschema_rs.ValidationError], scope: Scope) -> list[Failure]:
    """Errors of one list (a call's, or one branch of an ``anyOf``'s context), in jsonschema's order."""
    keyed: list[tuple[list[int], int, list[Failure]]] = []
    for number, error in enumerate(errors):
        path = _evaluation_path(error, scope.above, scope.root)
        where = list(error.instance_path)[scope.skip :]
        node, keyword, key, base = trace(scope.root, scope.base, path, where)
        instance = _at(scope.value, where)
        at = (*scope.at, *where)
        keyed.append((key, number, _failures(error, node, keyword, base, instance, at, scope)))
        if keyword == "type" and "discriminator" in node and not isinstance(instance, dict):
            # jsonschema's standard oneOf runs for a value that is no object; the fast path says nothing.
            one_of = _one_of(node, base, instance, at, scope.anchor, scope.branch)
            keyed.append(([*key[:-1], _position(node, "oneOf")], number, [one_of]))
    keyed.sort(key=lambda entry: (entry[0], entry[1]))
    return [failure for _, _, found in keyed for failure in found]


def _evaluation_path(error: jsonschema_rs.ValidationError, above: Sequence[str | int], root: Schema
                     ) -> list[str | int]:  # fmt: skip
    """The keywords from ``root`` (or from the enclosing ``anyOf``, ``above``) to the failed keyword.

    jsonschema-rs gives a custom keyword's path from the root of its schema file, not of the evaluation;
    ``x-dispatch`` sits in the file the path last entered, at a place its absolute location names.
    """
    path = list(error.evaluation_path)
    if path[-1] != "x-dispatch":
        if above:
            if path[: len(above)] != list(above):
                raise Untraceable("a context error outside its anyOf")
            return [above[-1], *path[len(above) :]]
        return path
    location = error.absolute_keyword_location or ""
    if above:  # in an anyOf's context: the branch's own node
        parent, _, rest = location.rpartition("/x-dispatch")[0].rpartition("/")
        if rest.isdigit() and parent.endswith("/" + str(above[-1])):
            return [above[-1], int(rest), "x-dispatch"]
        raise Untraceable(f"x-dispatch at {location}")
    if path == ["x-dispatch"] and location == f"{root.get('$ref')}#/x-dispatch":
        return ["$ref", "x-dispatch"]  # the root of the unit's own schema (document.json)
    raise Untraceable(f"x-dispatch at {location}")


def _failures(error: jsonschema_rs.ValidationError, node: Schema, keyword: str, base: str | None,
              instance: Any, at: Path, scope: Scope) -> list[Failure]:  # fmt: skip
    """The failures one jsonschema-rs error stands for: itself, or a slot's whole report."""
    if keyword == "x-dispatch":
        return _slot(node, base, instance, at, scope.anchor, scope.branch)
    detail = None
    if keyword == "required":
        detail = error.kind.property  # type: ignore[attr-defined]
    elif keyword == "unevaluatedProperties":
        known = load().known_properties(node)
        detail = ", ".join(repr(name) for name in instance if name not in known)
    elif keyword == "additionalProperties":
        detail = [name for name in instance if name not in node.get("properties", {})]
    elif keyword not in _MESSAGES:
        raise Untraceable(f"the keyword {keyword!r}")
    failure = Failure(keyword, node[keyword], instance, node, at, at[scope.anchor :], _branch(scope.branch),
                      detail)  # fmt: skip
    if keyword in ("anyOf", "oneOf"):
        context = getattr(error.kind, "context", None)
        if context is None:  # a oneOf that more than one branch passes: jsonschema words it otherwise
            raise Untraceable(f"{keyword} without a context")
        # Its branches' errors have paths from the same root as its own, as jsonschema-rs gave them.
        above, skip = list(error.evaluation_path), len(error.instance_path)
        failure.branches = [
            each
            for index, errors in enumerate(context)
            for each in _ordered(errors, Scope(node, base, instance, at, len(at), index, above, skip))
        ]
        _check_branches(failure, len(context))
    return [failure]


def _check_branches(failure: Failure, count: int) -> None:
    branches = {each.relative_schema_path[0] for each in failure.context}
    if count != len(failure.validator_value) or not branches <= set(range(count)):
        raise Untraceable("a context that does not match its branches")


def _branch(branch: int | None) -> Path:
    return () if branch is None else (branch,)


def _slot(node: Schema, base: str | None, instance: Any, where: Path, anchor: int, branch: int | None
          ) -> list[Failure]:  # fmt: skip
    """A slot's report (:func:`slot`), each step as failures."""
    found: list[Failure] = []
    for step in slot(node, instance):
        if isinstance(step, Raise):
            at = (*where, *step.path)
            found.append(Failure(step.validator, step.validator_value, step.instance, step.schema, at,
                                 at[anchor:], _branch(branch), said=step.message))  # fmt: skip
        else:
            found += _call(_branch_schema(base, step.schema), None, step.instance, (*where, *step.path),
                           anchor, branch)  # fmt: skip
    return found


def _branch_schema(base: str | None, schema: Schema) -> Schema:
    """A slot's branch (``{"$ref": "person.json"}``) as an absolute reference; any other schema as it is."""
    if set(schema) == {"$ref"}:
        return _reference(absolute(base or "", schema["$ref"]))
    return schema


def _one_of(node: Schema, base: str | None, instance: Any, where: Path, anchor: int, branch: int | None
            ) -> Failure:  # fmt: skip
    """jsonschema's standard ``oneOf`` over a slot's branches, for a value that is no object; its context
    (every branch's errors) is only worked out if an explanation reads it."""

    def context() -> list[Failure]:
        return [
            failure
            for index, option in enumerate(node["oneOf"])
            for failure in _call(_branch_schema(base, option), None, instance, where, len(where), index)
        ]

    return Failure("oneOf", node["oneOf"], instance, node, where, where[anchor:], _branch(branch),
                   branches=context)  # fmt: skip


# --- following an evaluation path through the schemas ------------------------------------------------


def trace(root: Schema, base: str | None, path: Sequence[str | int], where: Sequence[str | int]
          ) -> tuple[Schema, str, list[int], str | None]:  # fmt: skip
    """Follow an evaluation path from ``root`` (whose ``$ref``\\ s resolve against ``base``) to the
    schema object holding the failed keyword; ``where``: the instance path, for ``items``.

    Returns that object, the keyword as jsonschema names it, a sort key (the position of each step in
    the order jsonschema takes them) and the base the object's references resolve against.

    >>> from caliper_schema.registry import ENVELOPE_SHELL
    >>> node, keyword, key, _ = trace({"$ref": ENVELOPE_SHELL}, None,
    ...                               ["$ref", "properties", "sensor", "minLength"], ["sensor"])
    >>> node["minLength"], keyword, key
    (1, 'minLength', [0, 3, 0, 1])
    """
    route = _ROUTES.get((id(root), base, tuple(path)))
    if route is None:
        route = _ROUTES[(id(root), base, tuple(path))] = _route(root, base, path)
    node, keyword, key, node_base, items, depth, _ = route
    if depth != len(where):
        raise Untraceable("an instance path the evaluation path does not reach")
    if items:  # the array index of each `items` step is the instance's, not the schema's
        key = list(key)
        for position, level in items:
            index = where[level]
            key[position] = index if isinstance(index, int) else -1
    return node, keyword, key, node_base


class _Route(NamedTuple):
    node: Schema
    keyword: str
    key: list[int]
    base: str | None
    items: list[tuple[int, int]]
    """For each ``items`` step: where its index goes in the key, and which level of the instance path."""
    depth: int
    """How many steps of the instance path the evaluation path takes."""
    root: Schema
    """Kept alive: the routes are remembered by the root's ``id``."""


_ROUTES: dict[tuple[int, str | None, tuple[str | int, ...]], _Route] = {}
"""Each evaluation path followed once: as many as the schemas have places an error can be raised."""


def _route(root: Schema, base: str | None, path: Sequence[str | int]) -> _Route:
    node: Any = root
    key: list[int] = []
    items: list[tuple[int, int]] = []
    depth = 0
    last = len(path) - 1
    step_at = 0
    while step_at <= last:
        step = path[step_at]
        if not isinstance(node, dict) or not isinstance(step, str):
            raise Untraceable(f"the step {step!r}")
        keyword = _named(node, step)
        key.append(_position(node, keyword))
        if step_at == last:  # the failed keyword
            return _Route(node, keyword, key, base, items, depth, root)
        after = path[step_at + 1]
        step_at += 1
        if step == "$ref":
            node, base = _resolve(base, node["$ref"])
        elif step == "properties" and isinstance(after, str) and after in node["properties"]:
            key.append(list(node["properties"]).index(after))
            node = node["properties"][after]
            depth, step_at = depth + 1, step_at + 1
        elif step in ("allOf", "anyOf", "oneOf") and isinstance(after, int):
            key.append(after)
            node = node[step][after]
            step_at += 1
        elif step == "items":
            items.append((len(key), depth))
            key.append(0)
            node = node["items"]
            depth += 1
        elif step in ("then", "else"):
            node = node[step]
        else:
            raise Untraceable(f"a path through {step!r}")
    raise Untraceable("an empty evaluation path")


def _named(node: Schema, step: str) -> str:
    """The keyword as jsonschema names it: the fast path says ``additionalProperties`` for a closed object."""
    closed = node.get("additionalProperties") is not False and node.get("unevaluatedProperties") is False
    return "unevaluatedProperties" if step == "additionalProperties" and closed else step


_TAKEN_WITH = {"then": "if", "else": "if", "x-dispatch": "oneOf"}
"""jsonschema evaluates ``then``/``else`` within ``if``, and the slot within its ``oneOf``."""


def _position(node: Schema, keyword: str) -> int:
    name = keyword if keyword in node else _TAKEN_WITH.get(keyword, keyword)
    try:
        return list(node).index(name)
    except ValueError:
        raise Untraceable(f"the keyword {keyword!r} is not in its schema") from None


@functools.cache
def _resolve(base: str | None, ref: str) -> tuple[Schema, str]:
    target = absolute(base, ref) if base else ref
    return load().resolve(target), urldefrag(target).url


def _at(value: Any, path: Iterable[str | int]) -> Any:
    for step in path:
        value = value[step]
    return value


_COMPILED: dict[int, tuple[Schema, jsonschema_rs.Validator]] = {}


def _validator(root: Schema) -> jsonschema_rs.Validator:
    """The fast path's validator for a schema reference, or one compiled for a schema made on the fly
    (:func:`least`): both over the fast path's lowered catalogue."""
    if set(root) == {"$ref"}:
        return fast_engine().validator(root["$ref"])
    found = _COMPILED.get(id(root))
    if found is None:
        engine = fast_engine()
        found = _COMPILED[id(root)] = (root, jsonschema_rs.validator_for(
            {"$schema": DRAFT, **root}, registry=engine.registry, validate_formats=True,
            keywords=engine.keywords,
        ))  # fmt: skip
    return found[1]
