"""Where a JSON Pointer sits in the source text, and which object keys repeat.

The standard JSON parsers answer neither question: they keep no positions and let a repeated key silently
win. Both are only asked on the slow path (a payload that already has an issue), and there are two ways
to answer. :func:`offset_of` walks down the text along one pointer, letting the stdlib's C scanner step
over every sibling value on the way: for the handful of pointers of one report, it is several times
cheaper than reading the whole text in Python. :class:`Locator` reads the whole text once with a regular
expression, iteratively (deep nesting cannot exhaust the Python stack), tolerating ``NaN``/``Infinity``
and any text that is not JSON at all; it finds repeated keys and non-finite numbers for the parser, and
answers wherever the walk cannot vouch for its answer (text that is not strict JSON, a repeated key, a
sibling nested too deep for the C scanner). :class:`Finder` uses the walk for a few pointers and the
full scan for many. The full scan is written here rather than taken from a library because it must do
both jobs in one pass.

>>> text = '{"a": {"b": [1, 2]}}'
>>> Locator(text).locate("/a/b/1")
(1, 17)
>>> position(text, offset_of(text, "/a/b/1"))
(1, 17)
"""

from __future__ import annotations

import bisect
import functools
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


def unescape(token: str) -> str:
    """The key one reference token of a JSON Pointer names (RFC 6901: ``~1`` is ``/``, then ``~0`` is ``~``).

    >>> unescape("a~1b~01")
    'a/b~1'
    """
    return token.replace("~1", "/").replace("~0", "~")


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
            if not current.startswith("/"):  # the root, or no JSON Pointer at all (its own parent)
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


# The walk: one pointer followed down the text, sibling values stepped over by the stdlib's C scanner.
# Locator's answer for a pointer is the earliest value with that pointer (or with the nearest existing
# ancestor's); the walk only answers where it can show that this is the one it reached, and otherwise
# leaves the question to Locator (text that is not strict JSON on the way, a repeated key on the way).

_SPACE = re.compile(r"[ \t\n\r]*")
_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")  # no text this program can hold has 10**18 array elements
_DECODER = json.JSONDecoder()


class _Unsure(Exception):
    """The walk met text where Locator might read what the walk did not (or did not read what it did)."""


def _skip(text: str, idx: int) -> int:
    space = _SPACE.match(text, idx)
    return space.end() if space else idx


def _end(text: str, idx: int) -> int:
    """The offset past the value at ``idx`` and the spaces after it (the C scanner validates the value)."""
    return _skip(text, _DECODER.raw_decode(text, idx)[1])


# What the C scanner accepts, as regular expressions: stepping over a scalar or reading a key with one
# match costs a fraction of a decoder call and the calls around it; anything else goes to the decoder
# (tests/test_locating.py holds the walk to Locator's answers).
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_KEY = re.compile("(" + _STRING + r")[ \t\n\r]*:[ \t\n\r]*")
# A number of up to 18 digits a part only (and not followed by more of a number): a longer one goes to
# the decoder, which refuses an integer of thousands of digits and leaves such text to Locator.
_NUMBER = r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,18})?(?:[eE][-+]?[0-9]{1,4})?(?![0-9.eE+-])"
_SCALAR = re.compile("(?:" + _STRING + "|" + _NUMBER + r"|true|false|null)[ \t\n\r]*")
_COMMA = re.compile(r",[ \t\n\r]*")


@functools.lru_cache(maxsize=256)
def _others(key: str) -> re.Pattern[str] | None:
    """Steps over a run of members with a scalar value and a plain name other than ``key``, in one match
    (most members of an event are such: its id, type, action, eventTime, ...). A name written with an
    escape ends the run: it might be ``key`` in other words."""
    if any(char in key for char in '"\\') or any(ord(char) < 0x20 for char in key):
        return None
    member = r'(?!"' + re.escape(key) + r'")"[^"\\\x00-\x1f]*"[ \t\n\r]*:[ \t\n\r]*'
    scalar = "(?:" + _STRING + "|" + _NUMBER + r"|true|false|null)[ \t\n\r]*"
    return re.compile("(?:" + member + scalar + r",[ \t\n\r]*)*")


def _key(text: str, idx: int) -> tuple[str, int]:
    """The name of the member at ``idx`` and the offset of its value."""
    match = _KEY.match(text, idx)
    if match is None:
        raise _Unsure
    quoted = match.group(1)
    return (quoted[1:-1] if "\\" not in quoted else json.loads(quoted)), match.end()


def _over(text: str, idx: int) -> int:
    """The offset past the value at ``idx`` and the spaces after it."""
    scalar = _SCALAR.match(text, idx)
    return scalar.end() if scalar else _end(text, idx)


def _comma(text: str, idx: int) -> int:
    """The offset past the ``,`` at ``idx`` and the spaces after it."""
    match = _COMMA.match(text, idx)
    if match is None:
        raise _Unsure
    return match.end()


def _member(text: str, idx: int, key: str | None, *, first: bool) -> tuple[int, bool]:
    """Read on in an object from ``idx``, past its ``{`` (``first``) or past a member's value: the offset of
    the value of the next member named ``key`` and True, or the offset past the object and False."""
    if text.startswith("}", idx):
        return _skip(text, idx + 1), False
    idx = idx if first else _comma(text, idx)
    others = _others(key) if key is not None else None
    while True:
        if others is not None:
            idx = others.match(text, idx).end()  # type: ignore[union-attr]  # a star: it always matches
        name, idx = _key(text, idx)
        if name == key:
            return idx, True
        idx = _over(text, idx)
        if text.startswith("}", idx):
            return _skip(text, idx + 1), False
        idx = _comma(text, idx)


def _element(text: str, idx: int, index: int | None, *, first: bool) -> tuple[int, bool]:
    """:func:`_member` for an array: element ``index`` counted from ``idx`` (None: read to the end)."""
    if text.startswith("]", idx):
        return _skip(text, idx + 1), False
    idx = idx if first else _comma(text, idx)
    count = 0
    while count != index:
        idx = _over(text, idx)
        if text.startswith("]", idx):
            return _skip(text, idx + 1), False
        idx = _comma(text, idx)
        count += 1
    return idx, True


def _unescape(token: str) -> str | None:
    """The key a reference token names; None for a token Locator never writes (``~2``, ``a~``)."""
    key = unescape(token)
    return key if escape(key) == token else None


def _child(text: str, idx: int, token: str) -> tuple[int, bool]:
    """The offset of member ``token`` of the value at ``idx`` and True, or the offset past it and False."""
    if text.startswith("{", idx):
        return _member(text, _skip(text, idx + 1), _unescape(token), first=True)
    if text.startswith("[", idx):
        index = int(token) if _INDEX.fullmatch(token) else None
        return _element(text, _skip(text, idx + 1), index, first=True)
    return _end(text, idx), False


def _no_more(text: str, idx: int, trail: list[str | None]) -> None:
    """Raise :class:`_Unsure` unless, from ``idx``, the text closes the containers walked through without
    repeating the keys taken (``trail``: an object's key, None for an array; innermost last) and then ends.
    A missing member could otherwise still exist for Locator, under a repeated key or in trailing data."""
    for key in reversed(trail):
        if key is None:
            idx, again = _element(text, idx, None, first=False)
        else:
            idx, again = _member(text, idx, key, first=False)
        if again:
            raise _Unsure
    if idx != len(text):
        raise _Unsure


def _value_at(text: str, idx: int) -> int:
    """``idx``, once sure Locator sees a value start there too (not an unterminated string, say)."""
    token = _TOKEN.match(text, idx)
    if token is None or token.group(2) not in (None, "{", "["):
        raise _Unsure
    return idx


def _walk(text: str, tokens: list[str]) -> tuple[int, bool]:
    """The offset of the value at the pointer ``tokens`` and True, or of its nearest ancestor and False."""
    here = _skip(text, 0)
    trail: list[str | None] = []
    for token in tokens:
        child, found = _child(text, here, token)
        if not found:
            _no_more(text, child, trail)
            return _value_at(text, here), False
        trail.append(_unescape(token) if text.startswith("{", here) else None)
        here = child
    return _value_at(text, here), True


def _search(text: str, pointer_: str) -> tuple[int, bool] | None:
    if pointer_ and not pointer_.startswith("/"):
        return None
    try:
        return _walk(text, pointer_.split("/")[1:])
    except (_Unsure, ValueError, IndexError, RecursionError):  # a JSONDecodeError is a ValueError
        return None


def offset_of(text: str, pointer_: str) -> int | None:
    """The offset where ``Locator(text).locate(pointer_)`` places ``pointer_``, found by walking down the
    text; None when only :class:`Locator` can tell (text that is not JSON or repeats a key on the way, a
    pointer that is not one). Never raises; deep nesting off the way is also left to :class:`Locator`.

    >>> text = '{"a": 1, "b": {"c": [true]}}'
    >>> offset_of(text, "/b/c/0"), offset_of(text, "/b/d"), offset_of(text, "")
    (21, 14, 0)
    >>> offset_of('{"a": 1, "a": {"c": 2}}', "/a/c") is None  # Locator finds it under the second "a"
    True
    """
    walked = _search(text, pointer_)
    return None if walked is None else walked[0]


# A full scan costs as much as 4 to 7 walks through the whole text on documents like Caliper's (measured),
# as little as 1.5 on long arrays of numbers: past 2 texts' worth of walking, the full scan answers.
_REREADS = 2


class Finder:
    """Positions of a few values of one JSON text, as :class:`Locator` gives them, for less.

    Each pointer is walked down the text (:func:`offset_of`). A walk reads the text from its start each
    time, so once the walks have read about twice the text, or meet text they cannot vouch for, the full
    scan (:attr:`locator`, built once) answers this pointer and every later one: many pointers into a long
    text cost no more than that scan and a little.

    >>> finder = Finder('[{"a": 1},\\n {"a": 2}]')
    >>> finder.locate("/1/a"), finder.locate("/1/b"), finder.locate("/2")
    ((2, 8), (2, 2), (1, 1))
    """

    def __init__(self, text: str, *, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line
        self._allowance = _REREADS * len(text)
        """How many more characters the walks may read."""

    @functools.cached_property
    def locator(self) -> Locator:
        """The full scan of the text (built on first use)."""
        return Locator(self.text, first_line=self.first_line)

    def locate(self, pointer_: str) -> tuple[int, int] | None:
        """Line and column of the value at ``pointer_``; for a missing member, of its nearest ancestor."""
        walked = _search(self.text, pointer_) if self._allowance > 0 else None
        if walked is None:
            self._allowance = 0  # the full scan is paid for from here on: it answers at once
            return self.locator.locate(pointer_)
        offset, found = walked
        self._allowance -= offset if found else len(self.text)  # a missing member is checked to the end
        return position(self.text, offset, first_line=self.first_line)


def position(text: str, offset: int, *, first_line: int = 1) -> tuple[int, int]:
    """1-based (line, column) of a character offset, as :meth:`Lines.position` has it, for a single offset
    (no index of the lines is built).

    >>> position('{"a":\\n  [1]}', 9, first_line=3)
    (4, 4)
    """
    return first_line + text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset)
