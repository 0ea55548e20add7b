"""Step 4, checking: each unit against its schema, every error explained.

jsonschema-rs (:mod:`~caliper_schema.validation.fastpath`) lists the errors of a unit, and
:mod:`~caliper_schema.validation.tracing` turns them into those jsonschema, the authority
(:mod:`~caliper_schema.validation.authority`), raises: the same keywords, values, schema objects, paths
and messages, in the same order (``tests/test_tracing.py`` compares them on every invalid document of the
IMS corpus, the generator and the examples). Each error becomes an
:class:`~caliper_schema.reporting.Issue` through one small function per keyword, dispatched from ``EXPLAIN``
as in jsonschema's own keyword table; :func:`check_by_authority` explains jsonschema's own errors the same
way, and is what :func:`check` falls back to for an error it cannot trace. A hint is found only when
asked for: a report shows so many issues, and an object of a million unknown properties needs no million
nearest-name searches.

Two schema annotations of this project shape the issue: ``x-rule`` names the rule an error breaks
(``caliper.event-id`` rather than ``schema.pattern``) and ``x-hint`` says how to fix it.

>>> from caliper_schema.validation.dispatching import Unit
>>> from caliper_schema.registry import ENVELOPE_SHELL
>>> [issue.pointer for issue in check(Unit("", {"sensor": "s"}, ENVELOPE_SHELL, "envelope"))]
['/sendTime', '/dataVersion', '/data']
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urldefrag

from caliper_schema import hints
from caliper_schema.locating import escape
from caliper_schema.locating import pointer as join
from caliper_schema.registry import DOCUMENT, Schema, absolute, load
from caliper_schema.reporting import Issue
from caliper_schema.validation import tracing
from caliper_schema.validation.dispatching import Unit, article_of, json_type, unknown_type, untyped
from caliper_schema.validation.fastpath import fast_engine

if TYPE_CHECKING:
    from jsonschema import ValidationError

_FORMAT_NAMES = {"date-time": "RFC 3339 date-time", "iri": "absolute IRI", "email": "email address"}
_FORMAT_EXAMPLES = {
    "iri": "write an absolute IRI: a scheme, then the rest with no spaces, e.g. https://example.edu/users/554433",
    "email": "write an email address such as ada.lovelace@example.edu",
}
_ARTICLE = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "null": "null",
}


def check(unit: Unit, hinted: Callable[[str], bool] | None = None) -> list[Issue]:
    """Every schema issue of one unit (none when it is valid); see :func:`issues_of`."""
    return list(issues_of(unit, hinted))


def issues_of(unit: Unit, hinted: Callable[[str], bool] | None = None) -> Iterator[Issue]:
    """Every schema issue of one unit, as it is explained: a caller that keeps only some of them never
    holds their hints or issues all at once.

    ``hinted`` is asked once per issue, in the order found, with its rule: False leaves the issue without
    a hint. A hint (the nearest of the allowed names, say) costs more than the rest of an issue, and a
    report shows only so many issues.
    """
    try:
        errors: list[Any] = tracing.failures(unit.schema, unit.value)
        # An explanation may read a lazily traced context, which may turn out untraceable: explain all
        # before the first issue leaves, so that a fallback never repeats one.
        findings = _explained(errors, unit) if errors else []
    except tracing.Untraceable:
        findings = _by_authority(unit)  # slower, never wrong: jsonschema says it itself
    return _issues(findings, hinted)


def check_by_authority(unit: Unit) -> list[Issue]:
    """:func:`check` with jsonschema's own errors: what the fast path's traced errors must match
    (``tests/test_tracing.py``), and what :func:`check` falls back to when it cannot trace one."""
    return list(_issues(_by_authority(unit), None))


def _by_authority(unit: Unit) -> list[Finding | Issue]:
    if fast_engine().is_valid(unit.schema, unit.value):
        return []
    from caliper_schema.validation.authority import (
        authority_for,  # only here: jsonschema takes a second or more to import
    )

    return _explained(list(authority_for(unit.schema).iter_errors(unit.value)), unit)


def _explained(errors: list[Any], unit: Unit) -> list[Finding | Issue]:
    mistyped = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    found: list[Finding | Issue] = []
    seen: set[tuple[str, str, str]] = set()
    # Of no known type: one issue says what is wrong with the document, instead of the schema's at `type`.
    untyped_at = join(unit.pointer, "type") if unit.schema == DOCUMENT else None
    if untyped_at is not None:
        found.append(untyped(unit))
    for error in errors:
        if error.validator in _VALUE_KEYWORDS and tuple(error.absolute_path) in mistyped:
            continue  # a value of the wrong JSON type gets one issue, its type, not one per keyword it fails
        for finding in explain(error, unit.pointer):
            key = (finding.where, finding.rule, finding.message)
            if key in seen or finding.where == untyped_at:
                continue  # several errors can explain to the same issue (required, cascades)
            seen.add(key)
            found.append(finding)
    return found


def _issues(found: Iterable[Finding | Issue], hinted: Callable[[str], bool] | None) -> Iterator[Issue]:
    for finding in found:
        wanted = hinted is None or hinted(finding.rule)  # asked of each, in order: it counts what is shown
        if isinstance(finding, Issue):
            yield finding  # made whole already (what a document of no known type is)
            continue
        text = finding.hint() if wanted else None
        yield Issue(finding.where, finding.rule, "error", finding.message, hint=text)


_VALUE_KEYWORDS = frozenset(
    {"enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum"}
)


# --- explaining errors -------------------------------------------------------------------------------

Hint = str | Callable[[], str | None] | None
"""A hint, or how to find it when it is asked for."""


class Finding(NamedTuple):
    """What an error says, with its hint found only when asked for (:func:`issues_of` asks for those a
    report may show)."""

    where: str
    rule: str
    message: str
    hint: Callable[[], str | None]


Explainer = Callable[["ValidationError", str], Iterator[Finding]]


def _where(error: ValidationError, base: str) -> str:
    return base + "".join(f"/{escape(str(part))}" for part in error.absolute_path)


_RULE_NAMES = {"unevaluatedProperties": "unknown-property", "additionalProperties": "unknown-property"}


@functools.cache
def keyword_rule(keyword: str) -> str:
    """The rule of a schema keyword's errors where the schema names none: ``schema.<keyword>`` in kebab
    case (``minItems``: ``schema.min-items``), ``schema.unknown-property`` for closed objects."""
    return "schema." + (_RULE_NAMES.get(keyword) or re.sub(r"(?<!^)([A-Z])", r"-\1", keyword).lower())


def rule_of(error: ValidationError) -> str:
    """The rule an error breaks: the schema's ``x-rule``, else :func:`keyword_rule`."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    return str(schema.get("x-rule") or keyword_rule(str(error.validator)))


def _issue(
    error: ValidationError,
    base: str,
    message: str,
    *,
    where: str | None = None,
    hint: Hint = None,
    rule: str | None = None,
    fallback: Hint = None,
) -> Finding:
    """A finding for ``error``; the hint is the first of: a placeholder warning, ``hint``, the schema's
    ``x-hint``, ``fallback``."""
    schema = error.schema if isinstance(error.schema, dict) else {}

    def hinting() -> str | None:
        found = hints.placeholder(error.instance) or _text(hint) or schema.get("x-hint") or _text(fallback)
        return None if found is None else str(found)

    return Finding(_where(error, base) if where is None else where, rule or rule_of(error), message, hinting)


def _text(hint: Hint) -> str | None:
    return hint() if callable(hint) else hint


def _value(error: ValidationError) -> Any:
    """The failing keyword's value in the schema (typed loosely by jsonschema)."""
    return error.validator_value


def _type_names(error: ValidationError) -> list[str]:
    names = _value(error)
    return [names] if isinstance(names, str) else list(names)


def _must_be(error: ValidationError, base: str, names: Iterable[str]) -> Finding:
    wanted = " or ".join(_ARTICLE.get(name, name) for name in names)
    message = f"must be {wanted}, not {_ARTICLE[json_type(error.instance)]}"
    return _issue(error, base, message, rule="schema.type")


def _type(error: ValidationError, base: str) -> Iterator[Finding]:
    yield _must_be(error, base, _type_names(error))


def _required(error: ValidationError, base: str) -> Iterator[Finding]:
    here = _where(error, base)
    for name in _value(error):
        if isinstance(error.instance, dict) and name not in error.instance:
            fallback = required_hint(name, declared(error, name))
            yield _issue(error, base, f"missing required property {name!r}", where=join(here, name),
                         fallback=fallback)  # fmt: skip


def required_hint(name: str, declarations: tuple[str, ...]) -> str | None:
    """How to add a missing required property: its constant value, or what it holds (its description).

    >>> required_hint("profile", load().declarations(load().types["ActivityEvent"])["profile"])
    'add "profile": "TimebackProfile"'
    """
    catalogue = load()
    constants = [catalogue.resolve(uri) for uri in declarations]
    constant = next((schema["const"] for schema in reversed(constants) if "const" in schema), _NOTHING)
    if constant is not _NOTHING:
        return f'add "{name}": {json.dumps(constant)}'
    what = describe(declarations)
    return f"add `{name}`: {what}" if what else None


_NOTHING = object()


def _const(error: ValidationError, base: str) -> Iterator[Finding]:
    wanted = _value(error)
    use = f"use `{wanted}`" if isinstance(wanted, str) else f"use {json.dumps(wanted)}"
    message = f"{_shown(error.instance)} is not allowed: must be {wanted!r}"
    yield _issue(error, base, message, fallback=_nearest(error.instance, [wanted]) or use)


def _shown(value: Any) -> str:
    """A value as a message quotes it: a scalar as itself, a shortened string, an object or array by kind."""
    if isinstance(value, str):
        return repr(value if len(value) <= 120 else value[:117] + "...")
    return repr(value) if not isinstance(value, dict | list) else article_of(value)


def _enum(error: ValidationError, base: str) -> Iterator[Finding]:
    allowed = list(_value(error))
    yield _issue(
        error, base, f"{error.instance!r} is not an allowed value",
        hint=lambda: _nearest(error.instance, allowed), fallback=lambda: hints.listing(allowed),
    )  # fmt: skip


def _format(error: ValidationError, base: str) -> Iterator[Finding]:
    name = _FORMAT_NAMES.get(_value(error), _value(error))
    fallback = _FORMAT_EXAMPLES.get(_value(error))
    yield _issue(error, base, f"{_shown(error.instance)} is not a valid {name}", fallback=fallback)


def _pattern(error: ValidationError, base: str) -> Iterator[Finding]:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    what = f"a valid {title}" if title else f"a match for {_value(error)!r}"
    yield _issue(error, base, f"{error.instance!r} is not {what}")


def _unknown_properties(error: ValidationError, base: str) -> Iterator[Finding]:
    if not isinstance(error.instance, dict) or not isinstance(error.schema, dict):
        return
    known = load().known_properties(error.schema)
    here = _where(error, base)
    for name in error.instance:
        if name not in known:  # a known name is only "unevaluated" because a sibling failed: not news

            def hint(name: str = name) -> str:
                return _unknown_hint(error, name, here, sorted(known))

            yield _issue(error, base, f"unknown property {name!r}", where=join(here, name), hint=hint)


def _unknown_hint(error: ValidationError, name: str, here: str, known: list[str]) -> str:
    """The nearest known name whose schema the value would fit; else where the value belongs."""
    value = error.instance[name] if isinstance(error.instance, dict) else None
    schema = error.schema if isinstance(error.schema, dict) else {}
    wrapped = value.get("type") if isinstance(value, dict) else None
    if isinstance(wrapped, str) and wrapped in schema.get("x-admits", ()):
        holder = f"`{here.rsplit('/', 1)[-1]}`" if here else "the document"
        return (f"this looks like {hints.article(wrapped)} wrapped one level too deep:"
                f" move its properties up into {holder}")  # fmt: skip
    near = suggest(name, value, known, lambda other: declared(error, other))
    if near:
        return near
    return "custom data belongs in `extensions`" if "extensions" in known else hints.listing(known)


def _min_items(error: ValidationError, base: str) -> Iterator[Finding]:
    count = _value(error)
    yield _issue(error, base, f"must have at least {count} item{'' if count == 1 else 's'}")


def _min_length(error: ValidationError, base: str) -> Iterator[Finding]:
    yield _issue(error, base, "must not be empty" if _value(error) == 1 else error.message)


def _branches(error: ValidationError, base: str) -> Iterator[Finding]:
    """``anyOf``/``oneOf``: explain the one branch of the right JSON type, when there is exactly one.

    A slot that takes "an IRI string or an entity object" fails both branches for a bad object; the
    string branch's complaint that it is not a string is noise, the object branch's errors are the news.
    """
    by_branch: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context or []:
        by_branch[sub.relative_schema_path[0]].append(sub)
    plausible = [
        subs
        for subs in by_branch.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in subs)
    ]
    if len(plausible) == 1:
        for sub in plausible[0]:
            yield from explain(sub, base)
        return
    if not plausible and by_branch:
        types = {name for subs in by_branch.values() for sub in subs if sub.validator == "type"
                 for name in _type_names(sub)}  # fmt: skip
        yield _must_be(error, base, sorted(types))
        return
    yield _issue(error, base, error.message)


def _discriminator(error: ValidationError, base: str) -> Iterator[Finding]:
    """An entity whose ``type`` is not one this slot admits."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = _value(error)
    expected = schema.get("description") or "one of the types listed"
    types = sorted(load().types)
    found = str(error.instance)  # a discriminator error is only raised for a string
    if found in types:
        message = f"{found!r} is not allowed here: expected {expected}"
        message += "; its properties are another type's, so they are not checked"
        hint = _nearest(error.instance, allowed) or hints.listing(allowed)
    else:
        message, anywhere = _unknown_type(found) if len(found) <= _REMEMBERED else unknown_type(found, types)
        message += f": expected {expected}"
        hint = _nearest(error.instance, allowed) or anywhere or hints.listing(allowed)
    yield _issue(error, base, message, hint=hint)


_REMEMBERED = 200
"""The longest value whose hints are remembered: a log with a systematic mistake repeats it, and each
hint compares the value with every allowed one (difflib); a long value is rarely a near miss."""


def _nearest(value: Any, allowed: list[Any]) -> str | None:
    """:func:`hints.nearest`, remembered for a short string among scalars."""
    if isinstance(value, str) and len(value) <= _REMEMBERED:
        try:
            return _nearest_remembered(value, tuple(allowed))
        except TypeError:  # an allowed value that is an object or array
            pass
    return hints.nearest(value, allowed)


@functools.lru_cache(maxsize=4096)
def _nearest_remembered(value: str, allowed: tuple[Any, ...]) -> str | None:
    return hints.nearest(value, allowed)


@functools.lru_cache(maxsize=4096)
def _unknown_type(found: str) -> tuple[str, str | None]:
    return unknown_type(found, sorted(load().types))


def _generic(error: ValidationError, base: str) -> Iterator[Finding]:
    yield _issue(error, base, error.message)


EXPLAIN: dict[str, Explainer] = {
    "type": _type,
    "required": _required,
    "const": _const,
    "enum": _enum,
    "format": _format,
    "pattern": _pattern,
    "unevaluatedProperties": _unknown_properties,
    "additionalProperties": _unknown_properties,
    "minItems": _min_items,
    "minLength": _min_length,
    "anyOf": _branches,
    "oneOf": _branches,
    "discriminator": _discriminator,
}


def explain(error: ValidationError, base: str = "") -> Iterator[Finding]:
    """The findings one jsonschema error stands for, with pointers prefixed by ``base``."""
    return EXPLAIN.get(str(error.validator), _generic)(error, base)


# --- what the schemas say about a property -------------------------------------------------------------


def declared(error: ValidationError, name: str) -> tuple[str, ...]:
    """Where the property ``name`` of the object ``error`` is about is declared: in the schema that
    reported it, else in the schema of the object's type, else (a schema made on the fly, what a slot's
    types share) in the absolute references it holds."""
    catalogue = load()
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = catalogue.locate(schema)
    found = catalogue.declarations(where).get(name, ()) if where else ()
    type_ = error.instance.get("type") if isinstance(error.instance, dict) else None
    if not found and isinstance(type_, str) and type_ in catalogue.types:
        found = catalogue.declarations(catalogue.types[type_]).get(name, ())
    if not found and where is None:
        sub = schema.get("properties", {}).get(name)
        found = tuple(part["$ref"] for part in sub.get("allOf", ())) if isinstance(sub, dict) else ()
    return found


def describe(declarations: Iterable[str]) -> str | None:
    """What a property holds, for users: the ``description`` of its most derived declaration that has
    one, or of what it refers to."""
    for uri in reversed(tuple(declarations)):
        found = _description(uri, 0)
        if found:
            return found
    return None


def _description(uri: str, depth: int) -> str | None:
    schema = load().resolve(uri)
    if isinstance(schema.get("description"), str) or depth > 8:
        return schema.get("description")
    refs = [schema["$ref"]] if "$ref" in schema else []
    refs += [part["$ref"] for part in schema.get("allOf", []) if isinstance(part, dict) and "$ref" in part]
    return next((found for ref in refs if (found := _description(absolute(uri, ref), depth + 1))), None)


def suggest(
    name: str, value: Any, known: list[str], declarations: Callable[[str], Iterable[str]]
) -> str | None:
    """``did you mean `X`?`` for the known property names nearest ``name`` whose schema would take ``value``
    (``declarations`` says where each is declared): a name whose schema does not fit it is no help."""
    return hints.nearest(name, known, fits=lambda other: fits(declarations(other), value))


def fits(declarations: Iterable[str], value: Any) -> bool:
    """True when ``value`` has a shape every declaration admits: a JSON type it allows and, in an entity
    slot, a type the slot admits. Its content may still be wrong (a misspelt enum value): the point is
    that a hint naming this property does not lead to a type error."""
    catalogue = load()
    return all(_admits(catalogue.resolve(uri), urldefrag(uri).url, value, 0) for uri in declarations)


def _admits(schema: Schema | bool, base: str, value: Any, depth: int) -> bool:
    if not isinstance(schema, dict) or depth > 16:
        return schema is not False
    kind = json_type(value)
    declared_types = schema.get("type")
    if declared_types is not None:
        names = [declared_types] if isinstance(declared_types, str) else list(declared_types)
        if kind not in names and not (kind == "integer" and "number" in names):
            return False
    choices = [schema["const"]] if "const" in schema else schema.get("enum")
    if choices is not None and kind not in {json_type(choice) for choice in choices}:
        return False
    if "$ref" in schema:
        target = absolute(base, schema["$ref"])
        if not _admits(load().resolve(target), urldefrag(target).url, value, depth + 1):
            return False
    if not all(_admits(part, base, value, depth + 1) for part in schema.get("allOf", [])):
        return False
    mapping = schema.get("discriminator", {}).get("mapping")
    if mapping and isinstance(value, dict) and isinstance(value.get("type"), str):
        return value["type"] in mapping
    return all(
        any(_admits(branch, base, value, depth + 1) for branch in schema[keyword])
        for keyword in ("anyOf", "oneOf")
        if keyword in schema
    )
