"""Explanations: every independent fault in one report, hints that lead somewhere right, words that fit
the payload, and grammar (issue 14: real-world Caliper output from a learning platform no one here wrote).

Messages and hints are asserted as text: they are what a user reads.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from caliper_schema import validate
from caliper_schema.generation.building import event_types
from caliper_schema.generation.generating import generate
from caliper_schema.locating import walk
from caliper_schema.registry import BASE_URI, ENVELOPE_SHELL, load
from caliper_schema.reporting import Issue
from caliper_schema.validation.checking import required_hint
from tests.conftest import CONTEXT, EXAMPLES

Document = dict[str, Any]
ATTEMPT = "https://example.edu/terms/201801/courses/7/sections/1/assess/1/users/554433/attempts/1"


def graded(generated: Any) -> Document:
    return {
        "@context": CONTEXT,
        "id": "urn:uuid:a50ca17f-5971-47bb-8fca-4e6e6879001d",
        "type": "GradeEvent",
        "profile": "GradingProfile",
        "actor": {"id": "https://example.edu/autograder", "type": "SoftwareApplication"},
        "action": "Graded",
        "object": {"id": ATTEMPT, "type": "Attempt", "count": 1},
        "eventTime": "2019-11-15T10:57:06.000Z",
        "generated": generated,
    }


def score(**more: Any) -> Document:
    return {
        "id": "https://example.edu/scores/1",
        "type": "Score",
        "scoreGiven": 5.0,
        "maxScore": 10.0,
        **more,
    }


def by_pointer(document: Any) -> dict[str, Issue]:
    report = validate(document)
    issues = {issue.pointer: issue for issue in report.issues}
    assert len(issues) == len(report.issues), report.issues  # one issue a place
    return issues


def activity() -> Document:
    return dict(json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())["data"][0])


# --- complete reports ----------------------------------------------------------------------------------


def test_a_score_wrapped_one_level_too_deep_reports_every_fault_in_one_run() -> None:
    issues = by_pointer(graded({"score": score(attempts=10)}))
    assert {pointer: issue.rule for pointer, issue in issues.items()} == {
        "/generated/type": "schema.required",
        "/generated/id": "schema.required",
        "/generated/score": "schema.unknown-property",
        "/generated/score/attempts": "schema.unknown-property",  # checked as the Score it is
    }
    assert issues["/generated/type"].hint == 'add "type": "Score"'
    assert issues["/generated/id"].hint == (
        "add `id`: the entity's IRI, e.g. https://example.edu/users/554433 (or a blank node id such as _:b1)"
    )
    assert issues["/generated/score"].hint == (
        "this looks like a Score wrapped one level too deep: move its properties up into `generated`"
    )


def test_an_object_of_an_unknown_type_is_still_checked_against_what_its_slot_admits() -> None:
    page = {"id": "not an iri", "type": "Webpage", "nme": "Syllabus", "dateCreated": "yesterday"}
    reader = {"id": "https://example.edu/users/1", "type": "Person"}
    event = graded(score()) | {"type": "NavigationEvent", "profile": "ReadingProfile", "actor": reader,
                               "action": "NavigatedTo", "object": page}  # fmt: skip
    del event["generated"]
    issues = by_pointer(event)
    assert {pointer: issue.rule for pointer, issue in issues.items()} == {
        "/object/type": "caliper.slot-type",
        "/object/id": "schema.format",
        "/object/dateCreated": "schema.format",
        "/object/nme": "schema.unknown-property",
    }
    assert issues["/object/type"].message == (
        "'Webpage' is not a Caliper type: expected a DigitalResource or SoftwareApplication,"
        " or one of their subtypes"
    )
    assert issues["/object/type"].hint == "did you mean `WebPage`?"
    assert issues["/object/nme"].hint == "did you mean `name`?"


def test_a_document_of_no_type_still_has_its_other_faults_reported() -> None:
    event = {"id": "urn:uuid:1234", "actor": "https://example.edu/users/1", "action": "Viewed",
             "object": "https://example.edu/etexts/1", "eventTime": "now", "@context": CONTEXT}  # fmt: skip
    issues = by_pointer(event)
    assert {pointer: issue.rule for pointer, issue in issues.items()} == {
        "/type": "document.missing-type",
        "/id": "caliper.event-id",
        "/eventTime": "schema.format",
    }
    assert issues["/type"].message == "has no type, so only what every event has is checked"
    assert (
        issues["/type"].hint
        == "name its type: an event type such as `Event`, `ViewEvent` or `NavigationEvent`"
    )


def test_an_entity_of_a_type_the_slot_does_not_admit_says_it_is_not_checked_further() -> None:
    person = {"id": "https://example.edu/users/1", "type": "Person", "nickname": "Ada"}
    [issue] = validate(graded(person)).issues
    assert (issue.rule, issue.pointer) == ("caliper.slot-type", "/generated/type")
    assert issue.message == (
        "'Person' is not allowed here: expected a Score; its properties are another type's,"
        " so they are not checked"
    )


# --- hints that are right ------------------------------------------------------------------------------


def test_an_unknown_top_level_type_is_not_a_caliper_type_and_the_nearest_is_named() -> None:
    [issue] = validate({"@context": CONTEXT, "id": "https://example.edu/pages/1", "type": "Webpage"}).issues
    assert (issue.rule, issue.pointer) == ("document.unknown-type", "/type")
    assert issue.message == "'Webpage' is not a Caliper type; only what every entity has is checked"
    assert issue.hint == "did you mean `WebPage`?"
    [timeback] = validate(activity() | {"type": "ActivityEvnt"}).issues
    assert timeback.message == (
        "'ActivityEvnt' is not a Caliper or Timeback type; only what every event has is checked"
    )
    assert timeback.hint == "did you mean `ActivityEvent`?"
    untyped = {name: value for name, value in activity().items() if name != "type"}
    [missing] = validate(
        untyped
    ).issues  # its Timeback actor and object are no fault of what all events share
    assert (missing.rule, missing.message) == (
        "document.missing-type",
        "has no type, so only what every event has is checked",
    )
    assert missing.hint == "name its type: a Timeback event is an `ActivityEvent` or a `TimeSpentEvent`"


def test_a_property_is_suggested_only_when_the_value_would_fit_it() -> None:
    [misleading] = validate(graded(score(attempts=10))).issues
    assert (misleading.rule, misleading.pointer) == ("schema.unknown-property", "/generated/attempts")
    assert misleading.message == "unknown property 'attempts'"
    assert misleading.hint == "custom data belongs in `extensions`"  # `attempt` holds an Attempt, not 10
    [fitting] = validate(graded(score(attemp=ATTEMPT))).issues
    assert fitting.hint == "did you mean `attempt`?"  # an IRI is an Attempt reference
    envelope = {"sensor": "https://example.edu", "sendTime": "2019-11-15T10:57:06.000Z",
                "dataVersion": CONTEXT, "data": [graded(score())], "sendtime": 5}  # fmt: skip
    [envelope_key] = validate(envelope).issues
    assert envelope_key.hint == "allowed: `data`, `dataVersion`, `sendTime`, `sensor`"  # no extensions here


def test_a_wrong_constant_shows_the_value_found_and_a_hint() -> None:
    near = by_pointer(activity() | {"action": "Complete"})["/action"]
    assert (near.rule, near.message, near.hint) == (
        "schema.const",
        "'Complete' is not allowed: must be 'Completed'",
        "did you mean `Completed`?",
    )
    far = by_pointer(activity() | {"action": "Started"})["/action"]
    assert (far.message, far.hint) == ("'Started' is not allowed: must be 'Completed'", "use `Completed`")


def test_a_missing_required_property_says_what_it_holds() -> None:
    event = activity()
    del event["generated"]
    missing = by_pointer(event)["/generated"]
    assert (missing.rule, missing.message) == ("schema.required", "missing required property 'generated'")
    assert missing.hint == (
        "add `generated`: what the activity earned: a TimebackActivityMetricsCollection of metrics"
        " (xpEarned, totalQuestions, correctQuestions, masteredUnits)"
    )
    view = graded(score()) | {"type": "ViewEvent", "action": "Viewed", "profile": "ReadingProfile",
                              "object": "https://example.edu/etexts/1"}  # fmt: skip
    del view["generated"], view["actor"]
    assert by_pointer(view)["/actor"].hint == "add `actor`: a Person, as an object or an IRI"
    no_profile = {name: value for name, value in activity().items() if name != "profile"}
    assert by_pointer(no_profile)["/profile"].hint == 'add "profile": "TimebackProfile"'


def test_every_missing_required_property_has_a_hint() -> None:
    types = [
        *event_types(),
        "Person",
        "Questionnaire",
        "AggregateMeasure",
        "SystemIdentifier",
        "TimebackUser",
    ]
    seen = 0
    for envelope in (False, True):
        for fixture in generate(types, count=90, seed=3, invalid=True, envelope=envelope,
                                mutations=["remove-required"]):  # fmt: skip
            assert fixture.mutant is not None
            [issue] = [i for i in validate(fixture.document).errors if i.pointer == fixture.mutant.pointer]
            assert issue.rule == "schema.required" and (issue.hint or "").startswith("add "), issue
            seen += 1
    assert seen == 180


# --- words that fit the payload, and grammar -----------------------------------------------------------


def _texts(document: Any, **options: Any) -> list[str]:
    return [f"{issue.message} {issue.hint or ''}" for issue in validate(document, **options).issues]


def _generic_envelope() -> Document:
    view = {"@context": CONTEXT, "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "type": "ViewEvent",
            "actor": "https://example.edu/users/1", "action": "Viewed", "object": "https://example.edu/e/1",
            "eventTime": "2024-04-24T14:12:00.000Z"}  # fmt: skip
    return {"sensor": "my sensor", "sendTime": "2024-04-24T14:12:01.000Z", "dataVersion": CONTEXT,
            "data": [view, copy.deepcopy(view)]}  # fmt: skip


def test_a_generic_envelope_hears_nothing_of_timeback_or_the_service() -> None:
    texts = _texts(_generic_envelope())
    assert len(texts) == 2  # the repeated id, the sensor that is no IRI
    assert not [text for text in texts if re.search(r"timeback|the service", text, re.IGNORECASE)]
    carrying = _generic_envelope()
    carrying["data"].append(activity())
    timeback = _texts(carrying)
    assert any("the Timeback service keys events by it" in text for text in timeback)
    assert any("the Timeback OpenAPI requires a URI" in text for text in timeback)


CALIPER_ONLY = [name for name in event_types() if name not in ("ActivityEvent", "TimeSpentEvent")]


def test_generated_generic_mistakes_never_mention_timeback_or_the_service() -> None:
    checked = 0
    for fixture in generate(CALIPER_ONLY, count=300, seed=9, invalid=True, strict=True, envelope=True):
        if "Timeback" in json.dumps(fixture.document):
            continue  # the mutation put a Timeback type in: naming it is right
        texts = _texts(fixture.document, strict=True)
        assert texts and not [t for t in texts if re.search(r"timeback|the service", t, re.IGNORECASE)]
        checked += 1
    assert checked >= 250


def test_articles_agree_with_the_word_they_introduce() -> None:
    wrong = re.compile(
        r"\ba (?:[AEIOaeio]|Lti)\w*|\ban (?![AEIOUaeiou]|Lti|[A-Z]{2,})\w"
    )  # "an RFC", "a UUID"
    texts = _texts(graded({"id": "https://example.edu/x", "type": "Webpag"}) | {"type": "Event"})
    assert any("expected an Entity or one of its subtypes" in text for text in texts)
    for types in (None, ["Person", "Assessment", "AggregateMeasure", "Attempt"]):
        for fixture in generate(types, count=200, seed=2, invalid=True, strict=True):
            for text in _texts(fixture.document, strict=True):
                assert not wrong.search(text), text


@pytest.mark.parametrize("value", [object(), {1, 2}])
def test_a_value_that_is_not_json_is_named_with_its_article(value: Any) -> None:
    [issue] = validate({"sensor": value}).errors
    assert issue.rule == "json.not-json"
    assert re.search(r"\b(a|an) (object|set) is not a JSON value", issue.message)
    assert ("an object" in issue.message) == (type(value) is object)


def test_every_required_property_of_every_schema_has_a_hint() -> None:
    """What each schema requires, unconditionally or in a branch (``then``): a hint names what it holds."""
    catalogue = load()
    objects = {**catalogue.types, "envelope": ENVELOPE_SHELL,
               "reference": BASE_URI + "timeback/activity-context.json#/$defs/reference"}  # fmt: skip
    missing, checked = [], 0
    for name, uri in objects.items():
        declared = catalogue.declarations(uri)
        required = set(catalogue.required(uri))
        for _, node in walk(catalogue.resolve(uri)):
            if isinstance(node, dict) and isinstance(node.get("then"), dict):
                required |= set(node["then"].get("required", ()))
        for prop in required - {"type"}:  # a missing type is dispatch's or its slot's (tested above)
            checked += 1
            if not required_hint(prop, declared.get(prop, ())):
                missing.append(f"{name}.{prop}")
    assert missing == [] and checked >= 200
