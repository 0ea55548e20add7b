"""Step 2, parsing: bytes to JSON documents, strictly, within limits.

Stricter than ``json.loads`` where Caliper and RFC 8259 are: UTF-8 only, no repeated key in an object
(Caliper: "Each property MUST be referenced only once"), no ``NaN``/``Infinity``, no number beyond the
range of a double, no lone surrogate, nothing after the document. A document beyond the
:class:`~caliper_schema.policy.Limits` (size, depth, string length) is reported as such and not read
further; its nesting is measured on the bytes before any parser (each recursive, in C) sees it. Each
problem becomes an :class:`~caliper_schema.reporting.Issue` with its line and column; nothing raises.
JSON Lines input yields one :class:`Document` a line, so one broken line does not hide the others, and a
file of them is read a line at a time (:mod:`~caliper_schema.validation.reading`).

>>> doc = parse(b'{"a": 1, "a": 2}')
>>> doc.parsed, doc.issues[0].rule, (doc.issues[0].line, doc.issues[0].column)
(False, 'json.duplicate-key', (1, 10))
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from caliper_schema.hints import article
from caliper_schema.locating import Finder, Lines, Locator, Path, to_pointer, walk
from caliper_schema.policy import DEEPEST, Limits
from caliper_schema.reporting import Issue
from caliper_schema.validation.reading import Oversized

BOM = "\ufeff"
_DEFAULT_LIMITS = Limits()
# A lone surrogate written as an escape, or (in a caller's str, encoded with "surrogatepass") as itself.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENERS = frozenset(b"[{")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a document that could not be parsed."""


@dataclass  # not frozen: one is built per document, and a frozen dataclass takes 3x as long to build
class Document:
    """One JSON document: its value, and its source text for locating issues (read-only by convention).

    ``first_line`` is the line of the document in its file (JSON Lines documents start on their line).
    """

    value: Any
    text: str | None = None
    first_line: int = 1
    issues: tuple[Issue, ...] = ()
    serialised: str | None = None
    """For a value a caller parsed (no source text): the same value as JSON text, which screens can search
    (``rules`` skips a walk when a marker is absent); never used for positions."""

    @property
    def parsed(self) -> bool:
        """False when the text was not a JSON document (or one within the limits)."""
        return self.value is not MISSING

    @functools.cached_property
    def finder(self) -> Finder | None:
        """Positions of the values in the source text, found as they are asked for."""
        return None if self.text is None else Finder(self.text, first_line=self.first_line)

    @functools.cached_property
    def locator(self) -> Locator | None:
        """Positions of all the values in the source text (computed on first use)."""
        return None if self.finder is None else self.finder.locator

    def locate(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of the value at ``pointer`` (for a missing member, of its nearest ancestor), when
        the source text is known.

        A report locates a handful of pointers: walking down the text for each
        (:class:`~caliper_schema.locating.Finder`) costs a fraction of the full scan (:attr:`locator`).

        >>> [doc.locate("/a/1") for doc in parse_lines(b'{"a": 1}\\n{"a": [1, 2]}')]
        [(1, 7), (2, 11)]
        """
        return self.finder.locate(pointer) if self.finder else None


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


def _int(text: str) -> int:
    # An integer beyond a double's range is refused like 1e400 (and before int() meets Python's limit
    # of 4300 digits, which raises a ValueError of its own).
    if len(text) > 308 and math.isinf(float(text)):
        raise _Rejected("overflow")
    return int(text)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_INTEGER = b"0" * 19
_STRUCTURE = b"{[:\\\xed"
"""What one pass keeps of the text: brackets and colons to count, and the bytes that start an escape or a
surrogate (in a caller's ``str`` encoded with "surrogatepass") to look for."""
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in _STRUCTURE)


def _fast_loads(raw: bytes, colons: int, backslash: bool) -> Any:
    """orjson's parse when it is provably the strict one, else MISSING (and the stdlib parser decides).

    orjson already refuses NaN, Infinity, lone surrogates, invalid UTF-8, a BOM and trailing data, but it
    keeps the last of two repeated keys and turns integers beyond 64 bits into floats. The first is ruled
    out by counting colons (``colons``: those of ``raw``): re-serialised, the value has one colon per member
    plus those inside strings, so a dropped member shows, provided no ``\\u`` escape hides a colon
    (``backslash``: ``raw`` holds one). The second by the same re-serialised text: such an integer became a
    float of at least 9.2e18, which orjson writes with an exponent (``e+18``), so a text without ``+`` holds
    none; one with a ``+`` (a big float, or a string such as ``a+b@example.com``) is searched for 19 digits
    in a row (``-9223372036854775809`` has 19). The screens run on bytes, with single-byte searches
    (``memchr``) where they can: on ``str``, or for a longer needle, they are several times slower.
    """
    if backslash and b"\\u" in raw:
        return MISSING
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return MISSING
    dumped = orjson.dumps(value)
    if dumped.count(b":") != colons:
        return MISSING
    if b"+" in dumped and _LONG_INTEGER in raw.translate(_DIGITS_AS_ZERO):
        return MISSING
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
            hint="a JSON document holds one value; for one document per line, use JSON Lines (a .jsonl file,"
            " or --jsonl on standard input)",
        )
    trailing_comma = text[: error.pos].rstrip().endswith(",")
    hint = "remove the trailing comma" if trailing_comma else None
    return _issue("json.syntax", f"invalid JSON: {error.msg.lower()}", lines, error.pos, hint=hint)


def _rejected_issues(text: str, first_line: int) -> list[Issue]:
    """What the strict hooks refused, and any syntax error after it (the hooks stopped the parser early)."""
    syntax: list[Issue] = []
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        syntax.append(_syntax_issue(error, text, first_line))
    except (ValueError, RecursionError):
        pass  # a number beyond Python's digit limit, or deep nesting: the rejection already says enough
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
    return issues + syntax


def _nesting(raw: bytes, beyond: int) -> int:
    """How deeply the brackets of ``raw`` nest outside its strings, counted no further than ``beyond`` + 1.

    Read from the bytes in one pass over the brackets alone, without recursion: it decides whether a
    parser may see the text at all (every JSON parser at hand recurses in C, and fails on deep nesting).
    For text that is not JSON the count is only approximate, which is enough to refuse it.

    >>> _nesting(b'{"a": [[1], "]]]"], "b": {}}', 10)
    3
    """
    depth = deepest = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if byte in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > beyond:
                    break
        else:
            depth -= 1
    return deepest


def _limit(rule: str, message: str, first_line: int, pointer: str = "") -> Issue:
    return Issue(
        pointer,
        rule,
        "error",
        message,
        hint="raise the limit in [tool.caliper-schema.limits] if this document is genuine",
        line=first_line,
        column=1,
    )


def _strings_of(path: Path, node: Any) -> list[tuple[Path, str]]:
    """The strings a value is or holds directly, with their paths: itself, or an object's keys."""
    if isinstance(node, str):
        return [(path, node)]
    return [((*path, key), key) for key in node if isinstance(key, str)] if isinstance(node, dict) else []


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_NON_FINITE = "NaN, Infinity and numbers beyond the range of a double are not allowed"


def _foreign(node: Any) -> tuple[str, str] | None:
    """The rule and message of what keeps a Python value from being JSON, or None for a JSON value.

    Subclasses of ``str``, ``int``, ``float``, ``dict`` and ``list`` are JSON values (:func:`_plain`
    makes them plain); an integer beyond a double's range is refused as it is in text.
    """
    if node is None or isinstance(node, str | bool | list):
        return None
    if isinstance(node, int):
        try:
            int.__float__(node)
        except OverflowError:
            return "json.non-finite", _NON_FINITE
        return None
    if isinstance(node, dict):
        bad = next((key for key in node if not isinstance(key, str)), None)
        return None if bad is None else ("json.not-json", f"the key {bad!r} is not a string")
    if isinstance(node, float):
        return None if math.isfinite(node) else ("json.not-json", f"{node!r} is not a JSON number")
    return "json.not-json", f"{article(type(node).__name__)} is not a JSON value"


def _scalar(node: Any) -> Any:
    if node is None or type(node) in (str, bool, int, float):
        return node
    if isinstance(node, str):  # the base class's own conversions: a subclass may redefine __str__ & co.
        return str.__str__(node)
    return int.__int__(node) if isinstance(node, int) else float.__float__(node)


_PLAIN_TYPES = frozenset({str, bool, int, float, list, dict, type(None)})


def _subclassed(value: Any) -> bool:
    """True when a JSON value holds a subclass of a JSON type (a key included)."""
    for _, node in walk(value):
        if type(node) not in _PLAIN_TYPES:
            return True
        if type(node) is dict and any(type(key) is not str for key in node):
            return True
    return False


def _plain(value: Any) -> Any:
    """A copy of a JSON value whose ``str``, ``int``, ``float``, ``dict`` and ``list`` subclasses are their
    base types (jsonschema-rs takes no subclass), made without recursion.

    >>> class Name(str): ...
    >>> type(_plain({"a": [Name("x")]})["a"][0])
    <class 'str'>
    """
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(holder, 0, value)]
    while stack:
        target, slot, node = stack.pop()
        if isinstance(node, dict):
            members: dict[str, Any] = {}
            target[slot] = members
            for key, item in dict.items(node):
                key = str.__str__(key)
                members[key] = None  # the slot now, so the copy keeps the original's order
                stack.append((members, key, item))
        elif isinstance(node, list):
            items: list[Any] = [None] * list.__len__(node)
            target[slot] = items
            stack.extend((items, index, item) for index, item in enumerate(list.__iter__(node)))
        else:
            target[slot] = _scalar(node)
    return holder[0]


def _first_problem(value: Any, limits: Limits, first_line: int, *, parsed_by_us: bool) -> Issue | None:
    """The first value beyond the limits, holding a lone surrogate, or (given by a caller) not JSON."""
    for path, node in walk(value):
        if len(path) > limits.max_depth:
            message = f"nested deeper than {limits.max_depth} levels"
            return _limit("limit.depth", message, first_line, to_pointer("", path))
        problem = None if parsed_by_us else _foreign(node)
        if problem is not None:
            return Issue(to_pointer("", path), problem[0], "error", problem[1])
        for where, text in _strings_of(path, node):
            if len(text) > limits.max_string:
                message = f"a string of {len(text):,} characters; the limit is {limits.max_string:,}"
                return _limit("limit.string", message, first_line, to_pointer("", where))
            if not text.isascii() and _has_lone_surrogate(text):
                message = "holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a Unicode character"
                return Issue(
                    to_pointer("", where), "json.surrogate", "error", message, line=first_line, column=1
                )
    return None


def _content_issues(
    value: Any, raw: bytes, limits: Limits, first_line: int, nesting: int, escapes: bool
) -> list[Issue]:
    """Depth, long strings and lone surrogates, looked for only when the text could hold them (``escapes``:
    it holds a backslash or a 0xED byte)."""
    surrogates = escapes and _SURROGATE.search(raw)
    if nesting <= limits.max_depth and len(raw) <= limits.max_string and not surrogates:
        return []
    problem = _first_problem(value, limits, first_line, parsed_by_us=True)
    return [problem] if problem else []


def _parse_text(text: str, first_line: int, limits: Limits, raw: bytes | None = None) -> Document:
    """Parse ``text``; ``raw``, when given, is the UTF-8 bytes it was decoded from."""
    issues: list[Issue] = []
    if text.startswith(BOM):
        raw = None
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
    if not text or text.isspace():  # strip()'s test without its copy of the text
        issues.append(Issue("", "json.empty", "error", "the input is empty", line=first_line, column=1))
        return Document(MISSING, text, first_line, tuple(issues))
    raw = text.encode("utf-8", "surrogatepass") if raw is None else raw
    # One pass keeps the brackets, colons, backslashes and 0xED bytes: in what is left, counting and looking
    # for them is nearly free.
    structure = raw.translate(None, _NOT_STRUCTURE)
    colons = structure.count(b":")
    # More brackets than the limit: measure the nesting. Beyond DEEPEST + 1 levels a value is deeper than
    # any limit allows, and no parser is given it (their C recursion fails near 255 or 1,000 levels).
    brackets = structure.count(b"{") + structure.count(b"[")
    nesting = _nesting(raw, DEEPEST + 1) if brackets > limits.max_depth else 0
    if nesting > DEEPEST + 1:
        issues.append(_limit("limit.depth", f"nested deeper than {limits.max_depth} levels", first_line))
        return Document(MISSING, text, first_line, tuple(issues))
    backslash = b"\\" in structure
    try:
        value = _fast_loads(raw, colons, backslash)
        if value is MISSING:
            value = json.loads(
                text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float, parse_int=_int
            )
    except json.JSONDecodeError as error:
        issues.append(_syntax_issue(error, text, first_line))
    except _Rejected:
        issues += _rejected_issues(text, first_line)
    else:
        escapes = backslash or b"\xed" in structure
        issues += _content_issues(value, raw, limits, first_line, nesting, escapes)
        failed = bool(issues) and any(issue.severity == "error" for issue in issues)
        return Document(MISSING if failed else value, text, first_line, tuple(issues))
    return Document(MISSING, text, first_line, tuple(issues))


def oversized(size: int, limits: Limits, first_line: int = 1, *, exact: bool = True) -> Document | None:
    """A document refused for its size (without reading it), or None when the size is within the limit.

    ``exact`` is False when reading stopped past the limit (a device or a pipe has no size to trust).
    """
    if size <= limits.max_bytes:
        return None
    measure = f"{size:,} bytes" if exact else f"more than {limits.max_bytes:,} bytes (read no further)"
    issue = _limit("limit.size", f"{measure}; the limit is {limits.max_bytes:,}", first_line)
    return Document(MISSING, None, first_line, (issue,))


def refused(too_big: Oversized, limits: Limits, first_line: int = 1) -> Document:
    """The document of an input :mod:`~caliper_schema.validation.reading` found over the size limit."""
    document = oversized(max(too_big.size, limits.max_bytes + 1), limits, first_line, exact=too_big.exact)
    assert document is not None
    return document


def _decode(data: bytes, first_line: int) -> tuple[str | None, list[Issue]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + data.count(b"\n", 0, error.start)
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"not UTF-8: byte 0x{data[error.start]:02x} cannot start or continue a character"
        issue = Issue(
            "", "json.encoding", "error", message, hint="save the file as UTF-8", line=line, column=column
        )
        return None, [issue]
    return text, []


def parse(data: bytes | str, limits: Limits = _DEFAULT_LIMITS) -> Document:
    """Parse one JSON document.

    >>> parse('{"type": "Event"}').value
    {'type': 'Event'}
    >>> parse(b'[1, 2] 3').issues[0].rule
    'json.trailing-data'
    """
    too_big = oversized(len(data), limits, 1)
    if too_big is not None:
        return too_big
    if isinstance(data, str):
        return _parse_text(data, 1, limits)
    text, issues = _decode(data, 1)
    if text is None:
        return Document(MISSING, None, 1, tuple(issues))
    return _parse_text(text, 1, limits, data)


# orjson writes these as JSON (a datetime as a string, ...); passed through, they reach _refuse instead.
_ONLY_JSON_TYPES = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _plainly_json(value: Any, limits: Limits) -> str | None:
    """The value as JSON text when it is provably JSON within the limits (screened in C rather than
    walked), else None.

    orjson refuses non-string keys, lone surrogates, integers beyond 64 bits, subclasses, datetimes and
    deep nesting, and writes NaN as ``null``, a tuple as an array, a UUID or an Enum as its value: read
    back, such a value is no longer equal to the original. None sends the value to the walk, which says
    what is wrong (or accepts, say, a big integer or a ``str`` subclass, of which it makes a plain copy).
    """
    try:
        dumped = orjson.dumps(value, default=_refuse, option=_ONLY_JSON_TYPES)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    within = dumped.count(b"{") + dumped.count(b"[") <= limits.max_depth and len(dumped) <= limits.max_string
    return dumped.decode() if within and orjson.loads(dumped) == value else None


def parse_value(value: Any, limits: Limits = _DEFAULT_LIMITS) -> Document:
    """An already parsed value as a document, once checked to be JSON (string keys, finite numbers within
    a double's range, no tuple or datetime) and within the limits. The value is never changed; it is
    copied only when it holds subclasses of the JSON types (or integers beyond 64 bits).

    >>> parse_value({"when": float("nan")}).issues[0].rule
    'json.not-json'
    >>> parse_value({"n": 10**400}).issues[0].rule
    'json.non-finite'
    """
    serialised = _plainly_json(value, limits)
    if serialised is not None:
        return Document(value, serialised=serialised)
    problem = _first_problem(value, limits, 1, parsed_by_us=False)
    if problem is not None:
        return Document(MISSING, None, 1, (problem,))
    return Document(_plain(value) if _subclassed(value) else value)


def parse_lines(
    data: bytes | str | Iterable[bytes | Oversized],
    limits: Limits = _DEFAULT_LIMITS,
    *,
    start: int = 1,
    whole: bool = True,
) -> Iterator[Document]:
    """Parse JSON Lines: one document a line (``\\n`` or ``\\r\\n``); blank lines are skipped, and
    text with no document at all is refused (:func:`no_document`).

    ``data`` may be an iterable of lines, as :func:`~caliper_schema.validation.reading.read_lines` reads
    them from a file with each line bounded (an :class:`Oversized` for a line over the limit). ``start``
    is the number of the first line (a chunk of a longer file, checked on its own); ``whole=False``: the
    lines are such a chunk, so that no document in them is no error of theirs.

    >>> [doc.first_line for doc in parse_lines(b'{"a": 1}\\n\\n{"b": 2}\\n')]
    [1, 3]
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    lines = data.split(b"\n") if isinstance(data, bytes) else data
    read = False
    for number, raw in enumerate(lines, start=start):
        if isinstance(raw, Oversized):
            read = True
            yield refused(raw, limits, number)
            continue
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        if not line.strip():
            continue
        read = True
        too_big = oversized(len(line), limits, number)
        if too_big is not None:
            yield too_big
            continue
        text, issues = _decode(line, number)
        yield (
            Document(MISSING, None, number, tuple(issues))
            if text is None
            else _parse_text(text, number, limits, line)
        )
    if not read and whole:
        yield no_document()


def no_document() -> Document:
    """What JSON Lines that are empty, or all blank lines, hold: no document, an error. An empty stream is
    what a crashed app or a wrong path leaves: were it valid, the check of it would pass in silence.

    >>> [(issue.rule, issue.message) for issue in no_document().issues]
    [('json.empty', 'no document: the input is empty or all its lines are blank')]
    """
    message = "no document: the input is empty or all its lines are blank"
    return Document(MISSING, None, 1, (Issue("", "json.empty", "error", message, line=1, column=1),))
