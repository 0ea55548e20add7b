"""The fast path: jsonschema-rs over the same schema files, compiled lazily, one validator per schema.

A unit the fast path accepts is valid; the errors of a unit it rejects are explained as the authority
(:mod:`~caliper_schema.validation.authority`) would (:mod:`~caliper_schema.validation.tracing`). Each
``oneOf`` with a sibling
``discriminator`` (the OpenAPI keyword the schemas use for "an entity of one of these types") is lowered to
an ``x-dispatch`` keyword that checks the entity with its own type's validator. Branch ``X`` of such a
``oneOf`` accepts nothing but ``"type": "X"`` (``tests/test_schemas.py`` checks it), so the verdict is
the standard one; but jsonschema-rs compiles every ``$ref`` site on its own, and without the lowering it
does not finish compiling ~70 entity types that refer to each other. Lowered, each type's schema is
compiled once, when first needed.

>>> fast_engine().is_valid(load().types["Person"], {"id": "https://example.edu/users/1", "type": "Person"})
True
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

from caliper_schema.registry import Catalogue, Schema, absolute, load

DRAFT = "https://json-schema.org/draft/2020-12/schema"


@functools.cache
def _format_validator(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({"format": name}, validate_formats=True)


def conforms(value: object, format_name: str) -> bool:
    """True when a string conforms to a JSON Schema format, as jsonschema-rs checks it (``iri``, ...)."""
    return not isinstance(value, str) or bool(_format_validator(format_name).is_valid(value))


def _hardened(entry: dict[str, Any], subjects: str) -> Schema:
    """An ``x-lint`` entry as the hard constraint it is a soft version of (see :func:`clean_engine`)."""
    check = entry["check"]
    if check == "pattern":
        return {"pattern": entry["pattern"]}
    if check == "format":
        return {"format": entry["format"]}
    if check == "discouraged":
        return {"not": {"enum": list(entry["values"])}}
    if check == "listed":
        return {"enum": entry["lists"][subjects if entry["rule"] == "timeback.subject" else entry["default"]]}
    if check == "required":
        return {"required": entry["properties"]}
    if check == "decimal":
        return {"x-integer-literal": False}
    if check == "present":
        return {"not": {}}
    raise ValueError(f"no hard form for the lint check {check!r}")  # "closed" is handled by _lower


def _closed(lowered: Schema, node: Schema, catalogue: Catalogue) -> None:
    """``unevaluatedProperties: false`` as ``additionalProperties: false`` over every property the node and
    its bases declare, read statically as the authority reads it (see ``authority._unevaluated_properties``).

    Same verdict for a valid document, and a third less time: jsonschema-rs otherwise collects what each
    ``allOf`` branch evaluated. ``tests/test_schemas.py`` checks no closed node declares a property where
    the static reading cannot see it.
    """
    del lowered["unevaluatedProperties"]
    inherited = dict.fromkeys(sorted(catalogue.known_properties(node)), True)
    lowered["properties"] = {**inherited, **lowered.get("properties", {})}
    lowered["additionalProperties"] = False


def _lower(node: Any, base: str, catalogue: Catalogue, subjects: str | None = None) -> Any:
    """A copy of a schema document with each discriminated ``oneOf`` turned into ``x-dispatch`` and each
    closed object into ``additionalProperties``; given ``subjects``, also with each ``x-lint`` entry turned
    into the hard constraint it softens."""
    if isinstance(node, list):
        return [_lower(item, base, catalogue, subjects) for item in node]
    if not isinstance(node, dict):
        return node
    skip = ("oneOf", "discriminator") if "discriminator" in node and "oneOf" in node else ()
    lowered = {
        key: _lower(value, base, catalogue, subjects) for key, value in node.items() if key not in skip
    }
    if skip:
        lowered["x-dispatch"] = {
            name: absolute(base, ref) for name, ref in node["discriminator"]["mapping"].items()
        }
    if subjects is not None and "x-lint" in node:
        entries = node["x-lint"]
        hard = [_hardened(entry, subjects) for entry in entries if entry["check"] != "closed"]
        lowered["allOf"] = [*lowered.get("allOf", []), *hard]
        if any(entry["check"] == "closed" for entry in entries):
            if lowered.get("additionalProperties") is True:  # it says "open" for the models' sake only
                del lowered["additionalProperties"]
            lowered["unevaluatedProperties"] = False
    if lowered.get("unevaluatedProperties") is False:
        _closed(lowered, node, catalogue)
    return lowered


class IntegerLiteral:
    """``"x-integer-literal": false``: no integer literal where a decimal belongs (``25`` for ``25.0``).

    JSON Schema cannot tell the two apart; jsonschema-rs hands a keyword the parsed Python value, which can.
    """

    def __init__(self, parent_schema: Schema, value: bool, schema_path: list[str | int]) -> None:
        self.allowed = value

    def validate(self, instance: Any) -> None:
        if not self.allowed and type(instance) is int:
            raise ValueError(f"{instance} is written as an integer")


class FastEngine:
    """jsonschema-rs validators over the lowered catalogue, compiled lazily, one per schema.

    With ``subjects`` (a subject list), the soft constraints (``x-lint``) are hard too: such an engine
    accepts exactly the documents with no schema error and no lint finding (see :func:`clean_engine`).
    """

    def __init__(self, catalogue: Catalogue, subjects: str | None = None) -> None:
        self.catalogue, self.subjects = catalogue, subjects
        self.lowered: dict[str, Any] = {}
        # Each schema file lowered when a validator first refers to it (a Timeback event needs a fifth of
        # them): a process that checks a few types pays for those alone. The files are all bundled and
        # their references checked at load (registry.py); nothing is ever fetched.
        self.registry = jsonschema_rs.Registry([], retriever=self._retrieve)
        self.validators: dict[str, jsonschema_rs.Validator] = {}
        engine = self

        class Dispatch:
            """The ``x-dispatch`` keyword: check an entity with the validator of its own type."""

            def __init__(
                self, parent_schema: Schema, value: dict[str, str], schema_path: list[str | int]
            ) -> None:
                self.mapping = value

            def validate(self, instance: Any) -> None:
                if not isinstance(instance, dict):
                    return  # the sibling "type": "object" reports it
                target = self.mapping.get(instance.get("type"))  # type: ignore[arg-type]
                # Called for every entity of every document: the compiled validator without a detour.
                found = target and (engine.validators.get(target) or engine.validator(target))
                if not found or not found.is_valid(instance):
                    raise ValueError(f"not a valid {instance.get('type')!r} here")

        self.keywords = {"x-dispatch": Dispatch, "x-integer-literal": IntegerLiteral}

    def _retrieve(self, uri: str) -> Any:
        found = self.lowered.get(uri)
        if found is None:  # a copy: _lower builds every object anew
            schema = self.catalogue.schemas[uri]
            found = self.lowered[uri] = _lower(schema, uri, self.catalogue, self.subjects)
        return found

    def validator(self, schema: str) -> jsonschema_rs.Validator:
        """The compiled validator for one schema (``$id`` with an optional fragment)."""
        found = self.validators.get(schema)
        if found is None:
            found = self.validators[schema] = jsonschema_rs.validator_for(
                {"$schema": DRAFT, "$ref": schema}, registry=self.registry, validate_formats=True,
                keywords=self.keywords,
            )  # fmt: skip
        return found

    def is_valid(self, schema: str, instance: Any) -> bool:
        """True when ``instance`` is valid against the schema."""
        return bool(self.validator(schema).is_valid(instance))


@functools.cache
def fast_engine() -> FastEngine:
    """The fast path over the bundled catalogue."""
    return FastEngine(load())


@functools.cache
def clean_engine(subjects: str) -> FastEngine:
    """An engine that accepts only documents no ``x-lint`` check would flag (under this subject list).

    The linter walks the document in Python; most documents are clean, and one more jsonschema-rs pass
    tells so in microseconds, so the walk runs only where there is something to find.
    ``tests/test_linting.py`` checks that this engine never accepts what the linter flags.
    """
    return FastEngine(load(), subjects)
