"""The validator end to end on Timeback and generic Caliper payloads: verdicts, pointers, rules, hints."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from caliper_schema import validate, validate_file
from tests.conftest import CONTEXT, EXAMPLES, REFERENCE, findings, shared_file

USER = "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2/users/3f2b9c1e-5d7a-4e8b-9f10-2a3b4c5d6e7f"


def documented_examples() -> dict[str, dict[str, Any]]:
    """The request examples of POST /caliper/event in the Timeback Events API, as printed."""
    spec = yaml.safe_load(shared_file(REFERENCE / "timeback-events-api.yaml").read_text(encoding="utf-8"))
    body = spec["paths"]["/caliper/event"]["post"]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in body["examples"].items()}


def generic_event_envelope() -> dict[str, Any]:
    """The Envelope schema's own example in the Timeback OpenAPI: a generic Event, IRIs, no @context."""
    spec = yaml.safe_load(shared_file(REFERENCE / "timeback-events-api.yaml").read_text(encoding="utf-8"))
    envelope = spec["components"]["schemas"]["Envelope"]["properties"]
    return {name: envelope[name]["example"] for name in ("sensor", "sendTime", "dataVersion", "data")}


def filled(envelope: dict[str, Any]) -> dict[str, Any]:
    """A documented example with its placeholders replaced by real values."""
    text = json.dumps(envelope)
    for placeholder, value in {
        "<user-id>": "3f2b9c1e-5d7a-4e8b-9f10-2a3b4c5d6e7f",
        "<userId>": "3f2b9c1e-5d7a-4e8b-9f10-2a3b4c5d6e7f",
        "<course-id>": "reading-g3",
        "<sourcedId>": "quiz-7",
        "your-app-url.com": "reading.example.com",
    }.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def test_the_generic_event_example_is_valid_with_a_context_warning() -> None:
    envelope = generic_event_envelope()
    assert envelope["data"][0]["type"] == "Event" and "@context" not in envelope["data"][0]
    report = validate(envelope)
    assert report.status == "success"
    assert findings(report) == {("warning", "caliper.context-missing", "/data/0/@context")}


def test_the_documented_timeback_example_as_printed_is_rejected_at_each_placeholder() -> None:
    envelope = documented_examples()["example1"]
    envelope["sendTime"] = "<dynamic-timestamp>"  # as the service's curl example prints it
    report = validate(envelope)
    assert report.status == "error"
    errors = {(issue.rule, issue.pointer): issue for issue in report.errors}
    assert set(errors) == {
        ("schema.format", "/sendTime"),
        ("schema.format", "/data/0/actor/id"),
        ("schema.format", "/data/0/object/course/id"),
    }
    assert errors["schema.format", "/sendTime"].hint == (
        "`<dynamic-timestamp>` looks like an unfilled template placeholder: replace it with a real value"
    )
    assert "`<user-id>` looks like an unfilled template placeholder" in str(
        errors["schema.format", "/data/0/actor/id"].hint
    )
    assert "`<course-id>`" in str(errors["schema.format", "/data/0/object/course/id"].hint)


@pytest.mark.parametrize("name", [f"example{n}" for n in range(1, 9)])
def test_every_documented_example_with_real_values_is_valid(name: str) -> None:
    envelope = filled(documented_examples()[name])
    report = validate(envelope)
    assert report.status == "success", report.errors
    expected = {("warning", "caliper.context-missing", "/data/0/@context")}
    event = envelope["data"][0]
    if event["type"] == "ActivityEvent" and "xpEarned" not in {
        i["type"] for i in event["generated"]["items"]
    }:
        expected.add(("warning", "timeback.xp-earned-missing", "/data/0/generated/items"))
    assert findings(report) == expected


def test_the_documented_examples_left_unfilled_are_flagged() -> None:
    envelope = documented_examples()["example8"]
    report = validate(envelope)
    placeholders = {issue.pointer: issue for issue in report.issues if "placeholder" in (issue.hint or "")}
    assert placeholders["/data/0/object/id"].rule == "caliper.placeholder"
    assert placeholders["/data/0/object/id"].severity == "warning"
    assert placeholders["/data/0/actor/id"].rule == "schema.format"  # <userId> is not an IRI at all


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").iterdir()), ids=lambda p: p.name)
def test_valid_examples_are_valid(path: Any) -> None:
    report = validate_file(path)
    assert report.status == "success", report.errors


def _activity() -> dict[str, Any]:
    envelope = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
    return dict(envelope["data"][0])


def _time_spent() -> dict[str, Any]:
    envelope = json.loads((EXAMPLES / "valid" / "timeback-time-spent-event.json").read_text())
    return dict(envelope["data"][0])


def test_the_clean_activity_event_has_no_issue_at_all() -> None:
    assert validate(_activity()).issues == ()


def _broken(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``base`` with the member at ``path`` (slash separated) set to ``value``, or removed for ``...``."""
    event = copy.deepcopy(base)
    *parents, last = path.split("/")
    node: Any = event
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return event


@pytest.mark.parametrize(
    ("path", "value", "rule", "pointer"),
    [
        ("id", "urn:uuid:not-a-uuid", "caliper.event-id", "/id"),
        ("id", "c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "caliper.event-id", "/id"),
        ("eventTime", "2025-07-22", "schema.format", "/eventTime"),
        ("eventTime", ..., "schema.required", "/eventTime"),
        ("generated", ..., "schema.required", "/generated"),
        ("profile", ..., "schema.required", "/profile"),
        ("profile", "GeneralProfile", "schema.const", "/profile"),
        ("action", "Complete", "schema.const", "/action"),
        ("actor/email", "ada.lovelace", "schema.format", "/actor/email"),
        ("actor/email", ..., "schema.required", "/actor/email"),
        ("actor/role", "pupil", "schema.enum", "/actor/role"),
        ("actor/nickname", "Ada", "schema.unknown-property", "/actor/nickname"),
        ("actor/type", "Person", "schema.const", "/actor/type"),
        ("object/subject", "Maths", "schema.enum", "/object/subject"),
        ("object/process", "yes", "schema.type", "/object/process"),
        ("object/app/name", ..., "schema.required", "/object/app/name"),
        ("generated/items/0/type", "xp", "schema.enum", "/generated/items/0/type"),
        ("generated/items/0/value", "12", "schema.type", "/generated/items/0/value"),
        ("generated/items", {"type": "xpEarned"}, "schema.type", "/generated/items"),
        ("generated/attempt", 0, "schema.minimum", "/generated/attempt"),
        ("generated/type", "TimebackTimeSpentMetricsCollection", "schema.const", "/generated/type"),
        ("edApp", "not an iri", "schema.format", "/edApp"),
        ("session", 7, "schema.type", "/session"),
        ("extensions", "runId", "schema.type", "/extensions"),
        ("@context", "http://purl.imsglobal.org/ctx/caliper/v1p1", "caliper.context", "/@context"),
    ],
)
def test_each_activity_event_mistake_is_reported_where_it_is(
    path: str, value: Any, rule: str, pointer: str
) -> None:
    report = validate(_broken(_activity(), path, value))
    assert report.status == "error"
    assert ("error", rule, pointer) in findings(report)
    assert all(issue.pointer == pointer for issue in report.errors), report.errors


@pytest.mark.parametrize(
    ("path", "value", "rule", "pointer"),
    [
        ("action", "Completed", "schema.const", "/action"),
        ("generated/items/0/type", "focused", "schema.enum", "/generated/items/0/type"),
        ("generated/items/0/startDate", "yesterday", "schema.format", "/generated/items/0/startDate"),
        ("generated/items/2/subType", 3, "schema.type", "/generated/items/2/subType"),
    ],
)
def test_each_time_spent_event_mistake_is_reported_where_it_is(
    path: str, value: Any, rule: str, pointer: str
) -> None:
    report = validate(_broken(_time_spent(), path, value))
    assert findings(report) >= {("error", rule, pointer)}
    assert all(issue.pointer == pointer for issue in report.errors), report.errors


def test_misspelled_subject_hint_names_the_nearest_subject() -> None:
    [issue] = validate(_broken(_activity(), "object/subject", "Maths")).errors
    assert issue.hint == "did you mean `Math` or `FastMath`?"


def test_unknown_property_hint_names_the_nearest_property() -> None:
    [issue] = validate(_broken(_activity(), "actor/emial", "ada@example.com")).errors
    assert (issue.rule, issue.pointer, issue.hint) == (
        "schema.unknown-property",
        "/actor/emial",
        "did you mean `email`?",
    )


def test_every_issue_is_reported_not_only_the_first() -> None:
    event = _broken(_broken(_broken(_activity(), "id", "x"), "object/subject", "Maths"), "eventTime", "now")
    assert {(rule, pointer) for _, rule, pointer in findings(validate(event))} == {
        ("caliper.event-id", "/id"),
        ("schema.enum", "/object/subject"),
        ("schema.format", "/eventTime"),
    }


# --- the envelope ----------------------------------------------------------------------------------


def _envelope(*data: Any) -> dict[str, Any]:
    return {
        "sensor": "https://app.example.com",
        "sendTime": "2025-07-22T21:27:15.304Z",
        "dataVersion": CONTEXT,
        "data": list(data),
    }


@pytest.mark.parametrize(
    ("path", "value", "rule", "pointer"),
    [
        ("sensor", ..., "schema.required", "/sensor"),
        ("sensor", "", "schema.min-length", "/sensor"),
        ("sendTime", "2025-07-22 21:27:15", "schema.format", "/sendTime"),
        ("dataVersion", "http://purl.imsglobal.org/ctx/caliper/v1p1", "caliper.data-version", "/dataVersion"),
        ("data", [], "schema.min-items", "/data"),
        ("data", {"type": "Event"}, "schema.type", "/data"),
        ("data/0", "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "document.not-an-object", "/data/0"),
        ("data/0/type", "ActivityEvnt", "document.unknown-type", "/data/0/type"),
        ("data/0/type", ..., "document.missing-type", "/data/0/type"),
        ("extra", 1, "schema.unknown-property", "/extra"),
    ],
)
def test_each_envelope_mistake_is_reported_where_it_is(
    path: str, value: Any, rule: str, pointer: str
) -> None:
    report = validate(_broken(_envelope(_activity()), path, value))
    assert report.status == "error"
    assert {(issue.rule, issue.pointer) for issue in report.errors} == {(rule, pointer)}


def test_unknown_type_hint_lists_the_nearest_types() -> None:
    [issue] = validate(_envelope(dict(_activity(), type="ActivityEvnt"))).errors
    assert issue.hint == "did you mean `ActivityEvent`?"


def test_items_are_pointed_at_inside_the_envelope() -> None:
    report = validate(_envelope(_activity(), _broken(_time_spent(), "actor/email", "nope")))
    assert findings(report) == {("error", "schema.format", "/data/1/actor/email")}


def test_a_top_level_array_is_not_a_document() -> None:
    assert findings(validate("[]")) == {("error", "document.not-an-object", "")}


def test_issues_carry_line_and_column_of_the_value() -> None:
    text = json.dumps(_envelope(_broken(_activity(), "object/subject", "Maths")), indent=2)
    [issue] = validate(text).errors
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"Maths"' in row)
    assert (issue.line, issue.column) == (line, text.splitlines()[line - 1].index('"Maths"') + 1)


def test_the_payload_is_not_altered() -> None:
    event = _broken(_activity(), "object/subject", "Maths")
    before = copy.deepcopy(event)
    validate(event)
    assert event == before


# --- lints and policies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "rule", "pointer"),
    [
        ("eventTime", "2025-07-22T21:25:40Z", "caliper.datetime-form", "/eventTime"),
        ("eventTime", "2025-07-22T23:25:40.000+02:00", "caliper.datetime-form", "/eventTime"),
        ("object/subject", "Other", "timeback.subject", "/object/subject"),
        ("object/app", ..., "timeback.app-missing", "/object/app"),
        ("object/grade", 3, "timeback.unknown-property", "/object/grade"),
        ("generated/items/0/note", "x", "timeback.unknown-property", "/generated/items/0/note"),
        ("customField", "x", "timeback.unknown-property", "/customField"),
        ("@context", ..., "caliper.context-missing", "/@context"),
        ("@context", {"@vocab": "http://example.com/"}, "caliper.inline-context", "/@context"),
    ],
)
def test_soft_constraints_warn_by_default_and_fail_under_strict(
    path: str, value: Any, rule: str, pointer: str
) -> None:
    event = _broken(_activity(), path, value)
    report = validate(event)
    assert report.status == "success"
    assert findings(report) == {("warning", rule, pointer)}
    strict = validate(event, strict=True)
    assert findings(strict) == {("error", rule, pointer)}


def test_time_spent_metric_snake_case_fields_get_a_camel_case_hint() -> None:
    event = _broken(_time_spent(), "generated/items/2/sub_type", "eating")
    [issue] = validate(event).warnings
    assert (issue.rule, issue.pointer, issue.hint) == (
        "timeback.unknown-property",
        "/generated/items/2/sub_type",
        "use `subType`: the timeback-caliper package (0.4) writes it in snake_case;"
        " the service reads camelCase, so the value is lost",
    )


def test_sensor_that_is_not_an_iri_is_a_warning() -> None:
    report = validate(_broken(_envelope(_activity()), "sensor", "reading coach"))
    assert findings(report) == {("warning", "caliper.sensor-iri", "/sensor")}


def test_context_array_must_end_with_the_caliper_context() -> None:
    event = _broken(_activity(), "@context", [CONTEXT, {"query": "http://schema.org/query"}])
    assert findings(validate(event)) == {("error", "caliper.context-order", "/@context/1")}
    event = _broken(_activity(), "@context", [{"query": "http://schema.org/query"}, CONTEXT])
    assert validate(event).issues == ()


def test_a_soft_miss_on_an_invalid_value_is_not_reported_twice() -> None:
    report = validate(_broken(_activity(), "eventTime", "2025-07-22"))
    assert findings(report) == {("error", "schema.format", "/eventTime")}


def test_response_body_matches_the_validate_endpoint() -> None:
    bad = validate(_broken(_activity(), "object/subject", "Maths")).to_response()
    assert set(bad) == {"status", "message", "errors"}
    assert bad["status"] == "error" and bad["errors"][0]["pointer"] == "/object/subject"
    good = validate(_activity()).to_response()
    assert good == {"status": "success", "message": "The payload is valid.", "errors": None}


def test_copied_without_generated_is_a_warning() -> None:
    event = {
        "@context": CONTEXT, "id": "urn:uuid:d0c2b0f4-8e39-4f3a-9c5e-3b2a1f0e9d8c",
        "type": "ResourceManagementEvent",
        "actor": "https://example.edu/users/554433", "action": "Copied",
        "object": "https://example.edu/terms/201601/courses/7/sections/1/resources/123",
        "eventTime": "2018-11-15T10:05:00.000Z",
    }  # fmt: skip
    assert findings(validate(event)) == {("warning", "caliper.copied-without-generated", "/generated")}
    copied = dict(event, generated="https://example.edu/terms/201601/courses/7/sections/1/resources/124")
    assert validate(copied).issues == ()
    assert validate(dict(event, action="Created")).issues == ()
