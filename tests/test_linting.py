"""The clean engine (lints made hard, in jsonschema-rs) agrees with the Python linter it spares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from caliper_schema import strategies
from caliper_schema.policy import SUBJECT_LISTS, Policy
from caliper_schema.validation import checking, linting
from caliper_schema.validation.dispatching import Unit, dispatch
from caliper_schema.validation.fastpath import clean_engine
from caliper_schema.validation.parsing import parse
from tests.conftest import CORPUS, EXAMPLES

SOFT_CASES: list[dict[str, Any]] = []  # documents that draw one lint each, built from a clean event


def _clean_event() -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())["data"][0])


def _soft_cases() -> Iterator[dict[str, Any]]:
    for change in (
        {"eventTime": "2025-07-22T21:25:40Z"},
        {"@context": {"@vocab": "http://example.com/"}},
        {"object": {**_clean_event()["object"], "subject": "Other"}},
        {"object": {**_clean_event()["object"], "grade": 3}},
        {"object": {k: v for k, v in _clean_event()["object"].items() if k != "app"}},
        {"customField": 1},
    ):
        yield _clean_event() | change
    yield {"type": "Score", "id": "https://example.edu/scores/1", "maxScore": 15}
    yield {
        "type": "ViewEvent",
        "id": "urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2c",
        "action": "Viewed",
        "actor": "https://example.edu/users/1",
        "object": "https://example.edu/docs/1",
        "eventTime": "2016-11-15T10:15:00.000Z",
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
    }
    yield {"type": "MediaEvent", "id": "urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2c",
           "action": "EnabledCloseCaptioning", "actor": "https://example.edu/users/1",
           "object": {"id": "https://example.edu/videos/1", "type": "VideoObject"},
           "eventTime": "2016-11-15T10:15:00.000Z"}  # fmt: skip


def _units(value: Any) -> list[Unit]:
    return dispatch(value)[0]


def _documents() -> Iterator[Any]:
    yield from _soft_cases()
    for path in sorted(EXAMPLES.rglob("*.json")):
        document = parse(path.read_bytes())
        if document.parsed:
            yield document.value
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*.json")):
            document = parse(path.read_bytes())
            if document.parsed:
                yield document.value


def _agree(unit: Unit, subjects: str) -> None:
    if checking.check(unit):
        return  # with schema errors the linter always runs
    findings = linting.lint(unit, Policy(subjects=subjects))
    clean = clean_engine(subjects).is_valid(unit.schema, unit.value)
    assert clean == (findings == []), (unit.pointer, unit.value.get("type"), findings)


@pytest.mark.parametrize("subjects", SUBJECT_LISTS)
def test_clean_engine_accepts_exactly_what_the_linter_leaves_alone(subjects: str) -> None:
    seen = flagged = 0
    for document in _documents():
        for unit in _units(document):
            _agree(unit, subjects)
            seen += 1
            flagged += bool(linting.lint(unit, Policy(subjects=subjects)))
    assert seen >= (400 if CORPUS.is_dir() else 15) and flagged >= 9  # the corpus is optional


@settings(max_examples=60, deadline=None, derandomize=True)
@given(strategies.events())
def test_generated_events_are_clean_for_both(event: dict[str, Any]) -> None:
    for unit in _units(event):
        _agree(unit, "v9")
        assert clean_engine("v9").is_valid(unit.schema, unit.value)


def test_examples_path() -> None:
    assert Path(EXAMPLES).is_dir()
