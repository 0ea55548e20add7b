"""Step 6, rules: what the sources require that JSON Schema cannot say.

Each rule is a small function with a stable id, a default severity and a one-line summary, registered in
``RULES`` by the :func:`rule` decorator. A unit rule sees one dispatched unit (an envelope shell, or one
event or entity); a document rule sees every unit of a document at once (unique ids across an envelope).
Rules add issues with JSON Pointers; they never decide validity on their own: the severity does.

>>> sorted(RULES)[:2]
['caliper.context-missing', 'caliper.context-order']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from caliper_schema.dispatching import Kind, Unit
from caliper_schema.locating import pointer as join
from caliper_schema.registry import CALIPER_CONTEXT
from caliper_schema.reporting import Issue, Severity

UnitCheck = Callable[[Unit], Iterator[tuple[str, str, str | None]]]
"""Yields (pointer, message, hint) findings for one unit."""


@dataclass(frozen=True)
class Rule:
    """A named check and how serious a breach of it is by default."""

    id: str
    severity: Severity
    kinds: frozenset[Kind]
    summary: str
    check: UnitCheck

    def apply(self, unit: Unit) -> Iterator[Issue]:
        """The issues this rule finds in one unit."""
        if unit.kind in self.kinds:
            for where, message, hint in self.check(unit):
                yield Issue(where, self.id, self.severity, message, hint=hint)


RULES: dict[str, Rule] = {}


def rule(
    id_: str, severity: Severity, kinds: Iterable[Kind], summary: str
) -> Callable[[UnitCheck], UnitCheck]:
    """Register a unit rule."""

    def register(check: UnitCheck) -> UnitCheck:
        if id_ in RULES:
            raise ValueError(f"rule {id_} is defined twice")
        RULES[id_] = Rule(id_, severity, frozenset(kinds), summary, check)
        return check

    return register


def run(units: Iterable[Unit]) -> list[Issue]:
    """Every rule over every unit of one document."""
    return [issue for unit in units for each in RULES.values() for issue in each.apply(unit)]


def _field(unit: Unit, name: str) -> Any:
    return unit.value.get(name) if isinstance(unit.value, dict) else None


# --- Caliper 1.2 serialization ----------------------------------------------------------------------


@rule(
    "caliper.context-missing",
    "warning",
    ["event", "entity"],
    "an event or entity document has no @context (Caliper requires it; Timeback's examples omit it)",
)
def _context_missing(unit: Unit) -> Iterator[tuple[str, str, str | None]]:
    if isinstance(unit.value, dict) and "@context" not in unit.value:
        yield (
            join(unit.pointer, "@context"),
            "has no @context; Caliper 1.2 requires it on every event and entity document",
            f'add "@context": "{CALIPER_CONTEXT}"',
        )


@rule(
    "caliper.context-order",
    "error",
    ["event", "entity"],
    "an @context array must list the Caliper context last",
)
def _context_order(unit: Unit) -> Iterator[tuple[str, str, str | None]]:
    context = _field(unit, "@context")
    if (
        isinstance(context, list)
        and context
        and context[-1] != CALIPER_CONTEXT
        and CALIPER_CONTEXT in context
    ):
        yield (
            join(join(unit.pointer, "@context"), len(context) - 1),
            "the Caliper context must be the last element of an @context array",
            f'move "{CALIPER_CONTEXT}" to the end of the array',
        )


# --- Caliper 1.2 event rules the event tables and profiles disagree on ----------------------------------


@rule("caliper.copied-without-generated", "warning", ["event"],
      "a Copied ResourceManagementEvent names no copy (event table: required; profile: SHOULD)")  # fmt: skip
def _copied_without_generated(unit: Unit) -> Iterator[tuple[str, str, str | None]]:
    copied = _field(unit, "type") == "ResourceManagementEvent" and _field(unit, "action") == "Copied"
    if copied and "generated" not in unit.value:
        yield (join(unit.pointer, "generated"),
               "a Copied ResourceManagementEvent should name the copy it generated",
               "add the copy as generated: a DigitalResource object or its IRI")  # fmt: skip
