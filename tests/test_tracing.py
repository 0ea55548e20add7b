"""The fast path's traced errors are the authority's: a differential test against jsonschema.

``checking.check`` explains a unit from jsonschema-rs's errors, traced back to what jsonschema would
have raised (``validation/tracing.py``). jsonschema stays the authority: here every invalid unit of the
IMS corpus, of the generator's invalid documents (bare and in envelopes, default and strict mutations)
and of the examples is checked by both, and the expectation is always jsonschema's own output, computed
in the test: the same errors (keyword, its value, the instance, the schema object, the path, the message,
each ``anyOf`` branch's errors), in the same order, and so the same issues. No unit may need the
fallback to the authority (which would be correct, but slow).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from caliper_schema.generation.generating import generate
from caliper_schema.policy import DEFAULT
from caliper_schema.registry import ENVELOPE_SHELL, load
from caliper_schema.validation import checking, tracing
from caliper_schema.validation.authority import authority_for
from caliper_schema.validation.dispatching import Unit, dispatch
from caliper_schema.validation.fastpath import fast_engine
from caliper_schema.validation.parsing import parse, parse_lines
from tests.conftest import CORPUS, EXAMPLES, ROOT


def _ims() -> Iterator[Any]:
    if not CORPUS.is_dir():
        pytest.skip(
            f"the IMS corpus is absent at {CORPUS}: set CALIPER_CONFORMANCE_DIR or CALIPER_SHARED_DIR"
        )
    for path in sorted(CORPUS.rglob("*.json")):
        yield parse(path.read_bytes())


def _examples() -> Iterator[Any]:
    for path in sorted(EXAMPLES.rglob("*.json*")):
        if path.suffix == ".jsonl":
            yield from parse_lines(path.read_bytes(), DEFAULT.limits)
        else:
            yield parse(path.read_bytes())


def _generated(**options: Any) -> Iterator[Any]:
    for fixture in generate(invalid=True, **options):
        yield parse(json.dumps(fixture.document))


SOURCES = {
    "ims": _ims,
    "examples": _examples,
    # What `caliper-schema generate --invalid --count 300 --seed 5 [--envelope] [--strict]` writes.
    "generated": lambda: _generated(count=300, seed=5),
    "generated-envelopes": lambda: _generated(count=300, seed=5, envelope=True),
    "generated-strict": lambda: _generated(count=150, seed=7, strict=True),
}
AT_LEAST = {"ims": (400, 250), "examples": (10, 4), "generated": (300, 200),
            "generated-envelopes": (300, 200), "generated-strict": (150, 80)}  # fmt: skip
"""Documents, and units the schemas reject, each source has at least: a source that comes up empty fails."""


@cache
def invalid_units(source: str) -> tuple[int, list[Unit]]:
    """How many documents a source has, and each unit of them that the schemas reject."""
    documents = [document for document in SOURCES[source]() if document.parsed]
    units = [unit for document in documents for unit in dispatch(document.value)[0]]
    return len(documents), [unit for unit in units if not fast_engine().is_valid(unit.schema, unit.value)]


def shape(error: Any, in_context: bool = False) -> tuple[Any, ...]:
    """What the explanations read of an error (``checking.explain``), comparable across the engines."""
    schema = error.schema
    # A catalogue object must be the same object (the explanations locate it by identity); a schema
    # made on the fly (a slot's own error, what the types of a slot share) an equal one.
    made = isinstance(schema, dict) and load().locate(schema) is None
    found = (
        error.validator,
        error.validator_value,
        type(error.instance).__name__,
        error.instance,
        tuple(error.absolute_path),
        error.message,
        json.dumps(schema, sort_keys=True) if made else id(schema),
    )
    if in_context:
        found += (error.relative_schema_path[0], tuple(error.relative_path))
    if error.validator in ("anyOf", "oneOf"):
        found += (tuple(shape(sub, in_context=True) for sub in error.context),)
    return found


@pytest.mark.parametrize("source", SOURCES)
def test_traced_errors_are_the_authoritys(source: str) -> None:
    documents, units = invalid_units(source)
    compared = 0
    for unit in units:
        expected = [shape(error) for error in authority_for(unit.schema).iter_errors(unit.value)]
        assert [shape(failure) for failure in tracing.failures(unit.schema, unit.value)] == expected, unit
        compared += len(expected)
    at_least_documents, at_least_units = AT_LEAST[source]
    assert documents >= at_least_documents and len(units) >= at_least_units
    assert compared >= len(units)


@pytest.mark.parametrize("source", SOURCES)
def test_issues_are_the_authoritys(source: str) -> None:
    _, units = invalid_units(source)
    compared = 0
    for unit in units:
        expected = checking.check_by_authority(unit)
        assert checking.check(unit) == expected, unit
        compared += len(expected)
    assert compared >= len(units)  # every invalid unit has at least one issue


def test_every_source_has_what_it_stands_for() -> None:
    # The sources above must be what they claim: enough invalid units of events, entities and envelopes.
    kinds = {
        unit.kind for source in ("generated", "generated-envelopes") for unit in invalid_units(source)[1]
    }
    assert kinds >= {"event", "envelope"}


def test_check_falls_back_to_the_authority(monkeypatch: pytest.MonkeyPatch) -> None:
    unit = Unit(
        "/data/0", {"type": "Person", "id": "not an iri", "name": 5}, load().types["Person"], "entity"
    )
    expected = checking.check_by_authority(unit)
    assert [(issue.pointer, issue.rule) for issue in expected] == [
        ("/data/0/id", "schema.format"),
        ("/data/0/name", "schema.type"),
    ]

    def untraceable(schema: str, instance: Any) -> list[tracing.Failure]:
        raise tracing.Untraceable("a keyword this test pretends not to know")

    monkeypatch.setattr(tracing, "failures", untraceable)
    assert checking.check(unit) == expected


# --- jsonschema's wording ----------------------------------------------------------------------------

MESSAGES: list[tuple[dict[str, Any], Any, Any]] = [
    ({"type": "string"}, 5, None),
    ({"type": ["string", "object"]}, 5, None),
    ({"required": ["a", "b"]}, {"b": 1}, "a"),
    ({"const": "x"}, "y", None),
    ({"enum": ["a", "b"]}, "c", None),
    ({"format": "date-time"}, "yesterday", None),
    ({"pattern": "^a"}, "b", None),
    ({"minimum": 1}, 0, None),
    ({"maximum": 1}, 2.5, None),
    ({"minItems": 1}, [], None),
    ({"minItems": 2}, [1], None),
    ({"maxItems": 0}, [1], None),
    ({"maxItems": 1}, [1, 2], None),
    ({"minLength": 1}, "", None),
    ({"minLength": 3}, "ab", None),
    ({"maxLength": 0}, "a", None),
    ({"maxLength": 1}, "ab", None),
    ({"contains": {"const": 1}}, [2, 3], None),
    ({"anyOf": [{"type": "string"}, {"type": "object"}]}, 1, None),
    ({"oneOf": [{"type": "string"}]}, 1, None),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "c": 2, "b": 3}, ["c", "b"]),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "z": 2}, ["z"]),
]


@pytest.mark.parametrize(("schema", "instance", "detail"), MESSAGES, ids=lambda value: str(value)[:30])
def test_messages_are_jsonschemas(schema: dict[str, Any], instance: Any, detail: Any) -> None:
    keyword = next(key for key in schema if key != "properties")
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    expected = [error.message for error in validator.iter_errors(instance)]
    assert [tracing.message(keyword, schema[keyword], instance, detail)] == expected


def test_an_unknown_keyword_is_untraceable_not_misworded() -> None:
    with pytest.raises(tracing.Untraceable):
        tracing.message("multipleOf", 3, 4)


NOT_FAILING = frozenset(
    {"$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "default", "examples",
     "properties", "allOf", "items", "if", "then", "else", "discriminator", "x-rule", "x-hint", "x-lint",
     "x-covers", "x-admits"}
)  # fmt: skip
"""Keywords that never fail themselves: annotations, and applicators whose subschemas' keywords fail."""


def _keywords(node: Any, parent: str | None = None) -> Iterator[str]:
    if isinstance(node, dict):
        if parent not in ("properties", "$defs", "discriminator", "mapping", "x-covers", "x-lint", "lists"):
            yield from node
        for key, value in node.items():
            yield from _keywords(value, key)
    elif isinstance(node, list) and parent not in ("x-lint", "enum", "required"):
        for item in node:
            yield from _keywords(item)


def test_every_keyword_the_schemas_use_has_jsonschemas_wording() -> None:
    # A schema that starts using a keyword tracing cannot word would fall back to the authority: slow.
    used = {name for path in sorted((ROOT / "schemas").rglob("*.json")) for name in _keywords(
        json.loads(path.read_text(encoding="utf-8")))}  # fmt: skip
    assert used - NOT_FAILING - set(tracing._MESSAGES) == set()
    assert {"unevaluatedProperties", "oneOf", "anyOf", "const", "format"} <= used


def test_a_value_of_no_object_in_an_entity_slot_is_traced_as_jsonschema_standard_oneof() -> None:
    # The fast path's x-dispatch passes a value that is no object (its sibling "type" reports it);
    # jsonschema's standard oneOf reports it too, with every branch's errors as its context.
    unit = Unit("", {"type": "Membership", "id": "https://example.edu/m/1", "member": 7},
                load().types["Membership"], "entity")  # fmt: skip
    expected = [shape(error) for error in authority_for(unit.schema).iter_errors(unit.value)]
    assert [shape(failure) for failure in tracing.failures(unit.schema, unit.value)] == expected
    (any_of,) = [error for error in tracing.failures(unit.schema, unit.value) if error.validator == "anyOf"]
    assert [sub.validator for sub in any_of.context] == ["type", "type", "oneOf"]
    assert any_of.context[2].context  # worked out when read: each branch's own type error


def test_the_envelope_shell_in_jsonschemas_order() -> None:
    # jsonschema takes the keywords as the schema writes them, properties in their declared order;
    # jsonschema-rs in its own (here: additionalProperties first, properties alphabetically).
    instance = {"data": [], "sensor": "", "extra": 1}
    failures = tracing.failures(ENVELOPE_SHELL, instance)
    assert [(f.validator, f.absolute_path) for f in failures] == [
        ("required", ()),
        ("required", ()),
        ("minLength", ("sensor",)),
        ("minItems", ("data",)),
        ("additionalProperties", ()),
    ]
    assert [shape(f) for f in failures] == [
        shape(e) for e in authority_for(ENVELOPE_SHELL).iter_errors(instance)
    ]


def test_explaining_never_imports_jsonschema() -> None:
    # The first invalid payload of an application costs no second of jsonschema's import (rfc3987-syntax
    # compiles its grammars then), and the application's own jsonschema is left as it is: its "iri"
    # checker is still rfc3987-syntax's when it imports jsonschema afterwards.
    script = f"""
import sys
from caliper_schema import validate, validate_file
invalid = sorted(__import__("pathlib").Path({str(EXAMPLES / "invalid")!r}).iterdir())
reports = [validate_file(path) for path in invalid]
reports.append(validate({{"type": "Webpage", "id": 7, "actor": {{"type": "Group"}}}}))
assert all(report.errors for report in reports), reports
print(sorted(name for name in sys.modules if name.split(".")[0] in ("jsonschema", "rfc3987_syntax", "lark")))
from jsonschema import Draft202012Validator
print(Draft202012Validator.FORMAT_CHECKER.checkers["iri"][0].__module__)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "jsonschema._format"]
