"""The authority: jsonschema (Draft 2020-12, formats checked) over the bundled schemas.

The reference for every explanation: :func:`~caliper_schema.validation.checking.check` explains a unit
from the fast path's errors traced back to this validator's (:mod:`~caliper_schema.validation.tracing`),
and ``tests/test_tracing.py`` holds them to this validator's own, error for error; ``check`` falls back to
it for an error it cannot trace. Two keywords get an implementation suited to these schemas, each with
the standard verdict:

* ``oneOf`` with a sibling ``discriminator`` descends only into the branch the discriminator names (branch
  ``X`` accepts nothing but ``"type": "X"``, so no other branch could pass), and says so when a type is not
  one the slot admits. The standard keyword checks an entity against each of ~70 entity schemas at every
  level of nesting.
* ``unevaluatedProperties`` reads the evaluated properties from the schema statically, see
  :func:`_unevaluated_properties`.

``validate()`` never imports this module (but in that fallback): importing jsonschema with its non-GPL
format checkers costs one to three seconds (rfc3987-syntax compiles lark grammars at import), and an
application's own use of jsonschema is left as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from caliper_schema.registry import Catalogue, Schema, load
from caliper_schema.validation.fastpath import conforms
from caliper_schema.validation.tracing import Raise, slot

FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checkers = {**Draft202012Validator.FORMAT_CHECKER.checkers}
# The formats the schemas use are checked by jsonschema-rs's checkers in both engines, so the fast path and
# the authority agree by construction. jsonschema's own differ: its non-GPL "iri" checker (rfc3987-syntax)
# runs a lark Earley parser, ~60 ms an IRI; its "email" only looks for an "@" ("ada@" passes); its
# "date-time" refuses RFC 3339's leap second 23:59:60, which Python's datetime cannot hold.
for _name in ("iri", "email", "date-time"):
    FORMAT_CHECKER.checks(_name)(functools.partial(conforms, format_name=_name))


def _one_of(validator: Any, one_of: list[Any], instance: Any, schema: Schema) -> Iterator[ValidationError]:
    """``oneOf``, descending only into the branch a sibling ``discriminator`` names (see
    :func:`~caliper_schema.validation.tracing.slot`, which both engines' explanations follow)."""
    if not schema.get("discriminator") or not isinstance(instance, dict):
        yield from _STANDARD_ONE_OF(validator, one_of, instance, schema)
        return
    for step in slot(schema, instance):
        if isinstance(step, Raise):
            yield ValidationError(step.message, validator=step.validator,
                                  validator_value=step.validator_value, instance=step.instance,
                                  schema=step.schema, path=step.path)  # fmt: skip
        else:
            yield from validator.descend(step.instance, step.schema, path=(step.path or [None])[0],
                                         schema_path=step.schema_path)  # fmt: skip


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
