"""Where a JSON Pointer sits in the source text, and which object keys repeat.

The standard JSON parsers answer neither question: they keep no positions and let a repeated key silently
win. This scanner is only run on the slow path (a payload that already has an issue), so it favours being
small and iterative (deep nesting cannot exhaust the Python stack) over speed. It is written here rather
than taken from a library because it must do both jobs in one pass and tolerate ``NaN``/``Infinity``.

>>> text = '{"a": {"b": [1, 2]}}'
>>> Locator(text).locate("/a/b/1")
(1, 17)
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r'[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|([{}\[\],:])|([^ \t\n\r{}\[\],:"]+))', re.DOTALL)


def escape(token: str) -> str:
    """Escape one reference token of a JSON Pointer (RFC 6901)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def pointer(parent: str, token: str | int) -> str:
    """``parent`` extended by one key or index."""
    return f"{parent}/{escape(str(token))}"


Path = tuple[str | int, ...]
"""The keys and indexes from the root to a value: a JSON Pointer before it is written out."""


def to_pointer(base: str, path: Path) -> str:
    """``base`` extended by every token of ``path``."""
    return base + "".join(f"/{escape(str(token))}" for token in path)


def walk(value: Any) -> Iterator[tuple[Path, Any]]:
    """(path, value) for every value inside ``value``, itself first, without recursion (depth is unbounded).

    >>> [(path, node) for path, node in walk({"a": [1]})]
    [((), {'a': [1]}), (('a',), [1]), (('a', 0), 1)]
    """
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack.extend(((*path, key), item) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(node))))


def parent_of(pointer_: str) -> str:
    """The pointer one level up (``""`` for the root)."""
    return pointer_.rsplit("/", 1)[0] if pointer_ else ""


def _decoded(string: str) -> str:
    """A JSON string literal's value; for a malformed literal, its raw text between the quotes."""
    try:
        value = json.loads(string)
    except ValueError:
        return string[1:-1]
    return value if isinstance(value, str) else string[1:-1]


def _non_finite(literal: str) -> bool:
    if literal in ("NaN", "Infinity", "-Infinity"):
        return True
    try:
        return math.isinf(float(literal))
    except ValueError:  # true, false, null
        return False


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A key that appears twice in one object: where the second occurrence starts."""

    pointer: str
    offset: int


@dataclass(slots=True)
class _Frame:
    pointer: str
    is_object: bool
    index: int = 0
    key: str | None = None
    keys: set[str] | None = None

    def token(self) -> str | int:
        """The key or index of the value being read in this container."""
        return (self.key or "") if self.is_object else self.index


class Lines:
    """Character offsets to 1-based (line, column), for any text (JSON or not)."""

    def __init__(self, text: str, *, first_line: int = 1) -> None:
        self.first_line = first_line
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        row = bisect.bisect_right(self._starts, offset) - 1
        return self.first_line + row, offset - self._starts[row] + 1


class Locator(Lines):
    """Positions of the values of one JSON text by JSON Pointer, and its repeated keys."""

    def __init__(self, text: str, *, first_line: int = 1) -> None:
        super().__init__(text, first_line=first_line)
        self.text = text
        self.values: dict[str, int] = {}
        self.duplicates: list[Duplicate] = []
        self.non_finite: list[tuple[str, int]] = []
        """Numbers JSON cannot carry as a double: NaN, Infinity, and literals beyond its range."""
        self._scan()

    def locate(self, pointer_: str) -> tuple[int, int] | None:
        """Line and column of the value at ``pointer_``; for a missing member, of its nearest ancestor."""
        current = pointer_
        while current not in self.values:
            if not current:
                return None
            current = parent_of(current)
        return self.position(self.values[current])

    def _scan(self) -> None:
        stack: list[_Frame] = []
        expect_key = False
        for match in _TOKEN.finditer(self.text):
            string, punct, literal = match.groups()
            start = match.start(1) if string else match.start(2) if punct else match.start(3)
            frame = stack[-1] if stack else None
            if punct == ":" or punct == ",":
                if frame and frame.is_object and punct == ",":
                    expect_key = True
                elif frame and not frame.is_object and punct == ",":
                    frame.index += 1
                continue
            if punct in ("}", "]"):
                if stack:  # tolerate text that is not JSON: the scanner never raises
                    stack.pop()
                continue
            if frame and frame.is_object and expect_key and string is not None:
                key = _decoded(string)
                here = pointer(frame.pointer, key)
                assert frame.keys is not None
                if key in frame.keys:
                    self.duplicates.append(Duplicate(here, start))
                else:
                    frame.keys.add(key)
                frame.key = key
                expect_key = False
                continue
            here = "" if frame is None else pointer(frame.pointer, frame.token())
            self.values.setdefault(here, start)
            if literal is not None and _non_finite(literal):
                self.non_finite.append((here, start))
            if punct in ("{", "["):
                is_object = punct == "{"
                stack.append(_Frame(here, is_object, keys=set() if is_object else None))
                expect_key = is_object
