"""What the rule layer asks beyond the schemas, honoured while building: the generator's conventions.

The schemas cannot say that an ActivityEvent's ``correctQuestions`` is at most its ``totalQuestions``, that
time spent fits in its window, or that a ViewEvent carries no Timeback profile; the rule layer
(:mod:`~caliper_schema.validation.rules`) checks them. Here, in one place, each such property has a
*convention*: a function the :class:`~caliper_schema.generation.building.Builder` calls instead of
drawing the value from its plan alone, so that every valid document it makes passes the rules too.

>>> sorted(name for _, name in CONVENTIONS)
['extensions', 'items', 'items', 'profile']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from caliper_schema.generation import faking
from caliper_schema.generation.planning import ABSENT, Choice, Conditional, Listing, Patch, Plan, Record
from caliper_schema.locating import pointer as join

if TYPE_CHECKING:
    from caliper_schema.generation.building import Builder

Convention = Callable[["Builder", Plan, str, int], Any]


def _metric_items(builder: Builder, plan: Plan, where: str, depth: int, entries: list[dict[str, Any]]) -> Any:
    assert isinstance(plan, Listing) and isinstance(plan.items, Record)
    return [
        builder.record(plan.items, join(where, index), depth + 1, overrides=entry)
        for index, entry in enumerate(entries)
    ]


def activity_metrics(builder: Builder, plan: Plan, where: str, depth: int) -> Any:
    """``xpEarned`` always; ``totalQuestions`` and ``correctQuestions`` together, correct <= total;
    ``masteredUnits`` a whole number >= 0 (timeback.xp-earned-missing, .question-pairing, ...)."""
    draw = builder.draw
    xp: int | float = draw.integer(0, 120)
    if draw.boolean(0.25):
        xp += 0.5  # XP may be fractional (1 XP = 1 focused minute)
    entries: list[dict[str, Any]] = [{"type": "xpEarned", "value": xp}]
    if draw.boolean(0.5):
        total = draw.integer(1, 40)
        entries += [{"type": "totalQuestions", "value": total},
                    {"type": "correctQuestions", "value": draw.integer(0, total)}]  # fmt: skip
    if draw.boolean(0.4):
        entries.append({"type": "masteredUnits", "value": draw.integer(0, 5)})
    return _metric_items(builder, plan, where, depth, entries)


def pct_complete(builder: Builder, plan: Plan, where: str, depth: int) -> Any:
    """``generated.extensions.pctCompleteApp``: a course completion percentage, 0-100."""
    return {"pctCompleteApp": builder.draw.integer(0, 100)}


def time_spent_metrics(builder: Builder, plan: Plan, where: str, depth: int) -> Any:
    """Seconds per category within one window of at most an hour (0-86400 s each, timeback.time-range);
    ``active`` always, other categories sometimes; when dated, ``startDate <= endDate <= eventTime``."""
    draw = builder.draw
    assert isinstance(plan, Listing) and isinstance(plan.items, Record)
    kinds = plan.items.properties["type"]
    assert isinstance(kinds, Choice)
    window = draw.integer(0, 3600)
    dated = draw.boolean(0.5)
    end = builder.leaves.anchor - draw.integer(0, 60_000)
    dates = {
        "startDate": faking.timestamp(end - window * 1000) if dated else ABSENT,
        "endDate": faking.timestamp(end) if dated else ABSENT,
    }
    left = window
    entries = []
    for index, kind in enumerate(kinds.values):
        if index == 0 or draw.boolean(0.25):
            seconds = draw.integer(0, left)
            left -= seconds
            sub_type = faking.text(draw, "subType", None) if kind == "waste" and draw.boolean(0.5) else ABSENT
            entries.append({"type": kind, "value": seconds, "subType": sub_type, **dates})
    return _metric_items(builder, plan, where, depth, entries)


RESERVED_PROFILES = ("TimebackProfile",)
"""Profiles a Caliper event type accepts but only other event types carry in practice: the Timeback
service routes events to its ETL by ``TimebackProfile``, which the Timeback event types pin."""


def caliper_profile(builder: Builder, plan: Plan, where: str, depth: int) -> Any:
    """A Caliper profile, not one reserved for other event types (a ViewEvent is no Timeback event)."""
    if isinstance(plan, Choice):
        usable = tuple(value for value in plan.values if value not in RESERVED_PROFILES)
        return builder.draw.choice(usable or plan.values)
    return builder.value(plan, where, depth)


CONVENTIONS: dict[tuple[str | None, str], Convention] = {
    ("TimebackActivityMetricsCollection", "items"): activity_metrics,
    ("TimebackActivityMetricsCollection", "extensions"): pct_complete,
    ("TimebackTimeSpentMetricsCollection", "items"): time_spent_metrics,
    ("*", "profile"): caliper_profile,
}
"""(record type or ``*``, property) → how to build it coherently, where the rule layer (or the way the
services read events) asks more than the schema."""


def _when(action: str, expected: str) -> Conditional:
    test = {"properties": {"action": {"const": action}}, "required": ["action"]}
    return Conditional(test, ("action",), Patch({}, (), (expected,)), Patch({}, ()))


RULE_CONDITIONALS: dict[str, tuple[Conditional, ...]] = {
    "ResourceManagementEvent": (_when("Copied", "generated"),),  # caliper.copied-without-generated
}
"""Conditionals the rule layer adds to a document type's schema: properties it expects in some cases."""
