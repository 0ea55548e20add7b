"""Each rule of the rule layer, broken alone (pointer, rule id and severity asserted) and just kept."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from caliper_schema import hints, validate
from caliper_schema.policy import Policy
from caliper_schema.reporting import Issue
from caliper_schema.validation.dispatching import dispatch
from caliper_schema.validation.rules import RULES, Subject, run
from tests.conftest import CONTEXT, EXAMPLES, findings

Document = dict[str, Any]


def _load(name: str) -> Document:
    return dict(json.loads((EXAMPLES / "valid" / name).read_text()))


def activity() -> Document:
    return dict(_load("timeback-activity-event.json")["data"][0])


def time_spent() -> Document:
    return dict(_load("timeback-time-spent-event.json")["data"][0])


def envelope(*events: Document) -> Document:
    return {"sensor": "https://reading.example.com", "sendTime": "2025-07-22T21:27:15.304Z",
            "dataVersion": CONTEXT, "data": list(events)}  # fmt: skip


def with_(base: Callable[[], Document], change: Callable[[Document], object]) -> Document:
    document = copy.deepcopy(base())
    change(document)
    return document


def items(document: Document) -> list[Document]:
    return list(document["generated"]["items"])


def metric(document: Document, name: str) -> Document:
    return next(item for item in document["generated"]["items"] if item["type"] == name)


def second_event() -> Document:
    return with_(time_spent, lambda d: d.update(id="urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100"))


BROKEN: list[tuple[str, Document, str, str]] = [
    # (rule, document breaking it alone, pointer, severity)
    ("caliper.context-missing", with_(activity, lambda d: d.pop("@context")), "/@context", "warning"),
    (
        "caliper.context-order",
        with_(activity, lambda d: d.update({"@context": [CONTEXT, {"q": "http://schema.org/q"}]})),
        "/@context/1",
        "error",
    ),
    (
        "caliper.uuid",
        with_(activity, lambda d: d.update(id="urn:uuid:5b1f6a2e-8c43-0d1e-9a7b-0c2d3e4f5a6b")),
        "/id",
        "error",
    ),
    (
        "caliper.uuid",
        with_(activity, lambda d: d.update(id="urn:uuid:5b1f6a2e-8c43-4d1e-ca7b-0c2d3e4f5a6b")),
        "/id",
        "error",
    ),
    (
        "caliper.duplicate-event-id",
        envelope(activity(), with_(time_spent, lambda d: d.update(id=activity()["id"]))),
        "/data/1/id",
        "error",
    ),
    (
        "caliper.event-after-send",
        envelope(with_(activity, lambda d: d.update(eventTime="2025-07-22T21:30:00.000Z"))),
        "/data/0/eventTime",
        "warning",
    ),
    (
        "caliper.placeholder",
        with_(activity, lambda d: d["object"].update(id="https://your-app-url.com/ims/activity")),
        "/object/id",
        "warning",
    ),
    (
        "caliper.placeholder",
        envelope(activity()) | {"sensor": "https://your-app-url.com"},
        "/sensor",
        "warning",
    ),
    (
        "timeback.xp-earned-missing",
        with_(activity, lambda d: items(d).pop(0) and d["generated"].update(items=items(d)[1:])),
        "/generated/items",
        "warning",
    ),
    (
        "timeback.question-pairing",
        with_(
            activity,
            lambda d: d["generated"].update(items=[i for i in items(d) if i["type"] != "correctQuestions"]),
        ),
        "/generated/items/1",
        "error",
    ),
    (
        "timeback.question-pairing",
        with_(
            activity,
            lambda d: d["generated"].update(items=[i for i in items(d) if i["type"] != "totalQuestions"]),
        ),
        "/generated/items/1",
        "error",
    ),
    (
        "timeback.correct-exceeds-total",
        with_(activity, lambda d: metric(d, "correctQuestions").update(value=11)),
        "/generated/items/2/value",
        "error",
    ),
    (
        "timeback.count-not-whole",
        with_(activity, lambda d: metric(d, "masteredUnits").update(value=1.5)),
        "/generated/items/3/value",
        "error",
    ),
    (
        "timeback.count-not-whole",
        with_(activity, lambda d: metric(d, "masteredUnits").update(value=-1)),
        "/generated/items/3/value",
        "error",
    ),
    (
        "timeback.pct-complete-range",
        with_(activity, lambda d: d["generated"]["extensions"].update(pctCompleteApp=101)),
        "/generated/extensions/pctCompleteApp",
        "error",
    ),
    (
        "timeback.pct-complete-range",
        with_(activity, lambda d: d["generated"]["extensions"].update(pctCompleteApp="45")),
        "/generated/extensions/pctCompleteApp",
        "error",
    ),
    (
        "timeback.duplicate-metric",
        with_(activity, lambda d: d["generated"]["items"].append({"type": "xpEarned", "value": 3})),
        "/generated/items/4/type",
        "warning",
    ),
    (
        "timeback.time-range",
        with_(time_spent, lambda d: metric(d, "inactive").update(value=86401)),
        "/generated/items/1/value",
        "error",
    ),
    (
        "timeback.time-range",
        with_(time_spent, lambda d: metric(d, "inactive").update(value=-1)),
        "/generated/items/1/value",
        "error",
    ),
    (
        "timeback.window-order",
        with_(time_spent, lambda d: metric(d, "active").update(startDate="2025-07-22T21:25:40.001Z")),
        "/generated/items/0/endDate",
        "error",
    ),
    (
        "timeback.window-after-event",
        with_(time_spent, lambda d: metric(d, "active").update(endDate="2025-07-22T21:25:41.000Z")),
        "/generated/items/0/endDate",
        "warning",
    ),
    (
        "caliper.copied-without-generated",
        {
            "@context": CONTEXT,
            "id": "urn:uuid:d0c2b0f4-8e39-4f3a-9c5e-3b2a1f0e9d8c",
            "type": "ResourceManagementEvent",
            "actor": "https://example.edu/users/554433",
            "action": "Copied",
            "object": "https://example.edu/resources/123",
            "eventTime": "2018-11-15T10:05:00.000Z",
        },
        "/generated",
        "warning",
    ),
]

KEPT: list[tuple[str, Document]] = [
    # (rule, document at the edge of the rule, which must raise nothing)
    (
        "caliper.context-order",
        with_(activity, lambda d: d.update({"@context": [{"q": "http://schema.org/q"}, CONTEXT]})),
    ),
    ("caliper.uuid", with_(activity, lambda d: d.update(id="urn:uuid:5B1F6A2E-8C43-1D1E-BA7B-0C2D3E4F5A6B"))),
    ("caliper.duplicate-event-id", envelope(activity(), second_event())),
    (
        "caliper.event-after-send",
        envelope(with_(activity, lambda d: d.update(eventTime="2025-07-22T21:27:15.304Z"))),
    ),
    ("timeback.xp-earned-missing", with_(activity, lambda d: metric(d, "xpEarned").update(value=-5))),
    (
        "timeback.correct-exceeds-total",
        with_(activity, lambda d: metric(d, "correctQuestions").update(value=10)),
    ),
    ("timeback.count-not-whole", with_(activity, lambda d: metric(d, "masteredUnits").update(value=0))),
    ("timeback.count-not-whole", with_(activity, lambda d: metric(d, "totalQuestions").update(value=10.0))),
    (
        "timeback.pct-complete-range",
        with_(activity, lambda d: d["generated"]["extensions"].update(pctCompleteApp=100)),
    ),
    ("timeback.time-range", with_(time_spent, lambda d: metric(d, "inactive").update(value=86400))),
    ("timeback.time-range", with_(time_spent, lambda d: metric(d, "inactive").update(value=0))),
    (
        "timeback.window-order",
        with_(time_spent, lambda d: metric(d, "active").update(startDate="2025-07-22T21:25:40.000Z")),
    ),
    (
        "timeback.window-after-event",
        with_(time_spent, lambda d: metric(d, "active").update(endDate="2025-07-22T21:25:39.999Z")),
    ),
]


@pytest.mark.parametrize(
    ("rule", "document", "pointer", "severity"), BROKEN, ids=[case[0] for case in BROKEN]
)
def test_a_payload_breaking_only_this_rule(
    rule: str, document: Document, pointer: str, severity: str
) -> None:
    # As a caller's dict and as the bytes of a file: the rules' text screens see both.
    for payload in (document, json.dumps(document, indent=2).encode()):
        assert findings(validate(payload)) == {(severity, rule, pointer)}
        if severity == "warning":
            assert findings(validate(payload, strict=True)) == {("error", rule, pointer)}


@pytest.mark.parametrize(("rule", "document"), KEPT, ids=[case[0] for case in KEPT])
def test_a_payload_just_keeping_this_rule(rule: str, document: Document) -> None:
    assert validate(document).issues == ()


def test_every_rule_is_exercised() -> None:
    from tests.test_best_practice import BROKEN as BEST_PRACTICE

    # the stream rules are broken across documents, each alone, in tests/test_streams.py
    single = {rule for rule, each in RULES.items() if not each.best_practice and not each.stream}
    assert {case[0] for case in BROKEN} == single
    assert {case[0] for case in BEST_PRACTICE} == {rule for rule, each in RULES.items() if each.best_practice}
    for each in RULES.values():
        assert each.summary and each.severity in ("error", "warning")


def test_the_clean_events_pass_every_rule() -> None:
    assert validate(envelope(activity(), second_event())).issues == ()


# --- subject lists: the policy picks, the schema holds the union ---------------------------------------


@pytest.mark.parametrize(
    ("subject", "subjects", "expected"),
    [
        ("Other", "v9", {("warning", "timeback.subject", "/object/subject")}),
        ("Other", "v10", set()),
        ("Vocabulary", "v9", set()),
        ("Vocabulary", "v6", {("warning", "timeback.subject", "/object/subject")}),
        ("Math", "v6", set()),
    ],
)
def test_the_subject_list_in_force_is_policy(
    subject: str, subjects: str, expected: set[tuple[str, str, str]]
) -> None:
    event = with_(activity, lambda d: d["object"].update(subject=subject))
    assert findings(validate(event, policy=Policy(subjects=subjects))) == expected


def test_a_malformed_placeholder_is_one_issue_whose_hint_names_it() -> None:
    [issue] = validate(envelope(activity()) | {"sensor": "https://{{APP_HOST}}"}).issues
    assert (issue.rule, issue.pointer, issue.severity) == ("caliper.sensor-iri", "/sensor", "warning")
    assert (
        issue.hint
        == "`{{APP_HOST}}` looks like an unfilled template placeholder: replace it with a real value"
    )


def test_policy_regrades_and_turns_off_rules() -> None:
    event = with_(activity, lambda d: d.pop("@context"))
    assert findings(validate(event, policy=Policy(severities={"caliper.context-missing": "error"}))) == {
        ("error", "caliper.context-missing", "/@context")
    }
    assert validate(event, policy=Policy(severities={"caliper.context-missing": "off"})).issues == ()
    quiet = Policy(strict=True, severities={"caliper.context-missing": "warning"})
    assert findings(validate(event, policy=quiet)) == {("warning", "caliper.context-missing", "/@context")}


def test_a_time_spent_event_carrying_activity_metrics_says_which_event_they_belong_to() -> None:
    event = with_(time_spent, lambda d: d["generated"].update(
        type="TimebackActivityMetricsCollection", items=[{"type": "xpEarned", "value": 5}]))  # fmt: skip
    errors = {issue.pointer: issue for issue in validate(event).errors}
    assert errors["/generated/type"].rule == "schema.const"
    assert "a TimeSpentEvent generates a TimebackTimeSpentMetricsCollection" in str(
        errors["/generated/type"].hint
    )
    assert errors["/generated/items/0/type"].rule == "schema.enum"
    assert "sent in an ActivityEvent" in str(errors["/generated/items/0/type"].hint)


# --- run: its plans and screens change what it costs, never what it finds -------------------------------


def _both_events_broken() -> Document:
    first = with_(activity, lambda d: (d.pop("@context"), metric(d, "masteredUnits").update(value=1.5)))
    second = with_(time_spent, lambda d: (d.pop("@context"), d.update(id=first["id"])))
    second["eventTime"] = "2025-07-22T21:30:00.000Z"
    return envelope(first, second) | {"sensor": "https://your-app-url.com"}


@pytest.mark.parametrize(
    "document",
    [case[1] for case in BROKEN] + [case[1] for case in KEPT] + [_both_events_broken()],
    ids=[f"broken-{case[0]}" for case in BROKEN] + [f"kept-{case[0]}" for case in KEPT] + ["several"],
)
def test_run_finds_what_every_rule_checked_alone_finds_in_the_same_order(document: Document) -> None:
    units, _ = dispatch(document)
    subjects = [Subject(unit) for unit in units]
    for best_practice in (False, True):
        alone = [Issue(where, each.id, each.severity, message, hint=hint)
                 for each in RULES.values() if best_practice or not each.best_practice
                 for where, message, hint in each.check(subjects)]  # fmt: skip
        assert run(units, json.dumps(document, indent=2), best_practice=best_practice) == alone


def test_several_rules_on_several_events_report_in_rule_order() -> None:
    units, _ = dispatch(_both_events_broken())
    assert [(issue.rule, issue.pointer) for issue in run(units)] == [
        ("caliper.context-missing", "/data/0/@context"),
        ("caliper.context-missing", "/data/1/@context"),
        ("caliper.duplicate-event-id", "/data/1/id"),
        ("caliper.event-after-send", "/data/1/eventTime"),
        ("caliper.placeholder", "/sensor"),
        ("timeback.count-not-whole", "/data/0/generated/items/3/value"),
    ]


@pytest.mark.parametrize(
    "text",
    ["", "{\n  \"a\": {}\n}", "<", "a{{b", "{ {", "{}{", "${", "$ {", "\\u0041", "\\n", "YOUR", "Your",
     "your-app-url", "your-app-ur", "x your-app-url", "$", "\\", "u"],
)  # fmt: skip
def test_the_placeholder_screen_is_the_plain_substring_test(text: str) -> None:
    screened = RULES["caliper.placeholder"].may_find(text)
    assert screened == any(marker in text for marker in hints.PLACEHOLDER_MARKERS)
