"""The schemas themselves: valid 2020-12, laid out as promised, closed over their own references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from caliper_schema import registry
from caliper_schema.locating import walk
from caliper_schema.registry import BASE_URI, SchemaError
from tests.conftest import ROOT

SCHEMA_FILES = sorted((ROOT / "schemas").rglob("*.json"))


def test_there_are_schemas() -> None:
    assert len(SCHEMA_FILES) >= 20


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)  # raises SchemaError with the offending keyword


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_schema_id_matches_its_place_and_file_is_canonically_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["$id"] == BASE_URI + path.relative_to(ROOT / "schemas").as_posix()
    assert text == json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "format with json.dumps(indent=2)"


def _discriminated(node: Any) -> list[dict[str, Any]]:
    return [current for _, current in walk(node) if isinstance(current, dict) and "discriminator" in current]


def test_every_discriminator_branch_pins_its_type() -> None:
    """The discriminator keyword is only a shortcut when branch X accepts nothing but ``type: X``."""
    catalogue = registry.load()
    checked = 0
    for uri, schema in catalogue.schemas.items():
        for union in _discriminated(schema):
            mapping = union["discriminator"]["mapping"]
            targets = {urljoin(uri, branch["$ref"]) for branch in union["oneOf"]}
            assert targets == {urljoin(uri, ref) for ref in mapping.values()}, uri
            for name, ref in mapping.items():
                const = catalogue.resolve(urljoin(uri, ref))["properties"]["type"]["const"]
                assert const == name, f"{uri}: branch {ref} pins type {const!r}, mapped as {name!r}"
                checked += 1
    assert checked >= 4


def test_document_types_are_indexed() -> None:
    types = registry.load().types
    for name in ("Event", "Entity", "ActivityEvent", "TimeSpentEvent", "TimebackUser"):
        assert name in types


def test_loading_refuses_a_reference_outside_the_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    outside = {"$id": BASE_URI + "bad.json", "$ref": "https://example.com/elsewhere.json"}
    files = [*registry._schema_files(), ("bad.json", outside)]
    monkeypatch.setattr(registry, "_schema_files", lambda: iter(files))
    with pytest.raises(SchemaError, match="leaves the bundled schemas"):
        registry.build().registry  # noqa: B018 - built on first use, and checked then


def test_every_bundled_reference_resolves_inside_the_bundle() -> None:
    catalogue = registry.build()
    assert catalogue.registry is catalogue.registry  # built once, every $ref checked on the way


def test_a_pointer_resolves_as_jsonschema_resolves_it() -> None:
    catalogue = registry.build()
    resolver = catalogue.registry.resolver()
    uris = [uri + fragment for uri, schema in catalogue.schemas.items()
            for fragment in ["", *(f"#/$defs/{name}" for name in schema.get("$defs", {}))]]  # fmt: skip
    assert len(uris) > 200
    for uri in uris:
        assert catalogue.resolve(uri) == resolver.lookup(uri).contents, uri


def test_every_subschema_object_is_located_at_its_pointer() -> None:
    """``Catalogue.locate`` finds a (sub)schema object by identity at the JSON Pointer of its place, and what
    that pointer resolves to is that very object."""
    catalogue = registry.build()
    located = 0
    for uri, schema in catalogue.schemas.items():
        for path, node in walk(schema):
            if not isinstance(node, dict):
                continue
            where = catalogue.locate(node)
            if "$id" in node:
                assert where == node["$id"]
                continue
            pointer = "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)
            assert where == f"{uri}#{pointer}"
            assert catalogue.resolve(where) is node
            located += 1
    assert located > 1000
    assert catalogue.locate({"type": "object"}) is None  # a schema made on the fly: not the catalogue's


def test_loading_refuses_a_misplaced_id(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [("common/iri.json", {"$id": BASE_URI + "elsewhere/iri.json"})]
    monkeypatch.setattr(registry, "_schema_files", lambda: iter(files))
    with pytest.raises(SchemaError, match=r"\$id must be"):
        registry.build()


def test_an_unknown_reference_never_reaches_the_network() -> None:
    resolver = registry.load().registry.resolver()
    with pytest.raises(Unresolvable):
        resolver.lookup("https://example.com/not-bundled.json")


def _bases(catalogue: registry.Catalogue, uri: str) -> set[str]:
    """The ``$id`` of every entity schema whose ``$defs/properties`` the schema at ``uri`` builds on."""
    found: set[str] = set()
    stack = [uri]
    while stack:
        current = stack.pop()
        properties = catalogue.schemas[current].get("$defs", {}).get("properties", {})
        for part in properties.get("allOf", []):
            base = urljoin(current, part["$ref"]).split("#")[0]
            if base not in found:
                found.add(base)
                stack.append(base)
    return found


def test_the_model_has_22_event_types_70_entity_types_and_2_id_less_nodes() -> None:
    catalogue = registry.load()
    kinds: dict[str, set[str]] = {"event": set(), "entity": set(), "node": set()}
    for name, uri in catalogue.types.items():
        if "/caliper/" in uri:
            kinds[catalogue.kind(uri)].add(name)
    assert len(kinds["event"]) == 22 and "Event" in kinds["event"]
    assert len(kinds["entity"]) == 70 and "Entity" in kinds["entity"]
    assert kinds["node"] == {"SystemIdentifier", "TextPositionSelector"}


def test_a_subtype_is_accepted_wherever_its_supertype_is() -> None:
    """Each entity's ``$defs/ref`` admits exactly the types that build on it: the hierarchy, said once."""
    catalogue = registry.load()
    entities = {uri for uri in catalogue.schemas if "/caliper/entities/" in uri}
    for uri in entities:
        union = catalogue.schemas[uri]["$defs"]["ref"]["anyOf"][1]
        admitted = {urljoin(uri, ref) for ref in union["discriminator"]["mapping"].values()}
        descendants = {other for other in entities if uri in _bases(catalogue, other)}
        assert admitted == {uri} | descendants, uri
    digital = catalogue.schemas[catalogue.types["DigitalResource"]]
    assert "Assessment" in digital["$defs"]["ref"]["anyOf"][1]["discriminator"]["mapping"]


def test_closed_objects_are_schema_roots() -> None:
    """The validator reads evaluated properties statically (authority.py); that needs a root to start from."""
    closed_roots = 0
    for uri, schema in registry.load().schemas.items():
        inner = {key: value for key, value in schema.items() if key != "unevaluatedProperties"}
        assert "unevaluatedProperties" not in json.dumps(inner), uri
        closed_roots += schema.get("unevaluatedProperties") is False
    assert closed_roots >= 90


_IN_PLACE = ("allOf", "anyOf", "oneOf", "if", "then", "else", "not")


def _declared_in_place(catalogue: registry.Catalogue, node: Any, base: str) -> set[str]:
    """Every property name declared by subschemas that apply to the same object as ``node`` (its
    ``$ref`` targets and in-place applicators, recursively): what an evaluation could mark evaluated."""
    names: set[str] = set()
    stack, seen = [(node, base)], set()
    while stack:
        current, where = stack.pop()
        if not isinstance(current, dict) or id(current) in seen:
            continue
        seen.add(id(current))
        names.update(current.get("properties", {}))
        if "$ref" in current:
            target = urljoin(where, current["$ref"])
            stack.append((catalogue.resolve(target), target.split("#")[0]))
        for keyword in _IN_PLACE:
            parts = current.get(keyword, [])
            stack.extend((part, where) for part in (parts if isinstance(parts, list) else [parts]))
    return names


def test_closed_objects_declare_every_property_where_the_static_reading_sees_it() -> None:
    """The authority reads ``unevaluatedProperties`` statically and the fast path turns it (and each
    ``closed`` lint) into ``additionalProperties`` over the same names: both need every property a closed
    object can evaluate to be one ``known_properties`` lists, or a valid document would be refused."""
    catalogue = registry.load()
    closed = 0
    for uri, schema in catalogue.schemas.items():
        for _, node in walk(schema):
            lints = node.get("x-lint", []) if isinstance(node, dict) else []
            if isinstance(node, dict) and (
                node.get("unevaluatedProperties") is False or any(lint["check"] == "closed" for lint in lints)
            ):
                closed += 1
                assert _declared_in_place(catalogue, node, uri) == catalogue.known_properties(node), uri
    assert closed >= 95


def test_each_event_type_allows_only_caliper_actions() -> None:
    catalogue = registry.load()
    vocabulary = set(catalogue.resolve(BASE_URI + "caliper/vocab/action.json")["enum"])
    for name, uri in catalogue.types.items():
        if "/caliper/events/" in uri and name != "Event":
            actions = set(catalogue.schemas[uri]["properties"]["action"]["enum"])
            assert actions and actions <= vocabulary, name


def test_the_document_union_covers_every_document_type() -> None:
    catalogue = registry.load()
    mapping = catalogue.schemas[BASE_URI + "document.json"]["discriminator"]["mapping"]
    assert {name: BASE_URI + ref for name, ref in mapping.items()} == dict(catalogue.types)
