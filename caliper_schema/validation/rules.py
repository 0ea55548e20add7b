"""Step 6, rules: what the sources require that JSON Schema cannot say.

Each rule is a small function with a stable id, a default severity and a one-line summary, registered in
``RULES`` by a decorator. :func:`rule` registers a check of one dispatched unit (an event or an entity);
:func:`document_rule` a check of a whole document at once (ids unique across an envelope). A check yields
``(pointer, message, hint)`` findings; the rule's severity, and the policy, decide what they weigh.

The best-practice tier (``bestpractice.*``, registered with ``best_practice=True``) checks the spec's
SHOULDs: warnings, and only run when the policy asks for them (``Policy(best_practice=True)``); the
certification guide counts a SHOULD as "a best practice", never a nonconformance, so ``strict`` alone does
not turn them on.

The Timeback rules encode the ETL conventions of `shared/reference/timeback-profile-facts.md` §3-§5, which
the service's OpenAPI does not: XP present, question counts paired and coherent, time in 0-86400 seconds.

>>> [rule for rule in RULES if rule.startswith("caliper.")][:3]
['caliper.context-missing', 'caliper.context-order', 'caliper.uuid']
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
from caliper_schema.registry import CALIPER_CONTEXT, load
from caliper_schema.reporting import Issue, Severity
from caliper_schema.validation.dispatching import Kind, Unit, carries_timeback
from caliper_schema.validation.fastpath import conforms

Finding = tuple[str, str, str | None]
"""(pointer, message, hint)."""


class Subject:
    """One dispatched unit as the rules see it, with what several rules derive from it computed once."""

    __slots__ = ("_metrics", "_named", "_typed", "kind", "pointer", "type", "value")

    def __init__(self, unit: Unit) -> None:
        # One per unit of every document: plain assignments, no helper call (it halves the cost).
        value = self.value = unit.value
        self.pointer = unit.pointer
        self.kind = unit.kind
        self.type = value.get("type") if isinstance(value, dict) else None
        self._metrics: list[tuple[int, dict[str, Any]]] | None = None
        self._named: dict[str, tuple[int, dict[str, Any]]] | None = None
        self._typed: dict[str, list[tuple[str, dict[str, Any]]]] | None = None

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

    def objects(self, type_: str) -> list[tuple[str, dict[str, Any]]]:
        """(pointer, object) for each object of ``type_`` in the unit, the unit itself included (one walk
        of the unit serves every best-practice rule that looks for entities of some type)."""
        if self._typed is None:
            self._typed = {}
            for path, node in walk(self.value):
                if isinstance(node, dict) and isinstance(node.get("type"), str):
                    self._typed.setdefault(node["type"], []).append((to_pointer(self.pointer, path), node))
        return self._typed.get(type_, [])

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
    best_practice: bool = False
    """True for a rule of the best-practice tier: run only when the policy asks for it."""
    stream: bool = False
    """True for a rule across the documents of a stream (:func:`stream_rule`): checked by
    :mod:`~caliper_schema.validation.streams`, never by :func:`run`."""

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
    id_: str,
    severity: Severity,
    summary: str,
    *,
    needs: tuple[str, ...] = (),
    between_events: bool = False,
    best_practice: bool = False,
) -> Callable[[DocumentCheck], DocumentCheck]:
    """Register a check that sees every unit of a document."""

    def register(check: DocumentCheck) -> DocumentCheck:
        _register(Rule(id_, severity, summary, check, needs, between_events, best_practice=best_practice))
        return check

    return register


def rule(
    id_: str,
    severity: Severity,
    summary: str,
    *,
    kinds: Iterable[Kind] = ("event",),
    types: Iterable[str] = (),
    best_practice: bool = False,
) -> Callable[[UnitCheck], UnitCheck]:
    """Register a check of one unit, run on the units of the given kinds (and document types, if any)."""
    kinds, types = frozenset(kinds), frozenset(types)

    def register(check: UnitCheck) -> UnitCheck:
        def each(units: list[Subject]) -> Iterator[Finding]:
            for unit in units:
                if unit.kind in kinds and (not types or unit.type in types):
                    yield from check(unit)

        _register(Rule(id_, severity, summary, each, unit=check, kinds=kinds, types=types,
                       best_practice=best_practice))  # fmt: skip
        return check

    return register


def stream_rule(id_: str, severity: Severity, summary: str) -> None:
    """Register a rule across the documents of one stream. Its check needs what no single document holds
    (the runs seen so far), so it lives in :mod:`~caliper_schema.validation.streams`; the id, severity and
    summary are registered here with the others, so that a policy re-grades it like any rule."""
    _register(Rule(id_, severity, summary, _nothing, stream=True))


def _nothing(units: list[Subject]) -> Iterator[Finding]:
    return iter(())


UnitPlan = tuple[tuple[int, Rule, UnitCheck], ...]
"""(rank in ``RULES``, rule, its unit check): the rank keeps :func:`run`'s issues in the rules' order."""


@functools.lru_cache(maxsize=512)  # bounded: ``type_`` comes from the payload, any string
def _unit_plan(kind: str, type_: str | None, best_practice: bool) -> UnitPlan:
    """The unit rules that check a unit of this kind and type (and the best-practice ones, if asked)."""
    ranked = enumerate(RULES.values())
    return tuple(
        (rank, each, each.unit)
        for rank, each in ranked
        if each.unit and each.fits(kind, type_) and (best_practice or not each.best_practice)
    )


@functools.cache
def _document_plan(many: bool, best_practice: bool) -> tuple[tuple[int, Rule], ...]:
    """The document rules, less those comparing events when the document has fewer than two (and the
    best-practice ones unless asked)."""
    ranked = enumerate(RULES.values())
    return tuple(
        (rank, each)
        for rank, each in ranked
        if each.unit is None
        and not each.stream
        and (many or not each.between_events)
        and (best_practice or not each.best_practice)
    )


def run(units: list[Unit], text: str | None = None, *, best_practice: bool = False) -> list[Issue]:
    """Every rule over one document's units (``text``: the document's source, when it is known); the
    best-practice tier too when ``best_practice``."""
    # A valid document is the common case: each unit runs only the checks that fit its kind and type,
    # looked up once, rather than every rule filtering every unit.
    subjects = [Subject(unit) for unit in units]
    found: list[tuple[int, Rule, Finding]] = []
    events = 0
    for subject in subjects:
        events += subject.kind == "event"
        type_ = subject.type if isinstance(subject.type, str) else None  # a cache key: never a list
        for rank, each, check in _unit_plan(subject.kind, type_, best_practice):
            for finding in check(subject):
                found.append((rank, each, finding))
    for rank, each in _document_plan(events > 1, best_practice):
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
    timeback = any(unit.kind == "envelope" and carries_timeback(unit.value) for unit in units)
    why = (
        "the Timeback service keys events by it"
        if timeback
        else "a receiver takes a repeated id for the same event"
    )
    for unit in units:
        event_id = _field(unit.value, "id") if unit.kind == "event" else None
        if isinstance(event_id, str):
            if event_id in seen:
                yield (join(unit.pointer, "id"), f"repeats the id of the event at {seen[event_id]}",
                       f"give every event its own urn:uuid: id; {why}")  # fmt: skip
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


# --- across the events of one app's stream (checked by validation/streams.py) ---------------------------
# Sources: shared/reference/timeback-profile-facts.md §3-§5. A run is the events of one actor sharing one
# runId. What rests on the SDK's conventions alone (its 15 s cadence, 1 XP = 1 focused minute, the order it
# sends in) is a warning; what makes the events count the same thing twice is an error.

stream_rule("stream.duplicate-id", "error",
            "an event id is used once in the whole stream, across envelopes and files")  # fmt: skip
stream_rule("stream.window-overlap", "error",
            "the time-spent windows of one run do not overlap: time counted twice")  # fmt: skip
stream_rule("stream.window-repeated", "error",
            "a run sends each heartbeat window once (the SDK dedups by runId and window start)")  # fmt: skip
stream_rule("stream.window-too-long", "warning",
            "a heartbeat window spans at most 8 times the SDK's 15 s cadence (2 minutes)")  # fmt: skip
stream_rule("stream.xp-beyond-time", "warning",
            "a run's xpEarned is within its active minutes (1 XP = 1 focused minute), give or take"
            " the policy's xp_tolerance")  # fmt: skip
stream_rule("stream.completion-before-time", "warning",
            "a run's completion (ActivityEvent) comes after the time its heartbeats count")  # fmt: skip
stream_rule(
    "stream.progress-backwards",
    "warning",
    "course completion (pctCompleteApp, from masteredUnits summed) does not fall within a run",
)


# --- the best-practice tier: the spec's SHOULDs (off unless the policy asks) ------------------------------
# Sources: shared/reference/caliper-spec-facts.md §4, §5, §7, §8; each rule's README row quotes its sentence.


def _missing(unit: Subject, type_: str, expected: tuple[str, ...], why: str) -> Iterator[Finding]:
    for where, node in unit.objects(type_):
        for name in expected:
            if name not in node:
                yield (join(where, name),
                       f"{hints.article(type_)} should name its {name}; {why}", None)  # fmt: skip


@rule("bestpractice.profile", "warning", "an event names its profile", best_practice=True)
def _profile_missing(unit: Subject) -> Iterator[Finding]:
    if isinstance(unit.value, dict) and "profile" not in unit.value:
        covering = [name for name, types in load().coverage.items() if unit.type in types]
        example = " or ".join(f'"{name}"' for name in covering[:3]) or '"GeneralProfile"'
        yield (join(unit.pointer, "profile"), "names no profile; Caliper: Sensors SHOULD specify it",
               f'add "profile": {example}')  # fmt: skip


@rule("bestpractice.uuid-v4", "warning", "an event id is a version 4 UUID", best_practice=True)
def _uuid_v4(unit: Subject) -> Iterator[Finding]:
    event_id = _field(unit.value, "id")
    if isinstance(event_id, str) and _UUID_URN.match(event_id) and event_id[23] != "4":
        yield (join(unit.pointer, "id"), f"is a version {event_id[23]} UUID; Caliper: a version 4 UUID SHOULD"
               " be generated", 'generate ids with uuid.uuid4(): f"urn:uuid:{uuid.uuid4()}"')  # fmt: skip


_BOTH: tuple[Kind, ...] = ("event", "entity")


@rule("bestpractice.attempt-properties", "warning", "an Attempt object has assignee, assignable and count",
      kinds=_BOTH, best_practice=True)  # fmt: skip
def _attempt_properties(unit: Subject) -> Iterator[Finding]:
    yield from _missing(unit, "Attempt", ("assignee", "assignable", "count"),
                        "the profiles say who attempted what, and which attempt it is")  # fmt: skip


@rule("bestpractice.score-properties", "warning", "a Score object has attempt, maxScore and scoreGiven",
      kinds=_BOTH, best_practice=True)  # fmt: skip
def _score_properties(unit: Subject) -> Iterator[Finding]:
    why = "the Grading profile says which attempt it scores, out of what, and the score"
    yield from _missing(unit, "Score", ("attempt", "maxScore", "scoreGiven"), why)


@rule("bestpractice.result-properties", "warning", "a Result object has attempt, maxResultScore and"
      " resultScore", kinds=_BOTH, best_practice=True)  # fmt: skip
def _result_properties(unit: Subject) -> Iterator[Finding]:
    yield from _missing(unit, "Result", ("attempt", "maxResultScore", "resultScore"),
                        "the Grading profile says which attempt it is the result of, out of what, and the"
                        " result")  # fmt: skip


_TIMED_OUT = ("user", "startedAtTime", "endedAtTime", "duration")


@rule("bestpractice.timed-out-session", "warning",
      "the Session a TimedOut SessionEvent ends has user, startedAtTime, endedAtTime and duration",
      types=("SessionEvent",), best_practice=True)  # fmt: skip
def _timed_out_session(unit: Subject) -> Iterator[Finding]:
    session = _field(unit.value, "object")
    if _field(unit.value, "action") == "TimedOut" and isinstance(session, dict):
        for name in _TIMED_OUT:
            if name not in session:
                yield (join(join(unit.pointer, "object"), name),
                       f"a timed-out Session should give its {name}; the Session profile says whose session"
                       " it was and how long it lasted", None)  # fmt: skip


def _lti_identified(app: Any) -> bool:
    identifiers = _field(app, "otherIdentifiers")
    return isinstance(identifiers, list) and any(
        isinstance(_field(item, "identifierType"), str) and item["identifierType"].startswith("Lti")
        for item in identifiers
    )


@rule("bestpractice.federated-session", "warning",
      "an event an LTI tool minted (its edApp has an LTI identifier, or its session is an LtiSession)"
      " references the platform's federatedSession", best_practice=True)  # fmt: skip
def _federated_session(unit: Subject) -> Iterator[Finding]:
    value = unit.value
    if not isinstance(value, dict) or "federatedSession" in value:
        return
    lti_session = _field(_field(value, "session"), "type") == "LtiSession"
    if lti_session or _lti_identified(_field(value, "edApp")):
        message = "an LTI tool minted this event, which references no federatedSession; Caliper: it SHOULD"
        hint = "add the LTI platform's session: an LtiSession, as an object or an IRI"
        yield join(unit.pointer, "federatedSession"), message, hint


_CURRENT_TIME = {
    "Started": "the beginning of the stream",
    "Restarted": "the beginning of the stream",
    "Paused": "the pause point",
    "Resumed": "the previous pause point",
    "Ended": "the end of the stream",
}
_OCCURRED = "the point in the stream where the action occurred"


@rule("bestpractice.media-current-time", "warning",
      "a MediaEvent's target is a MediaLocation with the currentTime its action calls for",
      types=("MediaEvent",), best_practice=True)  # fmt: skip
def _media_current_time(unit: Subject) -> Iterator[Finding]:
    value = unit.value
    target, action = _field(value, "target"), _field(value, "action")
    when = _CURRENT_TIME.get(action, _OCCURRED) if isinstance(action, str) else _OCCURRED
    hint = f'give the MediaLocation "currentTime" as an ISO 8601 duration: {when}'
    if not isinstance(value, dict) or isinstance(target, str):
        return  # an IRI: its currentTime is not in this payload
    if target is None:
        yield join(unit.pointer, "target"), "names no MediaLocation target, so no currentTime", hint
    elif isinstance(target, dict) and "currentTime" not in target:
        yield (
            join(join(unit.pointer, "target"), "currentTime"),
            "the MediaLocation gives no currentTime",
            hint,
        )


@rule("bestpractice.context-role", "warning", "a sub-role comes with its context role",
      kinds=_BOTH, best_practice=True)  # fmt: skip
def _context_role(unit: Subject) -> Iterator[Finding]:
    for where, membership in unit.objects("Membership"):
        roles = membership.get("roles")
        if not isinstance(roles, list):
            continue
        for index, role in enumerate(roles):
            context = role.partition("#")[0] if isinstance(role, str) and "#" in role else None
            if context and context not in roles:
                yield (f"{where}/roles/{index}",
                       f"the sub-role {role!r} comes without its context role {context!r}; Caliper: it SHOULD"
                       " also be included", f'add "{context}" to roles')  # fmt: skip


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


@functools.cache
def _required_somewhere() -> frozenset[str]:
    """Every property some schema requires: one a value is left in rather than dropped when empty."""
    catalogue = load()
    return frozenset(
        name
        for schema in catalogue.schemas.values()
        for _, node in walk(schema)
        if isinstance(node, dict) and isinstance(node.get("required"), list)
        for name in node["required"]
        if isinstance(name, str)
    )


def _required_of(node: dict[str, Any]) -> frozenset[str]:
    catalogue = load()
    type_ = node.get("type")
    if isinstance(type_, str) and type_ in catalogue.types:
        return catalogue.required(catalogue.types[type_])
    return _required_somewhere()  # an object of no document type (a metric, a reference): any of them


_EXCLUDED = "Caliper: properties with a value of null or empty SHOULD be excluded"


@rule("bestpractice.empty-value", "warning", "no property is null or empty", kinds=_BOTH, best_practice=True)
def _empty_value(unit: Subject) -> Iterator[Finding]:
    for path, node in walk(unit.value):
        if not isinstance(node, dict) or "extensions" in path:  # custom data is the sender's own
            continue
        empty = [name for name, item in node.items() if _empty(item)]
        required = _required_of(node) if empty else frozenset()
        for name in (name for name in empty if name not in required):
            message = f"is {'null' if node[name] is None else 'empty'}; {_EXCLUDED}"
            yield to_pointer(unit.pointer, (*path, name)), message, f"leave out {name!r}"


_REPLY = re.compile(r"\s*re\s*:", re.IGNORECASE)


@rule("bestpractice.reply-to", "warning", "a reply Message (a name or body starting 'Re:') names replyTo",
      kinds=_BOTH, best_practice=True)  # fmt: skip
def _reply_to(unit: Subject) -> Iterator[Finding]:
    for where, message in unit.objects("Message"):
        text = next((t for t in (message.get("name"), message.get("body")) if isinstance(t, str)), "")
        if "replyTo" not in message and _REPLY.match(text):
            yield (join(where, "replyTo"), "a reply names no replyTo; Caliper: it SHOULD be set for"
                   " replies", "add the Message it replies to: an object or its IRI")  # fmt: skip


_ASSIGNABLE_ATTEMPTS = frozenset({"Started", "Completed", "Submitted", "Reviewed"})


@rule("bestpractice.assignable-attempt", "warning",
      "an AssignableEvent Started, Completed, Submitted or Reviewed names the Attempt it generated",
      types=("AssignableEvent",), best_practice=True)  # fmt: skip
def _assignable_attempt(unit: Subject) -> Iterator[Finding]:
    action = _field(unit.value, "action")
    if isinstance(action, str) and action in _ASSIGNABLE_ATTEMPTS and "generated" not in unit.value:
        message = f"a {action} AssignableEvent names no Attempt; the profile says it SHOULD"
        yield join(unit.pointer, "generated"), message, "add the Attempt as generated: an object or its IRI"


@rule("bestpractice.context-duplicate", "warning", "an @context array lists each context once",
      kinds=_BOTH, best_practice=True)  # fmt: skip
def _context_duplicate(unit: Subject) -> Iterator[Finding]:
    context = _field(unit.value, "@context")
    if isinstance(context, list):
        seen: list[Any] = []
        for index, entry in enumerate(context):
            if entry in seen:
                message = "repeats an earlier context; Caliper: duplicates SHOULD be omitted"
                yield join(join(unit.pointer, "@context"), index), message, "drop the repeat"
            seen.append(entry)
