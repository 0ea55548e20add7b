"""The Hypothesis strategies: valid documents pass three oracles, invalid ones fail where they say.

Every generated valid document is accepted by the validator (no error, no warning), by jsonschema-rs on the
same schemas (``fast_engine``) and by the generated models. Every invalid one is rejected by the validator
with an error at the mutation's pointer (or its parent), under the mutation's rule; schema mutations are
also rejected by jsonschema-rs, and by the models except where the models are documented to be laxer.
Where the oracles disagree the divergence is pinned below (``test_divergence_*``) with the reason.
"""

from __future__ import annotations

import doctest
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from caliper_schema import strategies as cs
from caliper_schema import validate
from caliper_schema.generation import building, drawing, faking, generating, mutating, planning
from caliper_schema.generation.mutating import MALFORMED, RULE_MUTATIONS, Mutant
from caliper_schema.locating import parent_of
from caliper_schema.registry import ENVELOPE, load
from caliper_schema.reporting import Report
from caliper_schema.validation import rules
from caliper_schema.validation.authority import authority_for
from caliper_schema.validation.fastpath import fast_engine

pytestmark = pytest.mark.slow  # hundreds of generated documents through three oracles

CI = settings(
    derandomize=True,  # the same examples on every run: CI is stable, a failure reproduces
    deadline=None,  # tests never assert timings: a shared machine's vary
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("caliper-doctests", CI)


def ci(examples: int) -> settings:
    """The CI settings with a bounded example budget."""
    return settings(CI, max_examples=examples)


NOT_YET_COVERED: frozenset[str] = frozenset()
"""Rules of the rule layer without an entry in RULE_MUTATIONS yet. Keep it empty: a new rule needs one."""


# --- oracles --------------------------------------------------------------------------------------------


def schema_of(document: dict[str, Any]) -> str:
    return ENVELOPE if "dataVersion" in document else load().types[document["type"]]


def models_accept(document: dict[str, Any]) -> bool:
    from pydantic import TypeAdapter, ValidationError

    from caliper_schema.models.document import CaliperDocument
    from caliper_schema.models.envelope import Envelope

    try:
        if "dataVersion" in document:
            Envelope.model_validate(document)
        else:
            TypeAdapter(CaliperDocument).validate_python(document)
    except ValidationError:
        return False
    return True


def assert_valid_everywhere(document: dict[str, Any]) -> None:
    report = validate(document)
    issues = [(issue.severity, issue.rule, issue.pointer, issue.message) for issue in report.issues]
    assert issues == [], document
    assert fast_engine().is_valid(schema_of(document), document)
    assert models_accept(document)


def at(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def reported_where_it_says(mutant: Mutant) -> Report:
    report = validate(mutant.document, strict=mutant.strict)
    here = {mutant.pointer, parent_of(mutant.pointer)}
    matching = [
        issue
        for issue in report.errors
        if issue.pointer in here and (mutant.rule is None or issue.rule == mutant.rule)
    ]
    assert matching, (mutant.label, mutant.pointer, mutant.rule, [(i.rule, i.pointer) for i in report.errors])
    return report


# --- valid documents ------------------------------------------------------------------------------------


@ci(120)
@given(cs.events())
def test_every_generated_event_is_valid_for_the_validator_jsonschema_rs_and_the_models(event: Any) -> None:
    assert_valid_everywhere(event)


@ci(60)
@given(cs.entities())
def test_every_generated_entity_is_valid_everywhere(entity: Any) -> None:
    assert_valid_everywhere(entity)


@ci(40)
@given(cs.envelopes())
def test_every_generated_envelope_is_valid_everywhere(envelope: Any) -> None:
    assert_valid_everywhere(envelope)
    ids = [item["id"] for item in envelope["data"]]
    assert len(set(ids)) == len(ids)
    assert all(item["eventTime"] <= envelope["sendTime"] for item in envelope["data"])


@ci(30)
@given(cs.events())
def test_the_authority_agrees_on_generated_events(event: Any) -> None:
    assert authority_for(schema_of(event)).is_valid(event)


@ci(60)
@given(cs.activity_events())
def test_activity_event_metrics_are_coherent(event: Any) -> None:
    assert_valid_everywhere(event)
    items = {item["type"]: item["value"] for item in event["generated"]["items"]}
    assert len(items) == len(event["generated"]["items"])  # each metric once
    assert "xpEarned" in items
    assert ("totalQuestions" in items) == ("correctQuestions" in items)
    assert items.get("correctQuestions", 0) <= items.get("totalQuestions", 0)
    assert all(type(items[k]) is int and items[k] >= 0 for k in items if k != "xpEarned")
    assert 0 <= event["generated"].get("extensions", {}).get("pctCompleteApp", 0) <= 100


@ci(60)
@given(cs.time_spent_events())
def test_time_spent_values_and_windows_are_coherent(event: Any) -> None:
    assert_valid_everywhere(event)
    items = event["generated"]["items"]
    assert items[0]["type"] == "active"
    assert all(0 <= item["value"] <= 86400 for item in items)
    for item in items:
        if "startDate" in item:
            assert item["startDate"] <= item["endDate"] <= event["eventTime"]


def test_every_event_type_of_caliper_and_timeback_is_generated() -> None:
    generated = {fixture.type for fixture in generating.generate(count=24, seed=5)}
    assert len(generated) == 24
    assert {"ActivityEvent", "TimeSpentEvent", "ViewEvent", "ToolLaunchEvent"} <= generated


# --- conditionals, overrides, shrinking -----------------------------------------------------------------


def entity_type(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else None


@ci(25)
@given(cs.events("FeedbackEvent", action="Ranked"), cs.events("SessionEvent", action="TimedOut"))
def test_conditionals_are_honoured(feedback: Any, session: Any) -> None:
    assert entity_type(feedback.get("generated")) in (None, "Rating")
    assert entity_type(session["actor"]) in (None, "SoftwareApplication")
    assert entity_type(session["object"]) in (None, "Session", "LtiSession")  # a subtype is a Session


@ci(25)
@given(cs.events("ToolLaunchEvent", action="Launched"), cs.events("ViewEvent", profile="GradingProfile"))
def test_conditional_requirements_and_profiles_are_honoured(launch: Any, view: Any) -> None:
    assert "federatedSession" in launch
    assert view["profile"] == "GradingProfile"
    assert entity_type(view["object"]) in (None, "Result")


USER = {"id": "https://example.edu/users/554433", "type": "TimebackUser", "email": "ada@example.edu"}


@ci(20)
@given(cs.activity_events(actor=USER, edApp=cs.ABSENT, extensions=st.just({"runId": "r1"})))
def test_overrides_are_used_as_given(event: Any) -> None:
    assert event["actor"] == USER and event["actor"] is not USER  # a copy: tests may change what they get
    assert "edApp" not in event and event["extensions"] == {"runId": "r1"}
    assert_valid_everywhere(event)


def test_bad_arguments_are_refused_with_the_nearest_names() -> None:
    with pytest.raises(building.UnknownType, match="did you mean `ActivityEvent`"):
        cs.events("ActivityEvnt")
    with pytest.raises(building.UnknownType, match="did you mean `GradingProfile`"):
        cs.events("ViewEvent", profile="GradingProfle")
    with pytest.raises(building.UnknownType, match="may carry the profile"):
        cs.events("ActivityEvent", profile="GradingProfile")
    with pytest.raises(ValueError, match="has no property 'actr'"):
        cs.events("ViewEvent", actr=USER)
    with pytest.raises(ValueError, match="no mutation matches"):
        cs.invalid_events(mutations=["no-such-mutation"])


def test_a_failing_property_shrinks_to_a_small_event() -> None:
    smallest = find(cs.events("ViewEvent"), lambda event: True, settings=settings(database=None))
    assert smallest == {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "type": "ViewEvent",
        "actor": "https://example.edu/users/1",
        "action": "Viewed",
        "object": "https://example.edu/digital-resources/1",
        "eventTime": "2024-01-01T00:00:00.000Z",
    }
    questions = find(cs.activity_events(), lambda e: len(e["generated"]["items"]) > 2,
                     settings=settings(database=None))  # fmt: skip
    assert [(item["type"], item["value"]) for item in questions["generated"]["items"]] == [
        ("xpEarned", 0), ("totalQuestions", 1), ("correctQuestions", 0)]  # fmt: skip


def test_from_type_gives_valid_model_instances() -> None:
    from caliper_schema.models.caliper.entities.person import Person
    from caliper_schema.models.envelope import Envelope
    from caliper_schema.models.timeback.activity_event import TimebackActivityEvent
    from caliper_schema.models.timeback.activity_metric import TimebackActivityMetric

    @ci(10)
    @given(st.from_type(Person), st.from_type(TimebackActivityEvent), st.from_type(Envelope))
    def documents(person: Any, activity: Any, envelope: Any) -> None:
        assert isinstance(person, Person) and isinstance(activity, TimebackActivityEvent)
        for model in (person, activity, envelope):
            assert validate(model).issues == ()

    @ci(10)
    @given(st.from_type(TimebackActivityMetric))
    def nested(metric: Any) -> None:
        assert isinstance(metric, TimebackActivityMetric)

    documents()
    nested()


# --- invalid documents ----------------------------------------------------------------------------------


def models_laxer(mutant: Mutant) -> str | None:
    """Why the generated models may accept this mutant, when they are documented to be laxer."""
    if mutant.label == "bad-format" and mutant.rule == "schema.format":
        return "formats are plain strings in the models (codegen/generate.py)"
    if mutant.label == "wrong-type" and re.fullmatch(
        r"true|-?[0-9]+(\.[0-9]+)?", str(at(mutant.document, mutant.pointer))
    ):
        return "Pydantic's lax mode turns '12' into 12 and 'true' into True"
    if mutant.label in ("slot-type", "remove-required") and conditional(mutant):
        return "the models cannot say if/then/else: conditional slot types and requirements are the schema's"
    if mutant.label == "remove-required" and one_value(mutant):
        return "a property that admits one value defaults to it in the models (the schema's default)"
    return None


def one_value(mutant: Mutant) -> bool:
    """A removed property whose schema admits one value (``action`` of a Timeback event, ``dataVersion``)."""
    unit, _, name = mutant.pointer.rpartition("/")
    owner = at(mutant.document, unit)
    if "type" in owner:  # the mutations never remove a type
        record = planning.planner().document(owner["type"])
    else:
        record = planning.planner().at(ENVELOPE) if unit == "" and "data" in owner else None
    plan = record.properties.get(name) if isinstance(record, planning.Record) else None
    return isinstance(plan, planning.Const) or (isinstance(plan, planning.Choice) and len(plan.values) == 1)


def conditional(mutant: Mutant) -> bool:
    """A mutation of what only a conditional of the event's schema says (e.g. a TimedOut actor's type)."""
    match = re.fullmatch(r"((?:/data/\d+)?)/([^/]+)(/type)?", mutant.pointer)
    if match is None:
        return False
    unit, name, typed = match.groups()
    record = planning.planner().document(
        at(mutant.document, unit or "")["type"] if unit else mutant.document["type"]
    )
    if typed:
        plan = record.properties.get(name)
        wrong = at(mutant.document, mutant.pointer)
        return isinstance(plan, planning.Slot) and wrong in {type_ for type_, _ in plan.targets}
    return name not in record.required


def check_mutant(mutant: Mutant) -> None:
    reported_where_it_says(mutant)
    if mutant.label in mutating.SCHEMA_MUTATIONS:
        if not (mutant.label == "wrong-type" and re.fullmatch(r"/data/\d+", mutant.pointer)):
            assert not fast_engine().is_valid(schema_of(mutant.document), mutant.document)
        assert not models_accept(mutant.document) or models_laxer(mutant), mutant


@ci(150)
@given(cs.invalid_events())
def test_every_invalid_event_is_rejected_where_its_mutation_says(mutant: Mutant) -> None:
    check_mutant(mutant)


@ci(60)
@given(cs.invalid_events(strict=True, mutations=["lint-*", "rule:*"]))
def test_lint_and_rule_mutations_are_rejected_under_their_policy(mutant: Mutant) -> None:
    check_mutant(mutant)


@ci(50)
@given(cs.invalid_envelopes(strict=True))
def test_every_invalid_envelope_is_rejected_where_its_mutation_says(mutant: Mutant) -> None:
    check_mutant(mutant)


@pytest.mark.parametrize("label", list(mutating.SCHEMA_MUTATIONS))
def test_each_schema_mutation_is_rejected_with_its_rule(label: str) -> None:
    @ci(12)
    @given(cs.invalid_events(mutations=[label]))
    def check(mutant: Mutant) -> None:
        assert mutant.label == label and not mutant.strict
        check_mutant(mutant)

    check()


# --- the rule layer: each rule broken alone --------------------------------------------------------------


def test_every_registered_rule_has_a_mutation() -> None:
    # a stream rule is broken between the events of a session: caliper_schema.generation.sessions.MISTAKES
    single = {rule for rule, each in rules.RULES.items() if not each.stream}
    missing = single - set(RULE_MUTATIONS) - NOT_YET_COVERED
    assert not missing, (
        f"add a breaker to caliper_schema.generation.mutating.RULE_MUTATIONS for {sorted(missing)}"
    )
    stale = set(RULE_MUTATIONS) - set(rules.RULES)
    assert not stale, f"RULE_MUTATIONS names rules that no longer exist: {sorted(stale)}"


def types_breaking(rule_id: str) -> list[str]:
    """The event types in whose envelope the rule's breaker applies (read off the generator, not listed)."""
    breaker = RULE_MUTATIONS[rule_id]
    found = []
    for type_name in building.event_types():
        source = drawing.RandomDraw(random.Random(f"probe:{type_name}"))
        envelope = building.Builder(source).envelope([type_name], (1, 1))
        if breaker(envelope, source) is not None:
            found.append(type_name)
    return found


@pytest.mark.parametrize(
    "rule_id",
    # the best-practice tier is found only when asked: tests/test_best_practice.py breaks each alone
    sorted(rule for rule in set(rules.RULES) & set(RULE_MUTATIONS) if not rules.RULES[rule].best_practice),
)
def test_each_rule_is_broken_alone_and_reported_with_its_severity(rule_id: str) -> None:
    severity = rules.RULES[rule_id].severity

    @ci(8)
    @given(cs.invalid_envelopes(types_breaking(rule_id), strict=True, mutations=[f"rule:{rule_id}"]))
    def check(mutant: Mutant) -> None:
        assert mutant.rule == rule_id and mutant.strict == (severity == "warning")
        reported_where_it_says(mutant)
        lenient = validate(mutant.document)
        assert {(issue.rule, issue.severity) for issue in lenient.issues} == {(rule_id, severity)}
        assert fast_engine().is_valid(ENVELOPE, mutant.document)  # the schema has nothing to say

    check()


# --- where the oracles disagree: pinned, with the reason -----------------------------------------------

MINIMAL = {
    "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
    "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594",
    "type": "ViewEvent",
    "actor": "https://example.edu/users/554433",
    "action": "Viewed",
    "object": "https://example.edu/etexts/201.epub",
    "eventTime": "2024-04-24T14:12:00.000Z",
}


def event_with(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL, **changes}


@pytest.mark.parametrize("when", ["2016-12-31T23:59:60.000Z", "0000-01-01T00:00:00.000Z"])
def test_leap_seconds_and_year_zero_are_rfc_3339_for_both_validators(when: str) -> None:
    """RFC 3339 allows a leap second and the year 0000; jsonschema's own checker refuses both (Python's
    datetime cannot hold them), so both engines use jsonschema-rs's, and agree. The generator writes none."""
    event = event_with(eventTime=when)
    assert fast_engine().is_valid(schema_of(event), event)
    assert authority_for(schema_of(event)).is_valid(event)
    assert validate(event).errors == () and models_accept(event)


def activity_with_email(email: str) -> dict[str, Any]:
    event = next(generating.generate(["ActivityEvent"], seed=3)).document
    return {**event, "actor": {**event["actor"], "email": email}}


@pytest.mark.parametrize("email", ["ada@", "@example.edu", "ada lovelace@example.edu", "ada@example..edu"])
def test_malformed_emails_are_rejected_by_both_validators(email: str) -> None:
    """jsonschema's own ``email`` check only looks for an ``@``; both engines use jsonschema-rs's."""
    event = activity_with_email(email)
    assert not fast_engine().is_valid(schema_of(event), event)
    assert not authority_for(schema_of(event)).is_valid(event)
    assert [(i.rule, i.pointer) for i in validate(event).errors] == [("schema.format", "/actor/email")]


@pytest.mark.parametrize("email", MALFORMED["email"])
def test_the_generators_malformed_emails_are_rejected_by_both(email: str) -> None:
    event = activity_with_email(email)
    assert not fast_engine().is_valid(schema_of(event), event)
    assert [(i.rule, i.pointer) for i in validate(event).errors] == [("schema.format", "/actor/email")]


def test_the_whole_envelope_schema_refuses_a_non_object_item_on_both_paths() -> None:
    envelope = {"sensor": "https://example.edu/sensors/1", "sendTime": "2024-01-01T00:00:00.000Z",
                "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": [[]]}  # fmt: skip
    assert not fast_engine().is_valid(ENVELOPE, envelope)
    assert not authority_for(ENVELOPE).is_valid(envelope)
    assert [(i.rule, i.pointer) for i in validate(envelope).errors] == [("document.not-an-object", "/data/0")]


@pytest.mark.parametrize("changes", [
    {"eventTime": "2024-04-24"}, {"eventTime": "24/04/2024 14:12"}, {"actor": "users/554433"},
], ids=["date-only", "not-rfc3339", "relative-iri"])  # fmt: skip
def test_divergence_models_do_not_check_formats(changes: dict[str, Any]) -> None:
    event = event_with(**changes)
    assert models_accept(event) and [i.rule for i in validate(event).errors] == ["schema.format"]


def test_divergence_models_do_not_apply_conditionals() -> None:
    timed_out = event_with(type="SessionEvent", action="TimedOut", object="https://example.edu/sessions/1",
                           actor={"id": "https://example.edu/users/1", "type": "Person"})  # fmt: skip
    assert models_accept(timed_out)
    assert [(i.rule, i.pointer) for i in validate(timed_out).errors] == [("caliper.slot-type", "/actor/type")]
    launched = event_with(type="ToolLaunchEvent", action="Launched", object="https://example.edu/apps/1")
    assert models_accept(launched)
    assert [(i.rule, i.pointer) for i in validate(launched).errors] == [
        ("schema.required", "/federatedSession")
    ]


def test_divergence_models_coerce_numeric_and_boolean_strings() -> None:
    score = {"id": "https://example.edu/scores/1", "type": "Score", "maxScore": "10.0"}
    graded = event_with(
        type="GradeEvent", action="Graded", object="https://example.edu/attempts/1", generated=score
    )
    assert models_accept(graded)
    assert [(i.rule, i.pointer) for i in validate(graded).errors] == [("schema.type", "/generated/maxScore")]


def test_a_bare_timeback_entity_is_generated_and_valid_with_its_context() -> None:
    user = next(generating.generate(["TimebackUser"], seed=1)).document
    assert user["@context"] == "http://purl.imsglobal.org/ctx/caliper/v1p2"
    assert validate(user).issues == ()
    without = {key: value for key, value in user.items() if key != "@context"}
    assert [(i.rule, i.pointer) for i in validate(without).warnings] == [
        ("caliper.context-missing", "/@context")
    ]
    assert "TimebackUser" in building.entity_types()


# --- the docstrings' examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", [drawing, faking, planning, building, mutating, generating, cs],
                         ids=lambda m: m.__name__)  # fmt: skip
def test_docstring_examples(module: Any) -> None:
    previous = settings.get_current_profile_name()
    settings.load_profile("caliper-doctests")  # the examples' @given runs derandomized too
    try:
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    finally:
        settings.load_profile(previous)
    assert failures == 0
