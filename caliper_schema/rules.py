"""Step 6, rules: what the sources require that JSON Schema cannot say.

Each rule is a small function with a stable id, a default severity and a one-line summary, registered in
``RULES`` by a decorator. :func:`rule` registers a check of one dispatched unit (an event or an entity);
:func:`document_rule` a check of a whole document at once (ids unique across an envelope). A check yields
``(pointer, message, hint)`` findings; the rule's severity, and the policy, decide what they weigh.

The Timeback rules encode the ETL conventions of `shared/reference/timeback-profile-facts.md` §3-§5, which
the service's OpenAPI does not: XP present, question counts paired and coherent, time in 0-86400 seconds.

>>> sorted(RULES)[:3]
['caliper.context-missing', 'caliper.context-order', 'caliper.copied-without-generated']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caliper_schema import hints
from caliper_schema.dispatching import Kind, Unit
from caliper_schema.fastpath import conforms
from caliper_schema.locating import pointer as join
from caliper_schema.locating import to_pointer, walk
from caliper_schema.registry import CALIPER_CONTEXT
from caliper_schema.reporting import Issue, Severity

Finding = tuple[str, str, str | None]
"""(pointer, message, hint)."""


class Subject:
    """One dispatched unit as the rules see it, with what several rules derive from it computed once."""

    __slots__ = ("_metrics", "kind", "pointer", "type", "value")

    def __init__(self, unit: Unit) -> None:
        self.value, self.pointer, self.kind = unit.value, unit.pointer, unit.kind
        self.type = _field(unit.value, "type")
        self._metrics: list[tuple[str, dict[str, Any]]] | None = None

    def metrics(self) -> list[tuple[str, dict[str, Any]]]:
        """(pointer, item) for each metric object in ``generated.items`` (every Timeback rule reads them)."""
        if self._metrics is None:
            items = _field(_field(self.value, "generated"), "items")
            base = f"{self.pointer}/generated/items/"
            self._metrics = [
                (f"{base}{index}", item)
                for index, item in enumerate(items if isinstance(items, list) else ())
                if isinstance(item, dict) and isinstance(item.get("type"), str)
            ]
        return self._metrics


DocumentCheck = Callable[[list[Subject]], Iterator[Finding]]
UnitCheck = Callable[[Subject], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A named check and how serious a breach of it is by default."""

    id: str
    severity: Severity
    summary: str
    check: DocumentCheck
    needs: tuple[str, ...] = ()
    """Substrings one of which the document's text must hold for the rule to find anything (a cheap
    screen that spares a walk of the whole document); empty: no screen."""

    def apply(self, units: list[Subject], text: str | None = None) -> Iterator[Issue]:
        """The issues this rule finds in one document's units (``text``: the document's source, if known)."""
        if self.needs and text is not None and not any(marker in text for marker in self.needs):
            return
        for where, message, hint in self.check(units):
            yield Issue(where, self.id, self.severity, message, hint=hint)


RULES: dict[str, Rule] = {}


def document_rule(
    id_: str, severity: Severity, summary: str, *, needs: tuple[str, ...] = ()
) -> Callable[[DocumentCheck], DocumentCheck]:
    """Register a check that sees every unit of a document."""

    def register(check: DocumentCheck) -> DocumentCheck:
        if id_ in RULES:
            raise ValueError(f"rule {id_} is defined twice")
        RULES[id_] = Rule(id_, severity, summary, check, needs)
        return check

    return register


def rule(
    id_: str,
    severity: Severity,
    summary: str,
    *,
    kinds: Iterable[Kind] = ("event",),
    types: Iterable[str] = (),
) -> Callable[[UnitCheck], UnitCheck]:
    """Register a check of one unit, run on the units of the given kinds (and document types, if any)."""
    kinds, types = frozenset(kinds), frozenset(types)

    def register(check: UnitCheck) -> UnitCheck:
        def each(units: list[Subject]) -> Iterator[Finding]:
            for unit in units:
                if unit.kind in kinds and (not types or unit.type in types):
                    yield from check(unit)

        document_rule(id_, severity, summary)(each)
        return check

    return register


def run(units: list[Unit], text: str | None = None) -> list[Issue]:
    """Every rule over one document's units (``text``: the document's source, when it is known)."""
    subjects = [Subject(unit) for unit in units]
    return [issue for each in RULES.values() for issue in each.apply(subjects, text)]


# --- small readers that tolerate whatever a broken document holds -----------------------------------


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _instant(value: Any) -> datetime | None:
    """A timezone-aware datetime from an RFC 3339 string, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- Caliper 1.2 ---------------------------------------------------------------------------------------


@rule("caliper.context-missing", "warning", "an event or entity document has no @context",
      kinds=("event", "entity"))  # fmt: skip
def _context_missing(unit: Subject) -> Iterator[Finding]:
    if isinstance(unit.value, dict) and "@context" not in unit.value:
        yield (join(unit.pointer, "@context"),
               "has no @context; Caliper 1.2 requires it on every event and entity document",
               f'add "@context": "{CALIPER_CONTEXT}"')  # fmt: skip


@rule("caliper.context-order", "error", "an @context array must list the Caliper context last",
      kinds=("event", "entity"))  # fmt: skip
def _context_order(unit: Subject) -> Iterator[Finding]:
    context = _field(unit.value, "@context")
    if isinstance(context, list) and CALIPER_CONTEXT in context and context[-1] != CALIPER_CONTEXT:
        yield (join(join(unit.pointer, "@context"), len(context) - 1),
               "the Caliper context must be the last element of an @context array",
               f'move "{CALIPER_CONTEXT}" to the end of the array')  # fmt: skip


_UUID_URN = re.compile(
    r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)


@rule("caliper.uuid", "error", "an event id is an RFC 4122 UUID: version 1-8, variant 10xx")
def _uuid(unit: Subject) -> Iterator[Finding]:
    event_id = _field(unit.value, "id")
    if isinstance(event_id, str) and _UUID_URN.match(event_id):  # other forms are the schema's to report
        uuid = event_id[9:]
        if uuid[14] not in "12345678" or uuid[19].lower() not in "89ab":
            yield (join(unit.pointer, "id"),
                   f"{uuid} is not an RFC 4122 UUID (version digit {uuid[14]}, variant digit {uuid[19]})",
                   'generate ids with uuid.uuid4(): f"urn:uuid:{uuid.uuid4()}"')  # fmt: skip


@rule("caliper.copied-without-generated", "warning",
      "a Copied ResourceManagementEvent names no copy (event table: required; profile: SHOULD)",
      types=("ResourceManagementEvent",))  # fmt: skip
def _copied_without_generated(unit: Subject) -> Iterator[Finding]:
    if _field(unit.value, "action") == "Copied" and "generated" not in unit.value:
        yield (join(unit.pointer, "generated"),
               "a Copied ResourceManagementEvent should name the copy it generated",
               "add the copy as generated: a DigitalResource object or its IRI")  # fmt: skip


@document_rule("caliper.duplicate-event-id", "error", "event ids are unique within one envelope")
def _duplicate_event_id(units: list[Subject]) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for unit in units:
        event_id = _field(unit.value, "id") if unit.kind == "event" else None
        if isinstance(event_id, str):
            if event_id in seen:
                yield (join(unit.pointer, "id"), f"repeats the id of the event at {seen[event_id]}",
                       "give every event its own urn:uuid: id; the service keys events by it")  # fmt: skip
            else:
                seen[event_id] = unit.pointer


@document_rule("caliper.event-after-send", "warning", "no event happens after its envelope was sent")
def _event_after_send(units: list[Subject]) -> Iterator[Finding]:
    envelope = next((unit for unit in units if unit.kind == "envelope"), None)
    sent = _instant(_field(envelope.value, "sendTime")) if envelope else None
    for unit in units if sent else ():
        happened = _instant(_field(unit.value, "eventTime")) if unit.kind == "event" else None
        if happened is not None and sent is not None and happened > sent:
            yield (join(unit.pointer, "eventTime"), "is later than the envelope's sendTime",
                   "set eventTime when the event happens and sendTime when the envelope is sent")  # fmt: skip


_IDENTIFYING = frozenset({"id", "email", "sendTime", "sensor", "eventTime", "actor", "object", "generated",
                          "target", "referrer", "edApp", "group", "membership", "session",
                          "federatedSession", "isPartOf"})  # fmt: skip


def _well_formed(key: str, text: str) -> bool:
    form = "email" if key == "email" else "date-time" if key in ("sendTime", "eventTime") else "iri"
    return conforms(text, form)


@document_rule("caliper.placeholder", "warning", "ids, emails and times hold no unfilled placeholder",
               needs=hints.PLACEHOLDER_MARKERS)  # fmt: skip
def _placeholder(units: list[Subject]) -> Iterator[Finding]:
    """Placeholders in otherwise well-formed values (``https://your-app-url.com/...``): a malformed one
    (``<user-id>``) is already an error of the schema or a lint, whose hint names the placeholder."""
    for unit in units:
        value = (
            unit.value if unit.kind != "envelope" else {k: v for k, v in unit.value.items() if k != "data"}
        )
        for path, text in walk(value):
            key = path[-1] if path else None
            hint = hints.placeholder(text) if key in _IDENTIFYING and isinstance(text, str) else None
            if hint and isinstance(key, str) and _well_formed(key, text):
                yield (
                    to_pointer(unit.pointer, path),
                    "looks like a template placeholder that was never filled in",
                    hint,
                )


# --- Timeback: ActivityEvent ---------------------------------------------------------------------------

_COUNTS = ("totalQuestions", "correctQuestions", "masteredUnits")


@rule("timeback.xp-earned-missing", "warning", "an ActivityEvent reports xpEarned",
      types=("ActivityEvent",))  # fmt: skip
def _xp_earned_missing(unit: Subject) -> Iterator[Finding]:
    items = _field(_field(unit.value, "generated"), "items")
    if isinstance(items, list) and not any(item.get("type") == "xpEarned" for _, item in unit.metrics()):
        yield (join(join(unit.pointer, "generated"), "items"),
               "has no xpEarned metric; Timeback credits XP only from it (1 XP = 1 focused minute)",
               'add {"type": "xpEarned", "value": <minutes>}; send 0 when none was earned')  # fmt: skip


@rule("timeback.question-pairing", "error", "totalQuestions and correctQuestions come together",
      types=("ActivityEvent",))  # fmt: skip
def _question_pairing(unit: Subject) -> Iterator[Finding]:
    present = {item["type"]: where for where, item in unit.metrics()}
    for have, need in (("totalQuestions", "correctQuestions"), ("correctQuestions", "totalQuestions")):
        if have in present and need not in present:
            yield (present[have], f"{have} without {need}: Timeback needs both to score the activity",
                   f"add a {need} metric, or drop {have}")  # fmt: skip


@rule("timeback.correct-exceeds-total", "error", "correctQuestions is at most totalQuestions",
      types=("ActivityEvent",))  # fmt: skip
def _correct_exceeds_total(unit: Subject) -> Iterator[Finding]:
    values = {item["type"]: (where, _number(item.get("value"))) for where, item in unit.metrics()}
    total, correct = values.get("totalQuestions"), values.get("correctQuestions")
    if total and correct and total[1] is not None and correct[1] is not None and correct[1] > total[1]:
        yield (join(correct[0], "value"), f"{correct[1]:g} correct answers out of {total[1]:g} questions",
               "correctQuestions counts the questions answered right, at most totalQuestions")  # fmt: skip


@rule("timeback.count-not-whole", "error", "question counts and masteredUnits are whole numbers >= 0",
      types=("ActivityEvent",))  # fmt: skip
def _count_not_whole(unit: Subject) -> Iterator[Finding]:
    for where, item in unit.metrics():
        value = _number(item.get("value"))
        if item["type"] in _COUNTS and value is not None and (value < 0 or not value.is_integer()):
            yield (join(where, "value"), f"{item['type']} is {item['value']!r}, not a whole number >= 0",
                   "send counts as integers >= 0; masteredUnits is the number of new units")  # fmt: skip


@rule("timeback.pct-complete-range", "error", "generated.extensions.pctCompleteApp is a number in 0-100",
      types=("ActivityEvent",))  # fmt: skip
def _pct_complete_range(unit: Subject) -> Iterator[Finding]:
    extensions = _field(_field(unit.value, "generated"), "extensions")
    if isinstance(extensions, dict) and "pctCompleteApp" in extensions:
        value = _number(extensions["pctCompleteApp"])
        if value is None or not 0 <= value <= 100:
            yield (join(join(join(unit.pointer, "generated"), "extensions"), "pctCompleteApp"),
                   f"is {extensions['pctCompleteApp']!r}; course completion is a percentage from 0 to 100",
                   None)  # fmt: skip


@rule("timeback.duplicate-metric", "warning", "each metric type appears once in a collection",
      types=("ActivityEvent", "TimeSpentEvent"))  # fmt: skip
def _duplicate_metric(unit: Subject) -> Iterator[Finding]:
    seen: set[str] = set()
    for where, item in unit.metrics():
        if item["type"] in seen:
            yield (join(where, "type"), f"a second {item['type']} metric in the same collection",
                   "send one item per metric type: the service's handling of repeats is unknown")  # fmt: skip
        seen.add(item["type"])


# --- Timeback: TimeSpentEvent --------------------------------------------------------------------------


@rule("timeback.time-range", "error", "a time-spent value is 0 to 86400 seconds",
      types=("TimeSpentEvent",))  # fmt: skip
def _time_range(unit: Subject) -> Iterator[Finding]:
    for where, item in unit.metrics():
        value = _number(item.get("value"))
        if value is not None and not 0 <= value <= 86400:
            yield (join(where, "value"), f"{item['value']!r} seconds is outside 0-86400 (one day)",
                   "values are seconds; the SDK emits a TimeSpentEvent every 15 s")  # fmt: skip


@rule(
    "timeback.window-order", "error", "a time-spent window starts before it ends", types=("TimeSpentEvent",)
)
def _window_order(unit: Subject) -> Iterator[Finding]:
    for where, item in unit.metrics():
        start, end = _instant(item.get("startDate")), _instant(item.get("endDate"))
        if start is not None and end is not None and start > end:
            yield join(where, "endDate"), "is before startDate", "swap startDate and endDate"


@rule("timeback.window-after-event", "warning", "a time-spent window ends by the event's eventTime",
      types=("TimeSpentEvent",))  # fmt: skip
def _window_after_event(unit: Subject) -> Iterator[Finding]:
    happened = _instant(_field(unit.value, "eventTime"))
    for where, item in unit.metrics():
        end = _instant(item.get("endDate"))
        if happened is not None and end is not None and end > happened:
            yield (join(where, "endDate"), "is later than the event's eventTime",
                   "send the event when the window closes: eventTime at or after endDate")  # fmt: skip
