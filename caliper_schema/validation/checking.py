"""Step 4, checking: each unit against its schema, every error explained.

jsonschema-rs (:mod:`~caliper_schema.validation.fastpath`) is asked first: a unit it accepts needs nothing
more, so valid payloads never pay for the slow path. jsonschema (:mod:`~caliper_schema.validation.authority`)
is the authority for the units it rejects. Each jsonschema error becomes an
:class:`~caliper_schema.reporting.Issue` through one small function per keyword, dispatched from ``EXPLAIN``
as in jsonschema's own keyword table; its hint is found only when asked for (a report shows so many
issues, and an object of a million unknown properties needs no million nearest-name searches).

Two schema annotations of this project shape the issue: ``x-rule`` names the rule an error breaks
(``caliper.event-id`` rather than ``schema.pattern``) and ``x-hint`` says how to fix it.

>>> from caliper_schema.validation.dispatching import Unit
>>> from caliper_schema.registry import ENVELOPE_SHELL
>>> [issue.pointer for issue in check(Unit("", {"sensor": "s"}, ENVELOPE_SHELL, "envelope"))]
['/sendTime', '/dataVersion', '/data']
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from caliper_schema import hints
from caliper_schema.locating import escape
from caliper_schema.locating import pointer as join
from caliper_schema.registry import load
from caliper_schema.reporting import Issue
from caliper_schema.validation.dispatching import Unit, json_type
from caliper_schema.validation.fastpath import fast_engine

if TYPE_CHECKING:
    from jsonschema import ValidationError

_FORMAT_NAMES = {"date-time": "RFC 3339 date-time", "iri": "absolute IRI", "email": "email address"}
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
    holds them all (an object of a million unknown properties has a million issues).

    ``hinted`` is asked once per issue, in the order found, with its rule: False leaves the issue without
    a hint. A hint (the nearest of the allowed names, say) costs more than the rest of an issue, and a
    report shows only so many issues.
    """
    if fast_engine().is_valid(unit.schema, unit.value):
        return
    from caliper_schema.validation.authority import (
        authority_for,  # the slow path only: jsonschema is slow to import
    )

    errors = list(authority_for(unit.schema).iter_errors(unit.value))
    mistyped = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    seen: set[tuple[str, str, str]] = set()
    for error in errors:
        if error.validator in _VALUE_KEYWORDS and tuple(error.absolute_path) in mistyped:
            continue  # a value of the wrong JSON type gets one issue, its type, not one per keyword it fails
        for where, rule, message, hint in explain(error, unit.pointer):
            if (where, rule, message) in seen:
                continue  # several errors can explain to the same issue (required, cascades)
            seen.add((where, rule, message))
            text = hint() if hinted is None or hinted(rule) else None
            yield Issue(where, rule, "error", message, hint=text)


_VALUE_KEYWORDS = frozenset(
    {"enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum"}
)


# --- explaining errors -------------------------------------------------------------------------------

Hint = str | Callable[[], str | None] | None
"""A hint, or how to find it when it is asked for."""


class Finding(NamedTuple):
    """What an error says, with its hint found only when asked for (:func:`check` asks for those a report
    may show)."""

    where: str
    rule: str
    message: str
    hint: Callable[[], str | None]


Explainer = Callable[["ValidationError", str], Iterator[Finding]]


def _where(error: ValidationError, base: str) -> str:
    return base + "".join(f"/{escape(str(part))}" for part in error.absolute_path)


_RULE_NAMES = {"unevaluatedProperties": "unknown-property", "additionalProperties": "unknown-property"}


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
            yield _issue(error, base, f"missing required property {name!r}", where=join(here, name))


def _const(error: ValidationError, base: str) -> Iterator[Finding]:
    yield _issue(error, base, f"must be {_value(error)!r}")


def _enum(error: ValidationError, base: str) -> Iterator[Finding]:
    allowed = list(_value(error))
    yield _issue(
        error, base, f"{error.instance!r} is not an allowed value",
        hint=lambda: hints.nearest(error.instance, allowed), fallback=lambda: hints.listing(allowed),
    )  # fmt: skip


def _format(error: ValidationError, base: str) -> Iterator[Finding]:
    name = _FORMAT_NAMES.get(_value(error), _value(error))
    yield _issue(error, base, f"{error.instance!r} is not a valid {name}")


def _pattern(error: ValidationError, base: str) -> Iterator[Finding]:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    what = f"a valid {title}" if title else f"a match for {_value(error)!r}"
    yield _issue(error, base, f"{error.instance!r} is not {what}")


def _unknown_properties(error: ValidationError, base: str) -> Iterator[Finding]:
    if not isinstance(error.instance, dict) or not isinstance(error.schema, dict):
        return
    known = load().known_properties(error.schema)
    names = sorted(known)
    here = _where(error, base)
    for name in error.instance:
        if name not in known:  # a known name is only "unevaluated" because a sibling failed: not news

            def hint(name: str = name) -> str:
                return hints.nearest(name, names) or "custom data belongs in extensions"

            yield _issue(error, base, f"unknown property {name!r}", where=join(here, name), hint=hint)


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
    message = f"{error.instance!r} is not allowed here: expected {expected}"
    yield _issue(
        error, base, message, hint=lambda: hints.nearest(error.instance, allowed) or hints.listing(allowed)
    )


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
