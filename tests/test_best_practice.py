"""The best-practice tier: each of the spec's SHOULDs broken alone, found only when the policy asks.

Each base document below follows every SHOULD (no issue at all, best practice on); each broken one breaks
one, and the expected pointer is where the spec's sentence (quoted in the README's rule table) says the
missing or wrong value belongs.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliper_schema import validate
from caliper_schema.generation import building, drawing
from caliper_schema.generation.mutating import RULE_MUTATIONS, mutations
from caliper_schema.policy import Policy
from caliper_schema.validation.fastpath import fast_engine
from caliper_schema.validation.rules import RULES
from tests.conftest import CONTEXT, findings

Document = dict[str, Any]
BEST_PRACTICE = Policy(best_practice=True)
EXTRA = "https://example.edu/ctx/custom.jsonld"
ACTOR = {"id": "https://example.edu/users/554433", "type": "Person"}
ATTEMPT = {
    "id": "https://example.edu/terms/201801/courses/7/sections/1/assess/1/users/554433/attempts/1",
    "type": "Attempt",
    "assignee": "https://example.edu/users/554433",
    "assignable": "https://example.edu/terms/201801/courses/7/sections/1/assess/1",
    "count": 1,
}


def event(type_: str, profile: str, action: str, object_: Any, **more: Any) -> Document:
    return {"@context": CONTEXT, "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "type": type_,
            "profile": profile, "actor": ACTOR, "action": action, "object": object_,
            "eventTime": "2024-04-24T14:12:00.000Z", **more}  # fmt: skip


def view() -> Document:
    document = {"id": "https://example.edu/etexts/201.epub", "type": "Document", "name": "Chapter 1"}
    return event("ViewEvent", "ReadingProfile", "Viewed", document)


def graded() -> Document:
    score = {"id": "https://example.edu/scores/1", "type": "Score", "attempt": ATTEMPT["id"],
             "maxScore": 15.0, "scoreGiven": 10.0}  # fmt: skip
    grader = {"id": "https://example.edu/autograder", "type": "SoftwareApplication"}
    return event("GradeEvent", "GradingProfile", "Graded", dict(ATTEMPT), generated=score) | {"actor": grader}


def result_viewed() -> Document:
    result = {"id": "https://example.edu/results/1", "type": "Result", "attempt": ATTEMPT["id"],
              "maxResultScore": 15.0, "resultScore": 10.0}  # fmt: skip
    return event("ViewEvent", "GradingProfile", "Viewed", result)


def timed_out() -> Document:
    session = {"id": "https://example.edu/sessions/1", "type": "Session", "user": ACTOR["id"],
               "startedAtTime": "2024-04-24T13:12:00.000Z", "endedAtTime": "2024-04-24T14:12:00.000Z",
               "duration": "PT1H"}  # fmt: skip
    app = {"id": "https://example.edu", "type": "SoftwareApplication"}
    return event("SessionEvent", "SessionProfile", "TimedOut", session) | {"actor": app}


def in_a_tool() -> Document:
    identifier = {"type": "SystemIdentifier", "identifier": "tool-7", "identifierType": "LtiToolId"}
    app = {"id": "https://tool.example.com", "type": "SoftwareApplication", "otherIdentifiers": [identifier]}
    platform = {"id": "https://lms.example.edu/lti/sessions/b533eb02823f", "type": "LtiSession"}
    return view() | {"edApp": app, "federatedSession": platform}


def paused() -> Document:
    video = {"id": "https://example.edu/videos/1225", "type": "VideoObject", "duration": "PT1H12M27S"}
    location = {
        "id": "https://example.edu/videos/1225#location",
        "type": "MediaLocation",
        "currentTime": "PT05M21S",
    }
    return event("MediaEvent", "MediaProfile", "Paused", video, target=location)


def membership() -> Document:
    return {"@context": CONTEXT, "id": "https://example.edu/memberships/1", "type": "Membership",
            "member": ACTOR["id"], "roles": ["Instructor", "Instructor#TeachingAssistant"]}  # fmt: skip


def reply() -> Document:
    topic = "https://example.edu/forums/1/topics/1"
    message = {"id": f"{topic}/messages/3", "type": "Message", "name": "Re: Caliper Information Model",
               "replyTo": f"{topic}/messages/2"}  # fmt: skip
    return event("MessageEvent", "ForumProfile", "Posted", message)


def submitted() -> Document:
    assessment = {
        "id": "https://example.edu/terms/201801/courses/7/sections/1/assess/1",
        "type": "Assessment",
    }
    return event("AssignableEvent", "AssignableProfile", "Submitted", assessment, generated=dict(ATTEMPT))


def with_(base: Callable[[], Document], change: Callable[[Document], object]) -> Document:
    document = copy.deepcopy(base())
    change(document)
    return document


BASES = [view, graded, result_viewed, timed_out, in_a_tool, paused, membership, reply, submitted]


def without(base: Callable[[], Document], path: str) -> tuple[Document, str]:
    """``base`` without the member at ``path`` (slash separated), and that member's pointer."""
    document = copy.deepcopy(base())
    *parents, last = path.split("/")
    node = document
    for part in parents:
        node = node[part]
    del node[last]
    return document, "/" + path


BROKEN: list[tuple[str, Document, str]] = [
    # (rule, a document breaking it alone, pointer)
    ("bestpractice.profile", *without(view, "profile")),
    ("bestpractice.uuid-v4", view() | {"id": "urn:uuid:c51570e4-f8ed-1c18-bb3a-dfe51b2cc594"}, "/id"),
    ("bestpractice.attempt-properties", *without(graded, "object/count")),
    ("bestpractice.score-properties", *without(graded, "generated/maxScore")),
    ("bestpractice.result-properties", *without(result_viewed, "object/attempt")),
    ("bestpractice.timed-out-session", *without(timed_out, "object/duration")),
    ("bestpractice.federated-session", *without(in_a_tool, "federatedSession")),
    (
        "bestpractice.federated-session",
        view() | {"session": {"id": "https://lms.example.edu/lti/sessions/1", "type": "LtiSession"}},
        "/federatedSession",
    ),
    ("bestpractice.media-current-time", *without(paused, "target/currentTime")),
    ("bestpractice.media-current-time", *without(paused, "target")),
    ("bestpractice.context-role", with_(membership, lambda d: d["roles"].pop(0)), "/roles/0"),
    ("bestpractice.empty-value", with_(view, lambda d: d["object"].update(name="")), "/object/name"),
    ("bestpractice.empty-value", view() | {"extensions": {}}, "/extensions"),
    ("bestpractice.reply-to", *without(reply, "object/replyTo")),
    ("bestpractice.assignable-attempt", *without(submitted, "generated")),
    ("bestpractice.context-duplicate", view() | {"@context": [EXTRA, EXTRA, CONTEXT]}, "/@context/1"),
]


@pytest.mark.parametrize("base", BASES, ids=lambda base: base.__name__)
def test_each_base_follows_every_should(base: Callable[[], Document]) -> None:
    assert validate(base(), policy=BEST_PRACTICE).issues == ()


@pytest.mark.parametrize(("rule", "document", "pointer"), BROKEN, ids=[case[0] for case in BROKEN])
def test_a_payload_breaking_only_this_should(rule: str, document: Document, pointer: str) -> None:
    assert findings(validate(document, policy=BEST_PRACTICE)) == {("warning", rule, pointer)}
    assert validate(document).issues == ()  # off by default
    assert validate(document, strict=True).issues == ()  # and not part of certification grade


def test_each_should_is_regraded_like_any_rule() -> None:
    rule, document, pointer = BROKEN[0]
    graded_up = Policy(best_practice=True, severities={rule: "error"})
    assert findings(validate(document, policy=graded_up)) == {("error", rule, pointer)}
    assert validate(document, policy=Policy(best_practice=True, severities={rule: "off"})).issues == ()
    both = Policy(best_practice=True, strict=True)  # asked for both: every warning is an error
    assert findings(validate(document, policy=both)) == {("error", rule, pointer)}


def test_the_tier_is_named_and_documented_as_warnings() -> None:
    tier = {rule: each for rule, each in RULES.items() if each.best_practice}
    assert len(tier) == 13
    assert all(rule.startswith("bestpractice.") and each.severity == "warning" for rule, each in tier.items())
    assert not any(each.best_practice for rule, each in RULES.items() if not rule.startswith("bestpractice."))


# --- the generator's breakers: on generated envelopes, each adds its rule's finding and nothing else -----


def _broken_envelopes(rule: str) -> list[tuple[Document, Document, str]]:
    """(valid envelope, the same broken by the rule's breaker, pointer) for each event type it applies to."""
    found = []
    for attempt in range(8):
        for type_name in building.event_types():
            source = drawing.RandomDraw(random.Random(f"{rule}:{type_name}:{attempt}"))
            envelope = building.Builder(source).envelope([type_name], (1, 3))
            broken = copy.deepcopy(envelope)
            where = RULE_MUTATIONS[rule](broken, source)
            if where is not None:
                found.append((envelope, broken, where))
        if len(found) >= 12:
            break
    return found


def _keyed(document: Document, policy: Policy) -> set[tuple[str, str, str]]:
    return findings(validate(document, policy=policy))


@pytest.mark.parametrize("rule", sorted(rule for rule, each in RULES.items() if each.best_practice))
def test_each_breaker_breaks_its_should_alone(rule: str) -> None:
    cases = _broken_envelopes(rule)
    assert cases, f"the breaker of {rule} applies to no generated envelope"
    for envelope, broken, where in cases:
        after = _keyed(broken, BEST_PRACTICE)
        assert ("warning", rule, where) in after
        assert after - _keyed(envelope, BEST_PRACTICE) <= {("warning", rule, where)}
        assert validate(broken).issues == validate(envelope).issues == ()  # silent without the option
        assert fast_engine().is_valid("https://caliper-schema.invalid/schemas/envelope.json", broken)


def test_the_tiers_mutations_are_offered_only_when_asked() -> None:
    asked = {label for label, _ in mutations(strict=True, best_practice=True)}
    default = {label for label, _ in mutations(strict=True)}
    tier = {f"rule:{rule}" for rule, each in RULES.items() if each.best_practice}
    assert tier <= asked and not tier & default


KEYS = ["type", "id", "action", "object", "target", "session", "edApp", "otherIdentifiers", "identifierType"]
KEYS += ["roles", "name", "body", "replyTo", "generated", "@context", "profile", "currentTime", "extensions"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["Re: x", "Lti", "#"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.sampled_from(["MediaEvent", "SessionEvent", "AssignableEvent", "Membership", "Message", "GradeEvent"]),
    st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8),
)
def test_the_tier_answers_whatever_it_is_given(type_: str, value: Document) -> None:
    report = validate(value | {"type": type_}, policy=BEST_PRACTICE)  # no exception, whatever the shapes
    assert all(issue.pointer == "" or issue.pointer.startswith("/") for issue in report.issues)
    assert all(
        issue.severity == "warning" for issue in report.issues if issue.rule.startswith("bestpractice.")
    )
