"""Coverage statistics: counted from documents this test writes, so each expected count is read off them."""

from __future__ import annotations

import copy
import json

import pytest

from caliper_schema.validation import statistics
from caliper_schema.validation.statistics import Coverage, render_table
from caliper_schema.validation.streams import Item, validate_stream
from tests.conftest import EXAMPLES, ROOT

ACTIVITY = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
TIME_SPENT = json.loads((EXAMPLES / "valid" / "timeback-time-spent-event.json").read_text())["data"][0]
VIEW = {"@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
        "id": "urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-000000000001", "type": "ViewEvent",
        "profile": "ReadingProfile", "actor": "https://example.edu/users/1", "action": "Viewed", "object": "https://example.edu/books/1",
        "eventTime": "2025-07-22T21:25:40.000Z"}  # fmt: skip
SUBJECTS = json.loads((ROOT / "schemas" / "timeback" / "subject.json").read_text())["x-lint"][0]["lists"]


def stream() -> list[Item]:
    envelope = copy.deepcopy(ACTIVITY)
    envelope["data"].append(VIEW)  # one ActivityEvent (Reading; four activity metrics), one ViewEvent
    spent = copy.deepcopy(TIME_SPENT)  # active, inactive, waste
    spent["generated"]["items"][0]["value"] = -1  # timeback.time-range, an error
    return [Item(envelope, "a.json"), Item(spent, "b.json"), Item(b"{", "c.json"), Item(VIEW, "d.json")]


def test_what_the_documents_cover_and_break() -> None:
    report = validate_stream(stream(), statistics=True)
    counted = report.statistics
    assert counted is not None
    assert counted["documents"] == {"total": 4, "envelopes": 1, "events": 4, "entities": 0, "unreadable": 1}
    assert counted["eventTypes"] == {"ViewEvent": 2, "ActivityEvent": 1, "TimeSpentEvent": 1}
    assert counted["actions"] == {
        "ActivityEvent": {"Completed": 1}, "TimeSpentEvent": {"SpentTime": 1}, "ViewEvent": {"Viewed": 2}
    }  # fmt: skip
    assert counted["profiles"] == {"TimebackProfile": 2, "ReadingProfile": 2}
    assert counted["subjects"] == {"Reading": 2}
    assert counted["metricTypes"] == {
        "active": 1, "correctQuestions": 1, "inactive": 1, "masteredUnits": 1, "totalQuestions": 1,
        "waste": 1, "xpEarned": 1,
    }  # fmt: skip
    # d.json repeats the ViewEvent of a.json: a duplicate id across documents; c.json is no JSON
    assert counted["issues"] == {
        "json.syntax": {"errors": 1, "warnings": 0},
        "stream.duplicate-id": {"errors": 1, "warnings": 0},
        "timeback.time-range": {"errors": 1, "warnings": 0},
    }
    missing = counted["missing"]
    assert missing["timebackEventTypes"] == []
    assert missing["subjects"] == [name for name in SUBJECTS["v9"] if name != "Reading"]
    assert missing["metricTypes"] == ["unknown", "anti-pattern"]
    assert "ViewEvent" not in missing["eventTypes"] and "NavigationEvent" in missing["eventTypes"]
    assert json.loads(json.dumps(counted)) == counted  # plain data, as JSON output carries it
    assert set(counted["issues"]) == {f.issue.rule for f in report.findings}


def test_the_subject_list_in_force_decides_what_is_missing() -> None:
    coverage = Coverage("v10")
    coverage.add(copy.deepcopy(ACTIVITY))
    assert "Other" in coverage.to_dict()["missing"]["subjects"]
    assert "Other" not in Coverage("v9").to_dict()["missing"]["subjects"]


def test_the_table_shows_every_section_and_escapes_what_a_payload_could_forge() -> None:
    forged = dict(VIEW, type="View\nEvent\x1b[31m", action="Viewed\u202e")
    coverage = Coverage()
    coverage.add(forged)
    table = render_table(coverage.to_dict())
    assert "\x1b" not in table and "\u202e" not in table
    assert "View\\nEvent\\x1b[31m" in table and "Viewed\\u202e" in table
    assert table.splitlines()[0] == "documents: 1 (0 envelopes, 1 event, 0 entities, 0 unreadable)"
    assert "issues by rule: none" in table


def test_a_hostile_stream_cannot_grow_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statistics, "MAX_VALUES", 3)
    coverage = Coverage()
    for number in range(10):
        coverage.add(dict(VIEW, type=f"Type{number}", action=f"Action{number}"))
    counted = coverage.to_dict()
    assert len(counted["eventTypes"]) == 4 and counted["eventTypes"][statistics.OTHER] == 7
    assert sum(counted["eventTypes"].values()) == 10 and len(counted["actions"]) == 3


def test_an_unseen_timeback_event_type_is_missing_once_not_also_among_caliper_s() -> None:
    coverage = Coverage()
    coverage.add(VIEW)
    missing = coverage.to_dict()["missing"]
    assert missing["timebackEventTypes"] == ["ActivityEvent", "TimeSpentEvent"]
    # Caliper 1.2 has 22 event types (spec §4.2); all but ViewEvent are unseen
    assert len(missing["eventTypes"]) == 21 and "ViewEvent" not in missing["eventTypes"]
    assert not {"ActivityEvent", "TimeSpentEvent"} & set(missing["eventTypes"])
