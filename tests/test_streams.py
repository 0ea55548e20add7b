"""The stream rules: each broken alone in a small stream written here, and each kept at its boundary.

The expected rule, document and pointer of each case come from how the case is built (which event was
changed, and how), and the limits from the facts (`shared/reference/timeback-profile-facts.md` §3-§5: the
15 s cadence, 1 XP = 1 focused minute), never from what the code says.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caliper_schema.configuration import known_rules, policy_from
from caliper_schema.policy import Policy
from caliper_schema.validation import streams
from caliper_schema.validation.rules import RULES
from caliper_schema.validation.streams import Item, from_file, from_lines, validate_stream
from tests.conftest import EXAMPLES

Event = dict[str, Any]
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
ACTIVITY = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())["data"][0]
TIME_SPENT = json.loads((EXAMPLES / "valid" / "timeback-time-spent-event.json").read_text())["data"][0]
RUN_ID = "0b8f6c1e-3d2a-4f5b-9c7d-1e2f3a4b5c6d"
STREAM_RULES = sorted(rule for rule, each in RULES.items() if each.stream)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ident(number: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{number:012d}"


def heartbeat(number: int, start: float, end: float, *, dated: bool = True, inactive: float = 0) -> Event:
    """A TimeSpentEvent of the run counting ``start``..``end`` (seconds after T0), its eventTime the end."""
    event = copy.deepcopy(TIME_SPENT)
    dates = {"startDate": at(start), "endDate": at(end)} if dated else {}
    items = [{"type": "active", "value": end - start - inactive, **dates}]
    if inactive:
        items.append({"type": "inactive", "value": inactive, **dates})
    event.update(id=ident(number), eventTime=at(end), extensions={"runId": RUN_ID})
    event["generated"] = {"id": f"https://reading.example.com/metrics/{number}",
                          "type": "TimebackTimeSpentMetricsCollection", "items": items}  # fmt: skip
    return event


def completion(number: int, time: float, xp: float = 1, pct: float | None = 50) -> Event:
    event = copy.deepcopy(ACTIVITY)
    event.update(id=ident(number), eventTime=at(time), extensions={"runId": RUN_ID})
    event["generated"]["items"] = [{"type": "xpEarned", "value": xp}]
    event["generated"].pop("extensions", None)
    if pct is not None:
        event["generated"]["extensions"] = {"pctCompleteApp": pct}
    return event


def run(*, dated: bool = True) -> list[Event]:
    """Four 15 s heartbeats (a minute of active time), then the completion: 1 XP, half the course done."""
    beats = [heartbeat(n, 15 * n, 15 * (n + 1), dated=dated) for n in range(4)]
    return [*beats, completion(9, 60.5)]


def found(report: streams.StreamReport) -> set[tuple[int, str, str, str]]:
    return {(f.document, f.issue.rule, f.issue.pointer, f.issue.severity) for f in report.findings}


def change(events: list[Event], how: Callable[[list[Event]], None]) -> list[Event]:
    events = copy.deepcopy(events)
    how(events)
    return events


# Each case: (rule, the stream breaking it alone, the document and pointer reported, a stream keeping it).
CASES: list[tuple[str, list[Event], int, str, list[Event]]] = [
    ("stream.duplicate-id",
     change(run(), lambda e: e[2].update(id=e[0]["id"])), 2, "/id",
     run()),
    ("stream.window-overlap",  # the third heartbeat starts 5 s before the second ends; 1 s is rounding
     change(run(), lambda e: e.__setitem__(2, heartbeat(2, 25, 45))), 2, "/generated/items/0/startDate",
     change(run(), lambda e: e.__setitem__(2, heartbeat(2, 29, 45)))),
    ("stream.window-repeated",  # the second heartbeat sent again under a new id; not its next window
     change(run(), lambda e: e.insert(2, heartbeat(7, 15, 30))), 2, "/generated/items/0/startDate",
     change(run(), lambda e: e.insert(4, heartbeat(7, 60, 60.4)))),
    ("stream.window-too-long",  # 135 s is 9 windows of 15 s; 8 (120 s) is as far as a browser stretches one
     [heartbeat(0, 0, 135), completion(9, 136, xp=2)], 0, "/generated/items/0/startDate",
     [heartbeat(0, 0, 120), completion(9, 121, xp=2)]),
    ("stream.xp-beyond-time",  # one active minute: 1 XP, plus a quarter and one for rounding, is 2.25
     change(run(), lambda e: e[4]["generated"]["items"][0].update(value=3)), 4, "/generated/items/0/value",
     change(run(), lambda e: e[4]["generated"]["items"][0].update(value=2.25))),
    ("stream.completion-before-time",  # sent 30 s before the run's time ends; 15 s (the final flush) is not
     change(run(), lambda e: e[4].update(eventTime=at(30))), 4, "/eventTime",
     change(run(), lambda e: e[4].update(eventTime=at(45)))),
    ("stream.progress-backwards",  # a later completion of the same run says less of the course is done
     [*run(), completion(10, 61, xp=0, pct=40)], 5, "/generated/extensions/pctCompleteApp",
     [*run(), completion(10, 61, xp=0, pct=50)]),
]  # fmt: skip


def envelope(event: Event) -> Event:
    return {"sensor": "https://reading.example.com", "sendTime": "2025-03-03T11:00:00.000Z",
            "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": [event]}  # fmt: skip


@pytest.mark.parametrize(("rule", "broken", "document", "pointer", "kept"), CASES, ids=[c[0] for c in CASES])
def test_a_stream_breaking_only_this_rule(
    rule: str, broken: list[Event], document: int, pointer: str, kept: list[Event]
) -> None:
    severity = RULES[rule].severity
    assert found(validate_stream(broken)) == {(document, rule, pointer, severity)}
    # the same events each in an envelope of its own, as the SDK sends them
    enveloped = validate_stream([envelope(event) for event in broken])
    assert found(enveloped) == {(document, rule, "/data/0" + pointer, severity)}
    if severity == "warning":
        assert found(validate_stream(broken, strict=True)) == {(document, rule, pointer, "error")}
        assert validate_stream(broken).ok
    else:
        assert not validate_stream(broken).ok


@pytest.mark.parametrize(("rule", "broken", "document", "pointer", "kept"), CASES, ids=[c[0] for c in CASES])
def test_a_stream_just_keeping_this_rule(
    rule: str, broken: list[Event], document: int, pointer: str, kept: list[Event]
) -> None:
    report = validate_stream(kept, strict=True)
    assert report.findings == () and report.ok


def test_every_stream_rule_has_its_case() -> None:
    assert sorted(case[0] for case in CASES) == STREAM_RULES
    assert len(STREAM_RULES) == 7


def test_a_run_as_the_sdk_sends_it_has_no_dates_and_is_read_from_its_event_time() -> None:
    plain = run(dated=False)
    assert validate_stream(plain, strict=True).findings == ()
    overlapping = change(plain, lambda e: e.__setitem__(2, heartbeat(2, 25, 45, dated=False)))
    assert found(validate_stream(overlapping)) == {(2, "stream.window-overlap", "/eventTime", "error")}
    # a paused window counts its inactive seconds too: 10 + 5 s still ends where the next one starts
    paused = change(plain, lambda e: e.__setitem__(1, heartbeat(1, 15, 30, dated=False, inactive=5)))
    assert validate_stream(paused, strict=True).findings == ()


def test_the_run_is_the_actor_and_run_id_and_the_sdk_session_names_it_too() -> None:
    other_student = change(run(), lambda e: e[2]["actor"].update(id="https://example.edu/users/2"))
    overlapping = change(other_student, lambda e: e.__setitem__(3, heartbeat(3, 20, 35)))
    # heartbeat 3 overlaps heartbeat 1 (same student), not heartbeat 2 (another one's)
    [finding] = validate_stream(overlapping).findings
    assert (finding.document, finding.issue.rule) == (3, "stream.window-overlap")
    assert "document 2" in finding.issue.message  # heartbeat 1 is the stream's second document
    by_session = change(run(), lambda e: [event.update(session=f"urn:uuid:{RUN_ID}") for event in e])
    for event in by_session:
        del event["extensions"]
    repeated = change(by_session, lambda e: e.insert(2, copy.deepcopy(e[1]) | {"id": ident(8)}))
    assert found(validate_stream(repeated)) == {
        (2, "stream.window-repeated", "/generated/items/0/startDate", "error")
    }


def test_windows_arriving_out_of_order_still_overlap() -> None:
    events = run()
    events[1], events[3] = events[3], events[1]
    assert validate_stream(events, strict=True).findings == ()
    events.append(heartbeat(5, 20, 35))
    assert found(validate_stream(events)) == {
        (5, "stream.window-overlap", "/generated/items/0/startDate", "error")
    }


def test_xp_counts_the_heartbeats_sent_after_the_completion_and_its_tolerance_is_policy() -> None:
    late = run()
    late.insert(3, late.pop())  # the final flush arrives after the completion
    late[3]["eventTime"] = at(59)
    assert validate_stream(late, strict=True).findings == ()
    generous = change(run(), lambda e: e[4]["generated"]["items"][0].update(value=10))
    assert {f.issue.rule for f in validate_stream(generous).findings} == {"stream.xp-beyond-time"}
    assert validate_stream(generous, policy=Policy(xp_tolerance=9)).findings == ()
    with pytest.raises(ValueError, match="xp_tolerance"):
        Policy(xp_tolerance=-1)
    # a run with no heartbeat in the stream has no time to hold its XP against
    assert validate_stream([completion(9, 60, xp=30)], strict=True).findings == ()


def test_stream_rules_are_regraded_and_turned_off_like_any_rule() -> None:
    broken = CASES[1][1]
    assert found(validate_stream(broken, policy=Policy(severities={"stream.window-overlap": "warning"}))) == {
        (2, "stream.window-overlap", "/generated/items/0/startDate", "warning")
    }
    assert validate_stream(broken, policy=Policy(severities={"stream.window-overlap": "off"})).findings == ()
    assert set(STREAM_RULES) <= known_rules()
    policy = policy_from({"disable": ["stream.duplicate-id"]}, "here")
    assert validate_stream(CASES[0][1], policy=policy).findings == ()


def test_findings_name_the_file_line_and_pointer(tmp_path: Path) -> None:
    broken = CASES[1][1]
    lines = tmp_path / "stream.jsonl"
    lines.write_text(
        "\n".join(json.dumps(event) for event in broken[:2]) + "\n\n" + json.dumps(broken[2]) + "\n"
    )
    [finding] = validate_stream(from_file(lines)).findings
    issue = finding.issue
    assert (finding.source, finding.document, issue.line, issue.pointer) == (
        str(lines),
        2,
        4,
        "/generated/items/0/startDate",
    )
    assert issue.column is not None and json.dumps(broken[2])[issue.column - 1 :].startswith(
        '"2025-03-03T10:00:25'
    )
    assert f"{lines}:2 " in issue.message  # the heartbeat it overlaps: line 2 of the same file
    # a document of its own file, pretty-printed: the line of the value in it
    pretty = tmp_path / "third.json"
    pretty.write_text(json.dumps(envelope(broken[2]), indent=2))
    report = validate_stream(
        [*from_lines(lines.read_bytes().split(b"\n\n")[0], "first.jsonl"), *from_file(pretty)]
    )
    [finding] = report.findings
    text = pretty.read_text().splitlines()
    assert (
        finding.source == str(pretty) and '"startDate": "2025-03-03T10:00:25' in text[finding.issue.line - 1]
    )


def test_each_document_is_validated_too_and_a_broken_one_does_not_stop_the_stream() -> None:
    events = run()
    events[1]["generated"]["items"][0]["value"] = -5  # timeback.time-range
    text = "\n".join(json.dumps(event) for event in events[:3]) + '\n{"id": \n' + json.dumps(events[3])
    report = validate_stream(from_lines(text, "mixed.jsonl"))
    got = {(f.document, f.issue.rule, f.issue.line) for f in report.findings}
    assert got == {(1, "timeback.time-range", 2), (3, "json.syntax", 4)}
    assert (report.documents, report.events, report.runs) == (5, 4, 1)
    # with per_document=False (documents validated already), the stream rules alone
    assert validate_stream(from_lines(text), per_document=False).findings[0].issue.rule == "json.syntax"


def test_ids_and_ended_runs_beyond_memory_go_to_disk_and_are_still_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "SPILL_IDS", 5)
    monkeypatch.setattr(streams, "SPILL_RUNS", 1)
    monkeypatch.setattr(streams, "CLOSE_EVERY", 1)

    def other_run(number: int, offset: float) -> list[Event]:
        events = [heartbeat(number * 10 + n, offset + 15 * n, offset + 15 * (n + 1)) for n in range(2)]
        for event in events:
            event["extensions"]["runId"] = f"run-{number}"
        return events

    first = run()
    later = [event for number in range(1, 4) for event in other_run(number, 3600 * number)]
    back = heartbeat(99, 20, 35)  # the first run, hours later in the stream: its windows were set aside
    duplicate = copy.deepcopy(first[1]) | {"eventTime": at(4 * 3600)}
    duplicate["extensions"] = {"runId": "run-9"}
    report = validate_stream([*first, *later, back, duplicate])
    assert found(report) == {
        (11, "stream.window-overlap", "/generated/items/0/startDate", "error"),
        (12, "stream.duplicate-id", "/id", "error"),
    }
    assert report.runs == 5


def test_a_path_payload_beyond_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 200)
    from caliper_schema.policy import Limits

    report = validate_stream([Item(big, "big.json")], policy=Policy(limits=Limits(max_bytes=100)))
    assert [(f.source, f.issue.rule) for f in report.findings] == [("big.json", "limit.size")]


def test_the_report_keeps_its_cap_but_counts_every_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "MAX_FINDINGS", 2)
    events = run()
    for event in events:
        event["id"] = ident(1)
    report = validate_stream(events)
    assert report.errors == 4 and not report.ok
    assert [f.issue.rule for f in report.findings] == ["stream.duplicate-id"] * 2 + ["limit.issues"]
    assert report.findings[-1].issue.severity == "error"


def test_a_generic_duplicate_id_says_nothing_of_timeback_and_a_timeback_one_names_the_service() -> None:
    generic = json.loads((EXAMPLES / "valid" / "caliper-generic-event.json").read_text())["data"][0]
    report = validate_stream([generic, copy.deepcopy(generic)])
    [found] = [f.issue for f in report.findings if f.issue.rule == "stream.duplicate-id"]
    assert (found.pointer, found.severity) == ("/id", "error")
    assert (
        "Timeback" not in f"{found.message} {found.hint}" and "service" not in f"{found.message} {found.hint}"
    )
    envelope = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
    report = validate_stream([envelope, copy.deepcopy(envelope)])
    [found] = [f.issue for f in report.findings if f.issue.rule == "stream.duplicate-id"]
    assert found.pointer == "/data/0/id" and "the Timeback service keys stored events" in (found.hint or "")
