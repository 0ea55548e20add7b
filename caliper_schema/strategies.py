"""Hypothesis strategies for Caliper 1.2 and Timeback documents, valid and invalid, read from the schemas.

Every strategy here walks ``schemas/`` (:mod:`~caliper_schema.generation.planning`), so a new or changed
schema gets strategies with no new code. Values are realistic (UUID v4 event ids, IRIs where such entities
live, Caliper DateTimes, coherent Timeback metrics) and shrink well: a failing test reports a small event,
with IRIs for its entities and few optional properties.

    from hypothesis import given
    from caliper_schema import strategies as cs

    @given(cs.activity_events(actor={"id": "https://example.edu/users/1", "type": "TimebackUser",
                                     "email": "ada@example.edu"}))
    def test_my_pipeline_keeps_the_xp(event):
        ...

Each strategy takes *overrides*: a property of the document, given a fixed value or a strategy for it
(``events("ViewEvent", actor=st.sampled_from(my_users))``); :data:`ABSENT` leaves an optional one out.
Overrides are used as given, before the schema's conditionals are decided, so ``action="Ranked"`` on a
FeedbackEvent gets a Rating as ``generated``.

:func:`invalid_events` and :func:`invalid_envelopes` draw a :class:`Mutant`: a valid document with exactly
one labelled mutation, the JSON Pointer where the validator should report it, and the rule id.

``st.from_type(Model)`` gives valid instances of a generated model (:func:`for_model`), with or without
this module imported: the models register themselves with Hypothesis, lazily.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import NotImplementedType
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from caliper_schema.generation.building import Builder, entity_types, event_types, resolve_types, with_profile
from caliper_schema.generation.drawing import HypothesisDraw
from caliper_schema.generation.mutating import Mutant, mutate, mutations
from caliper_schema.generation.planning import ABSENT, Record, planner
from caliper_schema.generation.sessions import Session, mistakes, no_mistake, session, setting
from caliper_schema.registry import ENVELOPE, ENVELOPE_SHELL, load

__all__ = [
    "ABSENT",
    "Mutant",
    "activity_events",
    "entities",
    "envelopes",
    "events",
    "for_model",
    "invalid_envelopes",
    "invalid_events",
    "register_models",
    "sessions",
    "time_spent_events",
]

Types = str | Sequence[str] | None
Document = dict[str, Any]


def events(type: Types = None, *, profile: str | None = None, **overrides: Any) -> SearchStrategy[Document]:
    """Valid bare events of ``type`` (a name, names, or ``None`` for all 24 event types).

    ``profile`` fixes the profile (and keeps only the event types that admit it; with no ``type``, those it
    covers, as its tables in the spec list them); ``overrides`` fix
    top-level properties, each a value or a strategy.

    >>> from hypothesis import given, settings
    >>> @given(events("FeedbackEvent", action="Ranked", generated=st.just("https://example.edu/ratings/1")))
    ... @settings(max_examples=10)
    ... def test_rating(event):
    ...     assert event["action"] == "Ranked" and event["generated"].endswith("/ratings/1")
    >>> test_rating()
    """
    names = _event_types(type, profile)
    return _documents(names, _fixed(names, overrides, profile))


def entities(type: Types = None, **overrides: Any) -> SearchStrategy[Document]:
    """Valid bare entities of ``type`` (``None``: every Caliper entity type, and SystemIdentifier...).

    A bare Timeback entity (``TimebackUser``...) must be asked for by name: it cannot carry ``@context``,
    so it always draws the ``caliper.context-missing`` warning.

    >>> from hypothesis import given, settings
    >>> @given(entities("Person"))
    ... @settings(max_examples=10)
    ... def test_person(person):
    ...     assert person["type"] == "Person" and person["id"].startswith("https://")
    >>> test_person()
    """
    names = resolve_types(type, "entity")
    return _documents(names, _fixed(names, overrides, None))


def activity_events(**overrides: Any) -> SearchStrategy[Document]:
    """Valid Timeback ActivityEvents, with coherent metrics.

    ``xpEarned`` always; ``totalQuestions`` and ``correctQuestions`` both or neither, correct <= total;
    ``masteredUnits`` a whole number >= 0; ``generated.extensions.pctCompleteApp`` 0-100 when present.

    >>> from hypothesis import given, settings
    >>> @given(activity_events(object=st.fixed_dictionaries({
    ...     "id": st.just("https://example.edu/activities/1"), "type": st.just("TimebackActivityContext"),
    ...     "subject": st.sampled_from(["Math", "Reading"]), "app": st.just({"name": "Math Raiders"})})))
    ... @settings(max_examples=10)
    ... def test_xp(event):
    ...     assert event["generated"]["items"][0]["type"] == "xpEarned"
    >>> test_xp()
    """
    return events("ActivityEvent", **overrides)


def time_spent_events(**overrides: Any) -> SearchStrategy[Document]:
    """Valid Timeback TimeSpentEvents: seconds per category (0-86400), ``active`` always, and when dated,
    ``startDate <= endDate <= eventTime``.

    >>> from hypothesis import given, settings
    >>> @given(time_spent_events())
    ... @settings(max_examples=10)
    ... def test_seconds(event):
    ...     assert all(0 <= item["value"] <= 86400 for item in event["generated"]["items"])
    >>> test_seconds()
    """
    return events("TimeSpentEvent", **overrides)


def envelopes(
    type: Types = None,
    *,
    profile: str | None = None,
    min_size: int = 1,
    max_size: int = 3,
    **overrides: Any,
) -> SearchStrategy[Document]:
    """Valid Envelopes of ``min_size`` to ``max_size`` events of ``type``; ids unique, each event sent
    after it happened. ``overrides`` fix envelope properties (``sensor``...).

    >>> from hypothesis import given, settings
    >>> @given(envelopes(["ActivityEvent", "TimeSpentEvent"], max_size=2, sensor="https://app.example.com"))
    ... @settings(max_examples=10)
    ... def test_envelope(envelope):
    ...     assert 1 <= len(envelope["data"]) <= 2 and envelope["sensor"] == "https://app.example.com"
    >>> test_envelope()
    """
    names = _event_types(type, profile)
    if not 1 <= min_size <= max_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got {min_size} and {max_size}")
    fixed = _fixed_shell(overrides)
    item_overrides = {"profile": profile} if profile else {}

    @st.composite
    def build(draw: st.DrawFn) -> Document:
        source = HypothesisDraw(draw)
        first = source.choice(names)  # the builder puts its first type first (the generator's turn)
        return Builder(source).envelope(
            [first, *names], (min_size, max_size), _drawn(draw, fixed), item_overrides
        )

    return build()


def invalid_events(
    type: Types = None,
    *,
    profile: str | None = None,
    strict: bool = False,
    mutations: Iterable[str] | None = None,
) -> SearchStrategy[Mutant]:
    """Invalid bare events: a valid one of ``type`` with exactly one mutation (:class:`Mutant`).

    ``mutations`` keeps the labels matching any of its shell-style patterns (``"remove-required"``,
    ``"rule:timeback.*"``); ``strict`` adds the mutations only ``strict=True`` rejects (lints, warning
    rules). Each mutant says where the validator reports it (``pointer``, or its parent) and the rule.

    >>> from hypothesis import given, settings
    >>> from caliper_schema import validate
    >>> @given(invalid_events("ViewEvent", mutations=["bad-format"]))
    ... @settings(max_examples=10, deadline=None)  # the first examples compile the schemas they meet
    ... def test_rejected(mutant):
    ...     assert any(issue.pointer == mutant.pointer for issue in validate(mutant.document).errors)
    >>> test_rejected()
    """
    names = _event_types(type, profile)
    labels = _labels(mutations, strict)
    item_overrides = {"profile": profile} if profile else {}

    @st.composite
    def build(draw: st.DrawFn) -> Mutant:
        source = HypothesisDraw(draw)
        builder = Builder(source, record_sites=True)
        document = builder.document(source.choice(names), item_overrides)
        return _mutated(document, builder, source, strict, labels)

    return build()


def invalid_envelopes(
    type: Types = None,
    *,
    profile: str | None = None,
    strict: bool = False,
    mutations: Iterable[str] | None = None,
    max_size: int = 3,
) -> SearchStrategy[Mutant]:
    """Invalid Envelopes: a valid one with exactly one mutation, in the shell or in an event.

    >>> from hypothesis import given, settings
    >>> @given(invalid_envelopes(mutations=["rule:caliper.duplicate-event-id"]))
    ... @settings(max_examples=10)
    ... def test_duplicates(mutant):
    ...     assert mutant.pointer.startswith("/data/") and mutant.pointer.endswith("/id")
    >>> test_duplicates()
    """
    names = _event_types(type, profile)
    labels = _labels(mutations, strict)
    item_overrides = {"profile": profile} if profile else {}

    @st.composite
    def build(draw: st.DrawFn) -> Mutant:
        source = HypothesisDraw(draw)
        builder = Builder(source, record_sites=True)
        document = builder.envelope([source.choice(names), *names], (1, max_size), None, item_overrides)
        return _mutated(document, builder, source, strict, labels)

    return build()


def sessions(
    *,
    invalid: bool = False,
    strict: bool = False,
    envelope: bool = False,
    mutations: Iterable[str] | None = None,
) -> SearchStrategy[Session]:
    """Whole runs of a Timeback app (:class:`~caliper_schema.generation.sessions.Session`): heartbeats every
    15 s with their active and inactive seconds, then a completion whose XP and questions fit the run, all
    with one ``runId``; bare events, or with ``envelope`` each in an envelope of its own. With ``invalid``,
    exactly one labelled mistake between the events (``session.mistake``: its rule, the document and the
    pointer where :func:`~caliper_schema.validation.streams.validate_stream` reports it), of a rule
    default validation rejects (``strict``: also the warning rules'); ``mutations`` keeps the labels
    matching one of its patterns (``"rule:stream.window-*"``).

    >>> from hypothesis import given, settings
    >>> @given(sessions())
    ... @settings(max_examples=10, deadline=None)
    ... def test_one_run(run):
    ...     assert len({event["extensions"]["runId"] for event in run.documents}) == 1
    >>> test_one_run()
    """
    labels = list(mutations) if mutations is not None else None
    if invalid and not mistakes(labels, strict=strict):
        raise ValueError(no_mistake(labels, strict))

    @st.composite
    def build(draw: st.DrawFn) -> Session:
        source = HypothesisDraw(draw)
        return session(
            source, setting(source), invalid=invalid, strict=strict, envelope=envelope, labels=labels
        )

    return build()


# --- helpers ------------------------------------------------------------------------------------------


def _event_types(type: Types, profile: str | None) -> tuple[str, ...]:
    if profile:  # the types named that admit it, or those the profile covers
        return with_profile(None if type is None else resolve_types(type, "event"), profile)
    return resolve_types(type, "event")


def _labels(patterns: Iterable[str] | None, strict: bool) -> list[str] | None:
    if patterns is None:
        return None
    chosen = list(patterns)
    if not mutations(strict=strict, labels=chosen):
        known = [label for label, _ in mutations(strict=True)]
        raise ValueError(f"no mutation matches {chosen}; the labels are {', '.join(known)}")
    return chosen


def _mutated(document: Document, builder: Builder, source: HypothesisDraw, strict: bool,
             labels: list[str] | None) -> Mutant:  # fmt: skip
    mutant = mutate(document, builder, source, strict=strict, labels=labels)
    if mutant is None:
        reject()  # this document offers nothing the chosen mutations can change (rare: pick types for them)
    return mutant


def _check_names(records: Iterable[Record], overrides: Mapping[str, Any]) -> None:
    for record in records:
        unknown = [name for name in overrides if name not in record.properties]
        if unknown:
            raise ValueError(f"{record.title} has no propert{'y' if len(unknown) == 1 else 'ies'} "
                             f"{', '.join(map(repr, unknown))}")  # fmt: skip


def _fixed(names: Sequence[str], overrides: Mapping[str, Any], profile: str | None) -> dict[str, Any]:
    _check_names([planner().document(name) for name in names], overrides)
    return {**overrides, **({"profile": profile} if profile else {})}


def _fixed_shell(overrides: Mapping[str, Any]) -> dict[str, Any]:
    shell = planner().at(ENVELOPE)
    assert isinstance(shell, Record)
    _check_names([shell], overrides)
    return dict(overrides)


def _drawn(draw: st.DrawFn, fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides for one example: strategies drawn, values copied (tests may change what they get)."""
    return {
        name: draw(value)
        if isinstance(value, SearchStrategy)
        else value
        if value is ABSENT
        else copy.deepcopy(value)
        for name, value in fixed.items()
    }


def _documents(names: Sequence[str], fixed: Mapping[str, Any]) -> SearchStrategy[Document]:
    @st.composite
    def build(draw: st.DrawFn) -> Document:
        source = HypothesisDraw(draw)
        return Builder(source).document(source.choice(names), _drawn(draw, fixed))

    return build()


# --- st.from_type for the generated models ----------------------------------------------------------------


def for_model(model: type[Any]) -> SearchStrategy[Any] | NotImplementedType:
    """The strategy ``st.from_type(model)`` gives for a generated model: valid instances, each built from a
    generated document with ``model.model_validate``.

    A document type's model gets documents of its type; the :class:`~caliper_schema.models.envelope.Envelope`
    gets envelopes; a model named after another object schema of the catalogue (``TimebackActivityMetric``,
    ``TimebackReference``, ``EnvelopeShell``) gets that object. Hypothesis calls this when a test first asks
    for ``model`` (``caliper_schema.modelbase`` registers it lazily); it answers ``NotImplemented`` for a
    model of no such schema (``PersonProperties``), and Hypothesis then builds one from its fields.

    >>> from hypothesis import given, settings
    >>> from caliper_schema.models.timeback.activity_metric import TimebackActivityMetric
    >>> @given(st.from_type(TimebackActivityMetric))
    ... @settings(max_examples=10)
    ... def test_metrics(metric):
    ...     assert metric.type in ("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits")
    >>> test_metrics()
    """
    from caliper_schema.models.envelope import Envelope

    validated: Callable[[Document], Any] = model.model_validate
    if model is Envelope:
        return envelopes().map(validated)
    name = _type_of(model)
    if name is not None and name in load().types:
        return _documents((name,), {}).map(validated)
    record = _records().get(model.__name__)
    if record is not None and (name is None or record.type_name == name):
        return _objects(record).map(validated)
    return NotImplemented  # type: ignore[no-any-return]  # typeshed types NotImplemented as Any


def register_models() -> None:
    """Register :func:`for_model` for every generated model created so far. Not needed: models register
    themselves when Hypothesis is in use (``caliper_schema.modelbase``), and Hypothesis's entry point
    registers those created before it was imported."""
    from caliper_schema.modelbase import register_strategies

    register_strategies()


def _type_of(model: type[Any]) -> str | None:
    """The one value a model's ``type`` admits (its document type), if it admits one."""
    fields = getattr(model, "__pydantic_fields__", {})
    values = typing.get_args(fields["type"].annotation) if "type" in fields else ()
    return values[0] if len(values) == 1 else None


@functools.cache
def _records() -> dict[str, Record]:
    """The object schemas of the catalogue by title: the models are named after the titles."""
    plans = planner()
    for name in (*event_types(), *entity_types(bare=False)):
        plans.document(name)  # compiles every record a document can hold
    shell = plans.at(ENVELOPE_SHELL)
    return {record.title: record for record in [*plans.records.values(), shell] if isinstance(record, Record)}


def _objects(record: Record) -> SearchStrategy[Document]:
    @st.composite
    def build(draw: st.DrawFn) -> Document:
        return Builder(HypothesisDraw(draw)).record(record, "", 1)

    return build()
