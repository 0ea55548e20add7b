"""Whole generated sessions: valid streams pass every rule; each invalid one is reported where it says.

The oracle is the validator (per document and across documents) and the facts the sessions must honour,
read off the generated events by the test itself (cadence, one runId, XP within the active minutes).
"""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings

from caliper_schema import strategies as cs
from caliper_schema.generation.sessions import (
    MISTAKES,
    Row,
    Session,
    generate_sessions,
    write_session_folder,
    write_session_lines,
)
from caliper_schema.validation.rules import RULES
from caliper_schema.validation.streams import from_file, from_lines, validate_stream

SEED, COUNT = 7, 50


def events_of(session: Session) -> list[dict]:
    return [document["data"][0] if "data" in document else document for document in session.documents]


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


@pytest.fixture(scope="module")
def valid() -> list[Session]:
    return list(generate_sessions(COUNT, seed=SEED))


@pytest.mark.parametrize("envelope", [False, True], ids=["events", "envelopes"])
def test_fifty_sessions_of_seed_7_pass_the_stream_with_no_error_and_no_warning(envelope: bool) -> None:
    text = io.StringIO()
    write_session_lines(generate_sessions(COUNT, seed=SEED, envelope=envelope), text)
    report = validate_stream(from_lines(text.getvalue(), "sessions.jsonl"), strict=True)
    assert report.findings == () and report.ok
    assert report.runs == COUNT and report.events == report.documents > COUNT * 14


def test_a_session_is_one_run_as_the_sdk_sends_it(valid: list[Session]) -> None:
    for session in valid:
        events = events_of(session)
        beats, [done] = events[:-1], events[-1:]
        assert {e["type"] for e in beats} == {"TimeSpentEvent"} and done["type"] == "ActivityEvent"
        assert {e["extensions"]["runId"] for e in events} == {session.run_id}
        assert {e["session"] for e in events} == {f"urn:uuid:{session.run_id}"}
        assert len({e["actor"]["id"] for e in events}) == 1 and len({e["id"] for e in events}) == len(events)
        ends = [seconds(e["eventTime"]) for e in beats]
        gaps = {round(b - a, 3) for a, b in itertools.pairwise(ends[:-1])}
        assert gaps == {15.0}  # the cadence; the final flush is shorter
        assert 0 < ends[-1] - ends[-2] < 15 and seconds(done["eventTime"]) >= ends[-1]
        active = sum(i["value"] for e in beats for i in e["generated"]["items"] if i["type"] == "active")
        xp = done["generated"]["items"][0]
        assert xp["type"] == "xpEarned" and 0 <= xp["value"] <= active / 60
        for event in beats:
            items = {item["type"]: item["value"] for item in event["generated"]["items"]}
            assert items["active"] + items.get("inactive", 0) <= 15
    # pauses and both ways of dating a window occur
    inactive = [
        any(i["type"] == "inactive" for i in e["generated"]["items"]) for s in valid for e in events_of(s)
    ]
    dated = {"startDate" in events_of(s)[0]["generated"]["items"][0] for s in valid}
    assert any(inactive) and dated == {True, False}
    starts = [seconds(events_of(s)[0]["eventTime"]) for s in valid]
    assert starts == sorted(starts)  # one run after another: the stream is in time order


def test_the_same_seed_gives_the_same_bytes_and_a_session_does_not_depend_on_the_count() -> None:
    def written(count: int, seed: int, **options: bool) -> str:
        out = io.StringIO()
        write_session_lines(generate_sessions(count, seed=seed, **options), out)
        return out.getvalue()

    assert written(5, 3) == written(5, 3) and written(5, 3) != written(5, 4)
    assert written(5, 3).startswith(written(2, 3))
    assert written(3, 3, invalid=True, envelope=True) == written(3, 3, invalid=True, envelope=True)


@pytest.mark.parametrize("envelope", [False, True], ids=["events", "envelopes"])
def test_each_invalid_session_is_rejected_by_the_rule_its_label_names_at_its_pointer(envelope: bool) -> None:
    sessions = list(generate_sessions(COUNT, seed=SEED, invalid=True, strict=True, envelope=envelope))
    assert set(Counter(s.mistake.rule for s in sessions if s.mistake)) == set(MISTAKES)
    for session in sessions:
        mistake = session.mistake
        assert mistake is not None and mistake.label == f"rule:{mistake.rule}"
        assert mistake.strict == (RULES[mistake.rule].severity == "warning")
        report = validate_stream(list(session.documents), strict=mistake.strict)
        found = {(f.document, f.issue.rule, f.issue.pointer) for f in report.findings}
        assert found == {(mistake.document, mistake.rule, mistake.pointer)}, session.index
        assert not report.ok
        if mistake.strict:
            assert validate_stream(list(session.documents)).ok


def test_every_stream_rule_has_a_mistake_and_mutations_choose_them() -> None:
    assert set(MISTAKES) == {rule for rule, each in RULES.items() if each.stream}
    chosen = generate_sessions(10, seed=1, invalid=True, strict=True, mutations=["rule:stream.window-*"])
    assert {s.mistake.rule for s in chosen if s.mistake} <= {
        "stream.window-overlap",
        "stream.window-repeated",
        "stream.window-too-long",
    }
    with pytest.raises(ValueError, match="no stream mistake matches"):
        next(generate_sessions(1, invalid=True, mutations=["rule:nothing"]))
    with pytest.raises(ValueError, match=r"only rejected under strict=True \(--strict\)"):
        next(generate_sessions(1, invalid=True, mutations=["rule:stream.xp-beyond-time"]))


def test_without_strict_each_mistake_is_one_default_validation_rejects() -> None:
    errors = {rule for rule in MISTAKES if RULES[rule].severity == "error"}
    assert errors and errors != set(MISTAKES)  # both kinds exist: the test can tell them apart
    sessions = list(generate_sessions(COUNT, seed=SEED, invalid=True))
    assert {s.mistake.rule for s in sessions if s.mistake} == errors
    for session in sessions:
        assert session.mistake is not None and not session.mistake.strict
        report = validate_stream(list(session.documents))
        found = {(f.document, f.issue.rule, f.issue.pointer) for f in report.findings}
        assert found == {(session.mistake.document, session.mistake.rule, session.mistake.pointer)}
        assert not report.ok


def test_the_folder_has_a_file_per_session_and_the_manifest_says_where(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    sessions = list(generate_sessions(8, seed=2, invalid=True, strict=True, envelope=True))
    assert write_session_folder(sessions, folder) == 8
    rows = (folder / "mutations.tsv").read_text().splitlines()
    assert rows[0] == Row.HEADER and len(rows) == 9
    for row in rows[1:]:
        file, line, label, pointer, rule, strict = row.split("\t")
        report = validate_stream(from_file(folder / file), strict=strict == "true")
        assert {
            (f.source, f.issue.line, f.issue.rule) for f in report.findings if f.issue.pointer == pointer
        } == {(str(folder / file), int(line), rule)}, row
        assert label == f"rule:{rule}"
    with pytest.raises(FileExistsError):
        write_session_folder(sessions, folder)


def test_one_stream_of_invalid_sessions_has_one_finding_each_on_the_line_its_row_says() -> None:
    out = io.StringIO()
    rows = write_session_lines(
        generate_sessions(COUNT, seed=SEED, invalid=True, strict=True), out, name="all.jsonl"
    )
    lines = out.getvalue().splitlines()
    assert len(rows) == COUNT and all(json.loads(lines[row.line - 1]) for row in rows)
    report = validate_stream(from_lines(out.getvalue(), "all.jsonl"), strict=True)
    # the mistakes do not reach across sessions: each is the one finding of its run
    assert {(f.source, f.issue.line, f.issue.rule, f.issue.pointer) for f in report.findings} == {
        ("all.jsonl", row.line, row.mistake.rule, row.mistake.pointer) for row in rows
    }
    assert len(report.findings) == COUNT


@settings(max_examples=15, deadline=None)
@given(cs.sessions())
def test_drawn_sessions_pass_the_stream_rules(session: Session) -> None:
    assert validate_stream(list(session.documents), strict=True).findings == ()


@settings(max_examples=15, deadline=None)
@given(cs.sessions(invalid=True, strict=True, envelope=True))
def test_drawn_invalid_sessions_are_reported_where_they_say(session: Session) -> None:
    mistake = session.mistake
    assert mistake is not None
    report = validate_stream(list(session.documents), strict=True)
    assert {(f.document, f.issue.rule, f.issue.pointer) for f in report.findings} == {
        (mistake.document, mistake.rule, mistake.pointer)
    }
