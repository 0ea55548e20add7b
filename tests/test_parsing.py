"""Strict parsing: every way a payload is not one JSON document is an issue with its line and column."""

from __future__ import annotations

import pytest

from caliper_schema import validate
from caliper_schema.parsing import parse, parse_lines


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
