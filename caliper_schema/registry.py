"""Step 1, loading: the bundled schemas, read from the installed package, never from the network.

Every schema file under ``caliper_schema/schemas`` (the repository's ``schemas/``) is registered under its
``$id`` in one :class:`referencing.Registry` (what jsonschema resolves ``$ref`` with) and one
``jsonschema_rs.Registry`` (the fast path); neither has a way to fetch, so no validator ever does. Loading
refuses a schema whose ``$id`` does not match its place in the tree; a ``$ref`` that points outside the
bundled set, or nowhere, is refused when the jsonschema registry is built (the first time an issue is
explained: checking valid documents needs none of it) and by the test suite, on every change.

>>> catalogue = load()
>>> catalogue.type_schema("ActivityEvent")
'https://caliper-schema.invalid/schemas/timeback/activity-event.json'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urldefrag, urljoin

if TYPE_CHECKING:
    import referencing

from caliper_schema.locating import pointer as join
from caliper_schema.locating import unescape, walk

BASE_URI = "https://caliper-schema.invalid/schemas/"
ENVELOPE = BASE_URI + "envelope.json"
ENVELOPE_SHELL = ENVELOPE + "#/$defs/shell"
DOCUMENT = BASE_URI + "document.json"
"""The union of every document type, discriminated by ``type``."""
CALIPER_CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"

Schema = dict[str, Any]


@functools.lru_cache(maxsize=8192)
def absolute(base: str, ref: str) -> str:
    """``ref`` resolved against ``base``: :func:`urllib.parse.urljoin`, remembered (the schemas' few hundred
    references are resolved over and over, and urljoin costs microseconds a call).

    >>> absolute(BASE_URI + "caliper/entities/person.json", "agent.json#/$defs/ref")
    'https://caliper-schema.invalid/schemas/caliper/entities/agent.json#/$defs/ref'
    """
    return urljoin(base, ref)


class SchemaError(Exception):
    """A bundled schema is broken: a wrong ``$id`` or a ``$ref`` outside the bundled set."""


@dataclass(frozen=True)
class Catalogue:
    """The bundled schemas and what is derived from them once per process."""

    schemas: Mapping[str, Schema]
    """Each schema by its ``$id``."""
    types: Mapping[str, str]
    """Each ``type`` value a document can carry, with the ``$id`` of the schema that checks it."""

    @functools.cached_property
    def registry(self) -> referencing.Registry[Any]:
        """What jsonschema resolves ``$ref`` against, built when jsonschema first needs it (explaining an
        invalid document): a valid one never does, and a process that only checks valid documents does not
        import ``referencing`` or crawl the schemas (a tenth of a second at every start)."""
        return _registry(self.bare)

    @functools.cached_property
    def bare(self) -> dict[str, Schema]:
        """Each schema as it is registered: without ``"$schema"`` (see :func:`_registry`); the objects
        :meth:`resolve` and jsonschema's lookups give, the same ones."""
        return {
            uri: {k: v for k, v in schema.items() if k != "$schema"} for uri, schema in self.schemas.items()
        }

    @functools.cached_property
    def timeback_types(self) -> frozenset[str]:
        """The types the Timeback profile defines (``ActivityEvent``, ``TimebackUser``, ...)."""
        return frozenset(name for name, uri in self.types.items() if uri.startswith(BASE_URI + "timeback/"))

    @functools.cached_property
    def coverage(self) -> dict[str, tuple[str, ...]]:
        """Each profile and the event types its tables describe (``x-covers`` of the profile vocabulary):
        not what is valid, which is any known profile with any event type, but what a profile is for.

        >>> load().coverage["GradingProfile"]
        ('GradeEvent', 'ViewEvent')
        """
        covers = self.schemas[BASE_URI + "caliper/vocab/profile.json"].get("x-covers", {})
        return {profile: tuple(types) for profile, types in covers.items()}

    def type_schema(self, type_: str) -> str | None:
        """The ``$id`` of the schema for documents whose ``type`` is ``type_``, if there is one."""
        return self.types.get(type_)

    def resolve(self, uri: str) -> Schema:
        """The (sub)schema at ``uri``, which may carry a JSON Pointer fragment.

        >>> load().resolve(ENVELOPE_SHELL)["type"]
        'object'
        """
        found = self._resolved.get(uri)
        if found is None:  # remembered: explaining an issue asks for the same few declarations again
            base, fragment = urldefrag(uri)
            if base in self.bare and (fragment == "" or fragment.startswith("/")):
                contents = _pointed(self.bare[base], unquote(fragment))
            else:  # an anchor, or not a bundled file: as jsonschema resolves it
                contents = self.registry.resolver().lookup(uri).contents
            if not isinstance(contents, dict):
                raise SchemaError(f"{uri} is not a schema object")
            found = self._resolved[uri] = contents
        return found

    @functools.cached_property
    def _resolved(self) -> dict[str, Schema]:
        return {}

    def kind(self, uri: str) -> Literal["event", "entity", "node"]:
        """What the schema at ``uri`` describes: an event (it has an ``action``), an entity (an ``id``), or
        an id-less node such as a SystemIdentifier."""
        return self._kinds.get(uri) or _kind(self.properties(uri))

    @functools.cached_property
    def typed(self) -> dict[str, tuple[str, Literal["event", "entity", "node"]]]:
        """Each document type with the ``$id`` of its schema and its :meth:`kind`: what dispatching looks up
        for every item of every document."""
        return {type_: (uri, self.kind(uri)) for type_, uri in self.types.items()}

    @functools.cached_property
    def _kinds(self) -> dict[str, Literal["event", "entity", "node"]]:
        return {uri: _kind(self.properties(uri)) for uri in self.types.values()}

    def properties(self, uri: str) -> dict[str, Schema]:
        """Every property the schema at ``uri`` declares, its ``allOf`` and ``$ref`` bases included."""
        found = self._properties.get(uri)
        if found is None:  # remembered: ~70 entity types share their bases, and every start asks for all
            found = self._properties[uri] = dict(_collect_properties(self, uri))
        return dict(found)

    @functools.cached_property
    def _properties(self) -> dict[str, dict[str, Schema]]:
        return {}

    def declarations(self, uri: str) -> dict[str, tuple[str, ...]]:
        """Where each property of the schema at ``uri`` is declared: name → the URIs (with a JSON Pointer
        fragment) of its declarations, its bases' first and its own last. A value must satisfy them all.

        >>> load().declarations(BASE_URI + "caliper/entities/score.json")["id"]
        ('https://caliper-schema.invalid/schemas/caliper/entities/entity.json#/$defs/properties/properties/id',)
        """
        found = self._declarations.get(uri)
        if found is None:
            merged: dict[str, tuple[str, ...]] = {}
            for name, where in _collect_declarations(self, uri):
                merged[name] = (*merged.get(name, ()), *where)
            found = self._declarations[uri] = merged
        return dict(found)

    @functools.cached_property
    def _declarations(self) -> dict[str, dict[str, tuple[str, ...]]]:
        return {}

    def required(self, uri: str) -> frozenset[str]:
        """The properties the schema at ``uri`` and its ``allOf``/``$ref`` bases require unconditionally."""
        found = self._required.get(uri)
        if found is None:
            schema = self.resolve(uri)
            base = urldefrag(uri).url
            names = set(schema.get("required", ()))
            refs = [part["$ref"] for part in schema.get("allOf", []) if "$ref" in part]
            for ref in refs + ([schema["$ref"]] if "$ref" in schema else []):
                names |= self.required(absolute(base, ref))
            found = self._required[uri] = frozenset(names)
        return found

    @functools.cached_property
    def _required(self) -> dict[str, frozenset[str]]:
        return {}

    def closed(self, uri: str) -> bool:
        """True when the schema at ``uri`` refuses properties it does not declare."""
        schema = self.resolve(uri)
        return schema.get("unevaluatedProperties") is False or schema.get("additionalProperties") is False

    def locate(self, schema: Schema) -> str | None:
        """The URI (with a JSON Pointer fragment) of a (sub)schema object of this catalogue, found by
        identity: the schema a validator's error names, located so that its references can be resolved."""
        if isinstance(schema.get("$id"), str):
            return str(schema["$id"])
        return self._locations.get(id(schema))

    @functools.cached_property
    def _locations(self) -> dict[int, str]:
        # Built when a process explains its first invalid document: containers only, each pointer extended
        # as the walk goes down (a third of the cost of walk()'s paths joined at every object).
        index: dict[int, str] = {}
        for uri, schema in self.schemas.items():
            stack: list[tuple[Any, str]] = [(schema, uri + "#")]
            while stack:
                node, where = stack.pop()
                if isinstance(node, dict):
                    if node is not schema:
                        index[id(node)] = where
                    children: Iterable[tuple[Any, Any]] = node.items()
                else:
                    children = enumerate(node)
                stack.extend(
                    (child, join(where, key)) for key, child in children if isinstance(child, dict | list)
                )
        return index

    def find(self, name: str) -> str | None:
        """The ``$id`` of a schema named by path (``timeback/activity-event``), title or document type."""
        wanted = name.removesuffix(".json")
        for uri, schema in self.schemas.items():
            path = uri.removeprefix(BASE_URI).removesuffix(".json")
            if wanted in (path, path.rsplit("/", 1)[-1]) or wanted == schema.get("title"):
                return uri
        return self.types.get(name)

    def known_properties(self, schema: Schema) -> frozenset[str]:
        """The property names a closed (sub)schema declares: its own, and its bases' when it has an ``$id``.

        ``schema`` is the object a validator reports an ``unevaluatedProperties`` or
        ``additionalProperties`` failure in; the answer tells a real unknown key from a known one that only
        went unevaluated because a sibling failed.
        """
        if "$id" in schema:
            return frozenset(self.properties(schema["$id"]))
        return frozenset(schema.get("properties", {}))


def _kind(properties: Mapping[str, Any]) -> Literal["event", "entity", "node"]:
    return "event" if "action" in properties else "entity" if "id" in properties else "node"


def _collect_properties(catalogue: Catalogue, uri: str) -> Iterator[tuple[str, Schema]]:
    schema = catalogue.resolve(uri)
    base = urldefrag(uri).url
    for part in schema.get("allOf", []):
        if "$ref" in part:
            yield from catalogue.properties(absolute(base, part["$ref"])).items()
    if "$ref" in schema:
        yield from catalogue.properties(absolute(base, schema["$ref"])).items()
    yield from schema.get("properties", {}).items()


def _collect_declarations(catalogue: Catalogue, uri: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    schema = catalogue.resolve(uri)
    base, fragment = urldefrag(uri)
    for part in schema.get("allOf", []):
        if "$ref" in part:
            yield from catalogue.declarations(absolute(base, part["$ref"])).items()
    if "$ref" in schema:
        yield from catalogue.declarations(absolute(base, schema["$ref"])).items()
    for name in schema.get("properties", {}):
        yield name, (f"{base}#{join(fragment + '/properties', name)}",)


def _schema_files() -> Iterator[tuple[str, Schema]]:
    root = resources.files("caliper_schema") / "schemas"
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                stack.append((entry, f"{prefix}{entry.name}/"))
            elif entry.name.endswith(".json"):
                yield prefix + entry.name, json.loads(entry.read_text(encoding="utf-8"))


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` and discriminator mapping target inside a schema document."""
    for _, current in walk(node):
        if isinstance(current, dict):
            if isinstance(current.get("$ref"), str):
                yield current["$ref"]
            yield from current.get("discriminator", {}).get("mapping", {}).values()


def _pointed(schema: Any, pointer: str) -> Any:
    """What the JSON Pointer ``pointer`` (RFC 6901, already percent-decoded) points at in ``schema``."""
    for token in pointer.split("/")[1:]:
        key = unescape(token)
        if isinstance(schema, list):
            schema = schema[int(key)] if key.isdigit() and int(key) < len(schema) else None
        elif isinstance(schema, dict):
            schema = schema.get(key)
        else:
            return None  # the pointer goes on past a leaf: nowhere (resolve() says so)
    return schema


def _registry(bare: Mapping[str, Schema]) -> referencing.Registry[Any]:
    """The schemas (without ``"$schema"``) as a :mod:`referencing` registry, every ``$ref`` checked to
    resolve inside it."""
    import referencing
    from referencing.jsonschema import DRAFT202012

    # Registered without "$schema": every file is 2020-12, and jsonschema picks a validator class by
    # "$schema" each time it enters a resource, which would drop this project's discriminator-aware oneOf.
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (uri, DRAFT202012.create_resource(schema)) for uri, schema in bare.items()
    )
    registry = registry.crawl()
    _check_closed(bare, registry)
    return registry


def _check_closed(schemas: Mapping[str, Schema], registry: referencing.Registry[Any]) -> None:
    import referencing.exceptions

    # Each distinct target once (most refs repeat: the common definitions).
    targets: dict[str, tuple[str, str]] = {}
    for uri, schema in schemas.items():
        for ref in set(_refs(schema)):
            targets.setdefault(urljoin(uri, ref), (uri, ref))
    resolver = registry.resolver()
    for target, (uri, ref) in targets.items():
        if urldefrag(target).url not in schemas:
            raise SchemaError(f"{uri}: $ref {ref!r} leaves the bundled schemas ({target})")
        try:
            resolver.lookup(target)
        except referencing.exceptions.Unresolvable as error:
            raise SchemaError(f"{uri}: $ref {ref!r} does not resolve: {error}") from None


def _document_types(schemas: Mapping[str, Schema]) -> dict[str, str]:
    """Schemas whose top level pins ``type`` to a constant check documents of that type."""
    types: dict[str, str] = {}
    for uri, schema in schemas.items():
        const = schema.get("properties", {}).get("type", {}).get("const")
        if isinstance(const, str):
            if const in types:
                raise SchemaError(f"type {const!r} is claimed by both {types[const]} and {uri}")
            types[const] = uri
    return types


def build() -> Catalogue:
    """Read and check the bundled schemas (every call reads them afresh; :func:`load` caches)."""
    schemas: dict[str, Schema] = {}
    for path, schema in _schema_files():
        expected = BASE_URI + path
        if schema.get("$id") != expected:
            raise SchemaError(f"schemas/{path}: $id must be {expected!r}, found {schema.get('$id')!r}")
        schemas[expected] = schema
    return Catalogue(schemas=schemas, types=_document_types(schemas))


@functools.cache
def load() -> Catalogue:
    """The bundled schemas, loaded and checked once per process."""
    return build()
