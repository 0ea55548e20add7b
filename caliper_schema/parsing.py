"""Step 2, parsing: bytes to JSON documents, strictly.

Stricter than ``json.loads`` where Caliper and RFC 8259 are: UTF-8 only, no repeated key in an object
(Caliper: "Each property MUST be referenced only once"), no ``NaN``/``Infinity``, no number too large for a
double, nothing after the document. Each problem becomes an :class:`~caliper_schema.reporting.Issue` with
its line and column; nothing raises. JSON Lines input yields one :class:`Document` a line, so one broken
line does not hide the others.

>>> doc = parse(b'{"a": 1, "a": 2}')
>>> doc.parsed, doc.issues[0].rule, (doc.issues[0].line, doc.issues[0].column)
(False, 'json.duplicate-key', (1, 10))
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from caliper_schema.locating import Lines, Locator
from caliper_schema.reporting import Issue

BOM = "\ufeff"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a document that could not be parsed."""


@dataclass(frozen=True)
class Document:
    """One JSON document: its value, and its source text for locating issues.

    ``first_line`` is the line of the document in its file (JSON Lines documents start on their line).
    """

    value: Any
    text: str | None = None
    first_line: int = 1
    issues: tuple[Issue, ...] = ()

    @property
    def parsed(self) -> bool:
        """False when the text was not a JSON document."""
        return self.value is not MISSING

    @functools.cached_property
    def locator(self) -> Locator | None:
        """Positions of the values in the source text (computed on first use)."""
        return None if self.text is None else Locator(self.text, first_line=self.first_line)

    def locate(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of the value at ``pointer``, when the source text is known."""
        return self.locator.locate(pointer) if self.locator else None


class _Rejected(ValueError):
    """Raised inside the stdlib parser's hooks; located afterwards by the scanner."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Rejected("duplicate key")
    return result


def _constant(name: str) -> Any:
    raise _Rejected(name)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Rejected("overflow")
    return value


def _issue(
    rule: str, message: str, lines: Lines, offset: int, *, pointer: str = "", hint: str | None = None
) -> Issue:
    line, column = lines.position(offset)
    return Issue(pointer, rule, "error", message, hint=hint, line=line, column=column)


def _syntax_issue(error: json.JSONDecodeError, text: str, first_line: int) -> Issue:
    lines = Lines(text, first_line=first_line)
    if error.msg == "Extra data":
        return _issue(
            "json.trailing-data",
            "unexpected data after the JSON document",
            lines,
            error.pos,
            hint="a .json file holds one document; use .jsonl for one document per line",
        )
    trailing_comma = text[: error.pos].rstrip().endswith(",")
    hint = "remove the trailing comma" if trailing_comma else None
    return _issue("json.syntax", f"invalid JSON: {error.msg.lower()}", lines, error.pos, hint=hint)


def _rejected_issues(text: str, first_line: int) -> list[Issue]:
    locator = Locator(text, first_line=first_line)
    issues = [
        _issue(
            "json.duplicate-key",
            "this key appears twice in one object",
            locator,
            dup.offset,
            pointer=dup.pointer,
            hint="Caliper: each property MUST be referenced only once",
        )
        for dup in locator.duplicates
    ]
    issues += [
        _issue(
            "json.non-finite",
            "NaN, Infinity and numbers beyond the range of a double are not allowed",
            locator,
            offset,
            pointer=where,
        )
        for where, offset in locator.non_finite
    ]
    return issues


def _decode(data: bytes, first_line: int) -> tuple[str | None, list[Issue]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + data.count(b"\n", 0, error.start)
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        issue = Issue(
            "",
            "json.encoding",
            "error",
            f"not UTF-8: byte 0x{data[error.start]:02x} cannot start or continue a character",
            hint="save the file as UTF-8",
            line=line,
            column=column,
        )
        return None, [issue]
    return text, []


def _parse_text(text: str, first_line: int) -> Document:
    issues: list[Issue] = []
    if text.startswith(BOM):
        issues.append(
            Issue(
                "",
                "json.bom",
                "warning",
                "the text starts with a byte order mark",
                hint="RFC 8259: JSON text MUST NOT begin with a BOM; save as UTF-8 without BOM",
                line=first_line,
                column=1,
            )
        )
        text = text[1:]
    if not text.strip():
        issues.append(Issue("", "json.empty", "error", "the input is empty", line=first_line, column=1))
        return Document(MISSING, text, first_line, tuple(issues))
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as error:
        issues.append(_syntax_issue(error, text, first_line))
    except _Rejected:
        issues += _rejected_issues(text, first_line)
    except RecursionError:
        issues.append(
            Issue(
                "",
                "json.nesting",
                "error",
                "the document is nested too deeply to parse",
                line=first_line,
                column=1,
            )
        )
    else:
        return Document(value, text, first_line, tuple(issues))
    return Document(MISSING, text, first_line, tuple(issues))


def parse(data: bytes | str) -> Document:
    """Parse one JSON document.

    >>> parse('{"type": "Event"}').value
    {'type': 'Event'}
    >>> parse(b'[1, 2] 3').issues[0].rule
    'json.trailing-data'
    """
    if isinstance(data, str):
        return _parse_text(data, 1)
    text, issues = _decode(data, 1)
    if text is None:
        return Document(MISSING, None, 1, tuple(issues))
    return _parse_text(text, 1)


def parse_lines(data: bytes | str) -> Iterator[Document]:
    """Parse JSON Lines: one document a line (``\\n`` or ``\\r\\n``); blank lines are skipped.

    >>> [doc.first_line for doc in parse_lines(b'{"a": 1}\\n\\n{"b": 2}\\n')]
    [1, 3]
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for number, line in enumerate(raw.split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line.strip():
            continue
        text, issues = _decode(line, number)
        yield Document(MISSING, None, number, tuple(issues)) if text is None else _parse_text(text, number)
