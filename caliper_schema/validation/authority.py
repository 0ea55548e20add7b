"""The authority: jsonschema (Draft 2020-12, formats checked) over the bundled schemas.

Asked only for units the fast path (:mod:`~caliper_schema.validation.fastpath`) rejects, to explain every
error. Two keywords get an implementation suited to these schemas, each with the standard verdict:

* ``oneOf`` with a sibling ``discriminator`` descends only into the branch the discriminator names (branch
  ``X`` accepts nothing but ``"type": "X"``, so no other branch could pass), and says so when a type is not
  one the slot admits. The standard keyword checks an entity against each of ~70 entity schemas at every
  level of nesting.
* ``unevaluatedProperties`` reads the evaluated properties from the schema statically, see
  :func:`_unevaluated_properties`.

This module is imported on the slow path only: importing jsonschema with its non-GPL format checkers
costs about a second (rfc3987-syntax compiles a grammar at import).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from caliper_schema import hints
from caliper_schema.registry import Catalogue, Schema, load
from caliper_schema.validation.fastpath import conforms

FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checkers = {**Draft202012Validator.FORMAT_CHECKER.checkers}
# The formats the schemas use are checked by jsonschema-rs's checkers in both engines, so the fast path and
# the authority agree by construction. jsonschema's own differ: its non-GPL "iri" checker (rfc3987-syntax)
# runs a lark Earley parser, ~60 ms an IRI; its "email" only looks for an "@" ("ada@" passes); its
# "date-time" refuses RFC 3339's leap second 23:59:60, which Python's datetime cannot hold.
for _name in ("iri", "email", "date-time"):
    FORMAT_CHECKER.checks(_name)(functools.partial(conforms, format_name=_name))


def _one_of(validator: Any, one_of: list[Any], instance: Any, schema: Schema) -> Iterator[ValidationError]:
    """``oneOf``, descending only into the branch a sibling ``discriminator`` names.

    An object whose type is missing or not a known type is still checked against what every type the
    slot admits has in common (:func:`least`), so its other faults show in the same report. One of a known
    type the slot does not admit is not: its properties are those of another type.
    """
    discriminator = schema.get("discriminator")
    if not discriminator or not isinstance(instance, dict):
        yield from _STANDARD_ONE_OF(validator, one_of, instance, schema)
        return
    name = discriminator["propertyName"]
    mapping: dict[str, str] = discriminator.get("mapping", {})
    value = instance.get(name)
    if name not in instance:
        yield ValidationError(
            f"{name!r} is a required property",
            validator="required", validator_value=[name], instance=instance,
            schema={"required": [name], "x-hint": _name_it(name, mapping, schema)},
        )  # fmt: skip
    elif not isinstance(value, str):
        yield ValidationError(f"{value!r} is not a string", validator="type", validator_value="string",
                              instance=value, schema={"type": "string"}, path=[name])  # fmt: skip
    elif value not in mapping:
        yield ValidationError(f"{value!r} is not allowed here", validator="discriminator",
                              validator_value=sorted(mapping), instance=value, schema=schema,
                              path=[name])  # fmt: skip
        if value in load().types:
            return  # a type of its own, just not one this slot admits: its properties are not the slot's
    else:
        index = next(i for i, branch in enumerate(one_of) if branch.get("$ref") == mapping[value])
        yield from validator.descend(instance, one_of[index], schema_path=index)
        return
    yield from _at_least(validator, instance, frozenset(mapping), name)


def _name_it(name: str, mapping: dict[str, str], schema: Schema) -> str:
    if len(mapping) == 1:
        return f'add "{name}": "{next(iter(mapping))}"'
    return f"name what it is: {schema.get('description') or hints.listing(sorted(mapping))}"


def _at_least(validator: Any, instance: dict[str, Any], admitted: frozenset[str], name: str
              ) -> Iterator[ValidationError]:  # fmt: skip
    """The errors of an object of no known type against what every type of ``admitted`` has in common;
    and, for a member holding an object of an admitted type (the entity wrapped one level too deep), the
    errors of that object as what it says it is."""
    common = least(admitted, name, event="action" in instance)
    yield from validator.descend(instance, common)
    types = load().types
    for key, inner in instance.items():
        wrapped = inner.get(name) if isinstance(inner, dict) else None
        if key not in common["properties"] and isinstance(wrapped, str) and wrapped in admitted:
            yield from validator.descend(inner, {"$ref": types[wrapped]}, path=key)


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


def _unevaluated_properties(
    validator: Any, allowed: Any, instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    """``unevaluatedProperties: false``, with the evaluated properties read statically from the schema.

    The standard keyword re-validates the whole instance against each ``allOf`` branch to collect the
    annotations of the branches that pass, at every level of nesting: seconds for one invalid entity.
    Read statically (every property the schema and its bases declare), the verdict only differs when a
    base already fails, so a document's validity never changes; and an unknown key is reported as such
    rather than every key of an object whose base has an unrelated error.
    """
    if allowed is not False or not isinstance(instance, dict):
        yield from _STANDARD_UNEVALUATED(validator, allowed, instance, schema)
        return
    known = load().known_properties(schema)
    unknown = [name for name in instance if name not in known]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        yield ValidationError(f"Unevaluated properties are not allowed ({listed} were unexpected)")


_STANDARD_ONE_OF = Draft202012Validator.VALIDATORS["oneOf"]
_STANDARD_UNEVALUATED = Draft202012Validator.VALIDATORS["unevaluatedProperties"]
CaliperValidator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in types-jsonschema
    Draft202012Validator, {"oneOf": _one_of, "unevaluatedProperties": _unevaluated_properties}
)


def authority(schema: str, catalogue: Catalogue) -> Any:
    """The jsonschema validator (2020-12, formats checked, discriminator-aware) for one schema."""
    return CaliperValidator({"$ref": schema}, registry=catalogue.registry, format_checker=FORMAT_CHECKER)


@functools.cache
def authority_for(schema: str) -> Any:
    """:func:`authority` over the bundled catalogue, compiled once per schema."""
    return authority(schema, load())
