"""Strict parsing: every way a payload is not one JSON document is an issue with its line and column."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliper_schema import validate
from caliper_schema.policy import Limits
from caliper_schema.validation.parsing import parse, parse_lines, parse_value


@pytest.mark.parametrize(
    ("data", "rule", "pointer", "line", "column"),
    [
        (b"", "json.empty", "", 1, 1),
        (b"  \n\t ", "json.empty", "", 1, 1),
        (b'{"a": 1,}', "json.syntax", "", 1, 9),
        (b'{\n  "a": \n}', "json.syntax", "", 3, 1),
        (b'{"a": 1} {"b": 2}', "json.trailing-data", "", 1, 10),
        (b'{"a": NaN}', "json.non-finite", "/a", 1, 7),
        (b'{"a": [1, -Infinity]}', "json.non-finite", "/a/1", 1, 11),
        (b'{"a": 1e400}', "json.non-finite", "/a", 1, 7),
        (b'{"a": 1,\n "b": {"c": 1, "c": 2}}', "json.duplicate-key", "/b/c", 2, 16),
        (b'{"a": "\xe9"}', "json.encoding", "", 1, 8),
    ],
)
def test_parse_failures_are_located(data: bytes, rule: str, pointer: str, line: int, column: int) -> None:
    document = parse(data)
    assert not document.parsed
    [issue] = document.issues
    assert (issue.rule, issue.pointer, issue.severity, issue.line, issue.column) == (
        rule,
        pointer,
        "error",
        line,
        column,
    )


def test_a_byte_order_mark_is_a_warning_and_the_document_is_still_read() -> None:
    document = parse(b'\xef\xbb\xbf{"type": "Event"}')
    assert document.value == {"type": "Event"}
    [issue] = document.issues
    assert (issue.rule, issue.severity, issue.line, issue.column) == ("json.bom", "warning", 1, 1)


def test_a_byte_order_mark_is_an_error_under_strict() -> None:
    report = validate(b'\xef\xbb\xbf{"type": "Event"}', strict=True)
    assert ("error", "json.bom", "") in {(i.severity, i.rule, i.pointer) for i in report.errors}


def test_trailing_comma_gets_a_hint() -> None:
    [issue] = parse(b'{"a": [1, 2,]}').issues
    assert issue.rule == "json.syntax"
    assert issue.hint == "remove the trailing comma"


def test_duplicate_keys_are_all_reported() -> None:
    issues = parse(b'{"a": 1, "a": 2, "b": {"x": 1, "x": 1}}').issues
    assert [(i.rule, i.pointer) for i in issues] == [
        ("json.duplicate-key", "/a"),
        ("json.duplicate-key", "/b/x"),
    ]


def test_json_lines_report_each_line_and_keep_reading() -> None:
    data = b'{"a": 1}\r\n\r\n{"b": \n[\xff]\n{"c": 3}\n'
    documents = list(parse_lines(data))
    assert [d.first_line for d in documents] == [1, 3, 4, 5]
    assert [d.parsed for d in documents] == [True, False, False, True]
    assert (documents[1].issues[0].rule, documents[1].issues[0].line) == ("json.syntax", 3)
    assert (documents[2].issues[0].rule, documents[2].issues[0].line) == ("json.encoding", 4)
    assert documents[3].value == {"c": 3}


def test_valid_json_keeps_its_values_untouched() -> None:
    text = '{"n": 25, "d": 25.0, "s": "\\u00e9", "l": [true, false, null]}'
    assert parse(text).value == {"n": 25, "d": 25.0, "s": "é", "l": [True, False, None]}
    assert type(parse(text).value["n"]) is int and type(parse(text).value["d"]) is float


@pytest.mark.parametrize(
    "literal",
    ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890", "9223372036854775807"],
)
def test_integers_beyond_64_bits_stay_exact_integers(literal: str) -> None:
    # orjson turns these into floats; RFC 8259 leaves the range to the parser, Python keeps them exact.
    for data in (f'{{"n": {literal}}}', f'{{"n": {literal}}}'.encode()):
        value = parse(data).value["n"]
        assert type(value) is int and value == int(literal)


# --- values a caller parsed: JSON or not, never altered --------------------------------------------------


class _Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("leaf", "rule"),
    [
        (float("nan"), "json.not-json"),
        (float("-inf"), "json.not-json"),
        ((1, 2), "json.not-json"),
        (uuid.UUID(int=1), "json.not-json"),
        (_Colour.RED, "json.not-json"),
        (datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), "json.not-json"),
        (decimal.Decimal("1.5"), "json.not-json"),
        ({1: "one"}, "json.not-json"),
        ("\ud800", "json.surrogate"),
    ],
)
def test_a_callers_value_that_is_not_json_is_an_issue_at_its_pointer(leaf: Any, rule: str) -> None:
    value = {"type": "Event", "extensions": {"x": [leaf]}}
    document = parse_value(value)
    assert not document.parsed
    [issue] = document.issues
    assert (issue.rule, issue.pointer) == (rule, "/extensions/x/0")


@pytest.mark.parametrize(
    "value",
    [
        {"n": 2**70, "m": -(2**63) - 1},
        {"t": True, "f": 0.0, "z": -0.0, "none": None, "deep": [[[{"a": []}]]]},
    ],
)
def test_a_callers_json_value_is_accepted_as_it_is(value: Any) -> None:
    document = parse_value(value)
    assert document.parsed and document.issues == ()
    assert document.value is value


class _Text(str):
    def __str__(self) -> str:
        return "not what it holds"


class _Count(int):
    pass


class _Ratio(float):
    pass


@pytest.mark.parametrize(
    "value",
    [
        collections.OrderedDict(type="Event"),
        {"s": _Text("x"), _Text("k"): [_Count(3), _Ratio(0.5)]},
        {"l": type("Items", (list,), {})([1, {"a": _Text("b")}])},
    ],
)
def test_subclasses_of_json_types_are_json_values_checked_as_plain_copies(value: Any) -> None:
    from caliper_schema.locating import walk

    document = parse_value(value)
    assert document.parsed and document.issues == ()
    assert document.value == value and json.dumps(document.value) == json.dumps(value)
    plain = {str, int, float, bool, list, dict, type(None)}
    assert all(type(node) in plain for _, node in walk(document.value))
    assert all(type(key) is str for _, node in walk(document.value) if isinstance(node, dict) for key in node)


def _nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
        ),
        max_leaves=12,
    )


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
non_json_leaves = st.sampled_from([float("nan"), (1,), uuid.UUID(int=2), _Colour.RED, decimal.Decimal(2)])
plain_json = _nested(json_leaves)
python_values = _nested(json_leaves | st.integers() | st.floats() | non_json_leaves)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(python_values)
def test_the_c_screen_never_passes_what_the_walk_refuses(value: Any) -> None:
    from caliper_schema.validation.parsing import _first_problem, _plainly_json

    limits = Limits(max_depth=3)
    if _plainly_json(value, limits) is not None:
        assert _first_problem(value, limits, 1, parsed_by_us=False) is None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(plain_json)
def test_the_c_screen_passes_plain_json(value: Any) -> None:
    from caliper_schema.validation.parsing import _plainly_json

    serialised = _plainly_json(value, Limits())
    assert serialised is not None and json.loads(serialised) == value


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ('{"type": "Event", "a": "\ud800"}', "/a"),
        ('{"type": "Event", "a": "\\ud800"}', "/a"),
        ('{"type": "Event", "\udfff": 1}', "/\\udfff"),  # an Issue writes it as a visible escape
    ],
    ids=["raw in a str", "escaped", "raw in a key"],
)
def test_a_lone_surrogate_in_text_is_an_issue_at_its_pointer(text: str, pointer: str) -> None:
    document = parse(text)
    assert not document.parsed
    [issue] = document.issues
    assert (issue.rule, issue.pointer) == ("json.surrogate", pointer)
