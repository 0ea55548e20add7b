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

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caliper_schema import hints
from caliper_schema.locating import pointer as join
from caliper_schema.locating import to_pointer, walk
from caliper_schema.registry import CALIPER_CONTEXT
from caliper_schema.reporting import Issue, Severity
from caliper_schema.validation.dispatching import Kind, Unit
from caliper_schema.validation.fastpath import conforms

Finding = tuple[str, str, str | None]
"""(pointer, message, hint)."""


class Subject:
    """One dispatched unit as the rules see it, with what several rules derive from it computed once."""

    __slots__ = ("_metrics", "_named", "kind", "pointer", "type", "value")

    def __init__(self, unit: Unit) -> None:
        # One per unit of every document: plain assignments, no helper call (it halves the cost).
        value = self.value = unit.value
        self.pointer = unit.pointer
        self.kind = unit.kind
        self.type = value.get("type") if isinstance(value, dict) else None
        self._metrics: list[tuple[int, dict[str, Any]]] | None = None
        self._named: dict[str, tuple[int, dict[str, Any]]] | None = None

    def metrics(self) -> list[tuple[int, dict[str, Any]]]:
        """(index, item) for each metric object in ``generated.items`` (every Timeback rule reads them)."""
        if self._metrics is None:
            items = _field(_field(self.value, "generated"), "items")
            self._metrics = [
                (index, item)
                for index, item in enumerate(items if isinstance(items, list) else ())
                if isinstance(item, dict) and isinstance(item.get("type"), str)
            ]
        return self._metrics

    def metric(self, index: int) -> str:
        """The pointer of ``generated.items[index]``: built only for a finding, valid documents have none."""
        return f"{self.pointer}/generated/items/{index}"

    def named(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Metric type → (index, item) of the last metric of that type."""
        if self._named is None:
            self._named = {pair[1]["type"]: pair for pair in self.metrics()}
        return self._named


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
    between_events: bool = False
    """True for a rule that compares events with each other: it has nothing to find in a document of fewer
    than two (a screen, as ``needs``)."""
    unit: UnitCheck | None = None
    """A rule registered by :func:`rule`: its check of one unit, which ``check`` runs on the units that
    :meth:`fits`."""
    kinds: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()

    def fits(self, kind: str, type_: Any) -> bool:
        """True when ``unit`` checks units of this kind and type."""
        return kind in self.kinds and (not self.types or type_ in self.types)

    def may_find(self, text: str | None) -> bool:
        """False when the ``needs`` screen shows the rule has nothing to find here (:func:`run` applies the
        ``between_events`` one)."""
        return not self.needs or text is None or _holds_any(text, self.needs)

    def issue(self, finding: Finding) -> Issue:
        """The issue reporting one finding of this rule."""
        where, message, hint = finding
        return Issue(where, self.id, self.severity, message, hint=hint)


RULES: dict[str, Rule] = {}
"""Every rule by id, in the order the issues of :func:`run` follow. Register with :func:`rule` or
:func:`document_rule`, which also keep :func:`run`'s plans current."""


def _register(each: Rule) -> None:
    if each.id in RULES:
        raise ValueError(f"rule {each.id} is defined twice")
    RULES[each.id] = each
    _unit_plan.cache_clear()
    _document_plan.cache_clear()


def document_rule(
    id_: str, severity: Severity, summary: str, *, needs: tuple[str, ...] = (), between_events: bool = False
) -> Callable[[DocumentCheck], DocumentCheck]:
    """Register a check that sees every unit of a document."""

    def register(check: DocumentCheck) -> DocumentCheck:
        _register(Rule(id_, severity, summary, check, needs, between_events))
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

        _register(Rule(id_, severity, summary, each, unit=check, kinds=kinds, types=types))
        return check

    return register


UnitPlan = tuple[tuple[int, Rule, UnitCheck], ...]
"""(rank in ``RULES``, rule, its unit check): the rank keeps :func:`run`'s issues in the rules' order."""


@functools.cache
def _unit_plan(kind: str, type_: str | None) -> UnitPlan:
    """The unit rules that check a unit of this kind and type."""
    ranked = enumerate(RULES.values())
    return tuple((rank, each, each.unit) for rank, each in ranked if each.unit and each.fits(kind, type_))


@functools.cache
def _document_plan(many: bool) -> tuple[tuple[int, Rule], ...]:
    """The document rules, less those comparing events when the document has fewer than two."""
    ranked = enumerate(RULES.values())
    return tuple(
        (rank, each) for rank, each in ranked if each.unit is None and (many or not each.between_events)
    )


def run(units: list[Unit], text: str | None = None) -> list[Issue]:
    """Every rule over one document's units (``text``: the document's source, when it is known)."""
    # A valid document is the common case: each unit runs only the checks that fit its kind and type,
    # looked up once, rather than every rule filtering every unit.
    subjects = [Subject(unit) for unit in units]
    found: list[tuple[int, Rule, Finding]] = []
    events = 0
    for subject in subjects:
        events += subject.kind == "event"
        type_ = subject.type if isinstance(subject.type, str) else None  # a cache key: never a list
        for rank, each, check in _unit_plan(subject.kind, type_):
            for finding in check(subject):
                found.append((rank, each, finding))
    for rank, each in _document_plan(events > 1):
        if each.may_find(text):
            for finding in each.check(subjects):
                found.append((rank, each, finding))
    if len(found) > 1:
        found.sort(key=_rank)  # stable: within a rule, units in document order
    return [each.issue(finding) for _, each, finding in found]


def _rank(found: tuple[int, Rule, Finding]) -> int:
    return found[0]


def _holds_any(text: str, markers: tuple[str, ...]) -> bool:
    """``any(marker in text for marker in markers)``, several times faster: see :func:`_finder`."""
    for marker in markers:  # noqa: SIM110 - any() over a generator would add a third to the cost
        if marker[0] in text and (len(marker) == 1 or _finder(marker)(text)):
            return True
    return False


@functools.cache
def _finder(marker: str) -> Callable[[str], object]:
    # CPython looks for one character with memchr (30 ns on 2 KB), so the marker's first character screens
    # cheaply; for a longer needle str scans at ~0.85 ns a character, re's literal scan at ~0.4 for two
    # characters, while str's skip table wins for long needles (measured, Python 3.11).
    if len(marker) <= 2:
        return re.compile(re.escape(marker)).search
    return lambda text: marker in text


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


def _versioned(event_id: str) -> bool:
    """True for an id whose version and variant digits are right, if it is a UUID URN at all: a cheap
    test that spares the regex for nearly every id."""
    return len(event_id) == 45 and event_id[23] in "12345678" and event_id[28] in "89abAB"


@rule("caliper.uuid", "error", "an event id is an RFC 4122 UUID: version 1-8, variant 10xx")
def _uuid(unit: Subject) -> Iterator[Finding]:
    event_id = _field(unit.value, "id")
    # other forms are the schema's to report
    if isinstance(event_id, str) and not _versioned(event_id) and _UUID_URN.match(event_id):
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


@document_rule("caliper.duplicate-event-id", "error", "event ids are unique within one envelope",
               between_events=True)  # fmt: skip
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


def _sent(units: list[Subject]) -> datetime | None:
    """When the document's envelope says it was sent (None: no envelope, or no valid sendTime)."""
    for unit in units:
        if unit.kind == "envelope":
            return _instant(_field(unit.value, "sendTime"))
    return None


@document_rule("caliper.event-after-send", "warning", "no event happens after its envelope was sent")
def _event_after_send(units: list[Subject]) -> Iterator[Finding]:
    sent = _sent(units)
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
    if "xpEarned" not in unit.named() and isinstance(_field(_field(unit.value, "generated"), "items"), list):
        yield (join(join(unit.pointer, "generated"), "items"),
               "has no xpEarned metric; Timeback credits XP only from it (1 XP = 1 focused minute)",
               'add {"type": "xpEarned", "value": <minutes>}; send 0 when none was earned')  # fmt: skip


@rule("timeback.question-pairing", "error", "totalQuestions and correctQuestions come together",
      types=("ActivityEvent",))  # fmt: skip
def _question_pairing(unit: Subject) -> Iterator[Finding]:
    present = unit.named()
    for have, need in (("totalQuestions", "correctQuestions"), ("correctQuestions", "totalQuestions")):
        if have in present and need not in present:
            yield (unit.metric(present[have][0]),
                   f"{have} without {need}: Timeback needs both to score the activity",
                   f"add a {need} metric, or drop {have}")  # fmt: skip


@rule("timeback.correct-exceeds-total", "error", "correctQuestions is at most totalQuestions",
      types=("ActivityEvent",))  # fmt: skip
def _correct_exceeds_total(unit: Subject) -> Iterator[Finding]:
    named = unit.named()
    total, correct = named.get("totalQuestions"), named.get("correctQuestions")
    most = _number(total[1].get("value")) if total else None
    right = _number(correct[1].get("value")) if correct else None
    if correct and most is not None and right is not None and right > most:
        yield (join(unit.metric(correct[0]), "value"),
               f"{right:g} correct answers out of {most:g} questions",
               "correctQuestions counts the questions answered right, at most totalQuestions")  # fmt: skip


@rule("timeback.count-not-whole", "error", "question counts and masteredUnits are whole numbers >= 0",
      types=("ActivityEvent",))  # fmt: skip
def _count_not_whole(unit: Subject) -> Iterator[Finding]:
    for index, item in unit.metrics():
        value = _number(item.get("value")) if item["type"] in _COUNTS else None
        if value is not None and (value < 0 or not value.is_integer()):
            yield (join(unit.metric(index), "value"),
                   f"{item['type']} is {item['value']!r}, not a whole number >= 0",
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
    if len(unit.named()) == len(unit.metrics()):
        return  # no type repeats: the common case
    seen: set[str] = set()
    for index, item in unit.metrics():
        if item["type"] in seen:
            yield (join(unit.metric(index), "type"),
                   f"a second {item['type']} metric in the same collection",
                   "send one item per metric type: the service's handling of repeats is unknown")  # fmt: skip
        seen.add(item["type"])


# --- Timeback: TimeSpentEvent --------------------------------------------------------------------------


@rule("timeback.time-range", "error", "a time-spent value is 0 to 86400 seconds",
      types=("TimeSpentEvent",))  # fmt: skip
def _time_range(unit: Subject) -> Iterator[Finding]:
    for index, item in unit.metrics():
        value = _number(item.get("value"))
        if value is not None and not 0 <= value <= 86400:
            yield (join(unit.metric(index), "value"),
                   f"{item['value']!r} seconds is outside 0-86400 (one day)",
                   "values are seconds; the SDK emits a TimeSpentEvent every 15 s")  # fmt: skip


@rule(
    "timeback.window-order", "error", "a time-spent window starts before it ends", types=("TimeSpentEvent",)
)
def _window_order(unit: Subject) -> Iterator[Finding]:
    for index, item in unit.metrics():
        start, end = _instant(item.get("startDate")), _instant(item.get("endDate"))
        if start is not None and end is not None and start > end:
            yield join(unit.metric(index), "endDate"), "is before startDate", "swap startDate and endDate"


@rule("timeback.window-after-event", "warning", "a time-spent window ends by the event's eventTime",
      types=("TimeSpentEvent",))  # fmt: skip
def _window_after_event(unit: Subject) -> Iterator[Finding]:
    happened = _instant(_field(unit.value, "eventTime"))
    for index, item in unit.metrics():
        end = _instant(item.get("endDate"))
        if happened is not None and end is not None and end > happened:
            yield (join(unit.metric(index), "endDate"), "is later than the event's eventTime",
                   "send the event when the window closes: eventTime at or after endDate")  # fmt: skip
