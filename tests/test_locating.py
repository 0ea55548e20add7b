"""Locating a pointer by walking down the text gives exactly the full scan's answer, or leaves it to it."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliper_schema.locating import Finder, Locator, offset_of, position
from caliper_schema.validation.parsing import Document, parse_lines
from tests.conftest import CORPUS, EXAMPLES

# Tokens that name no member of the values they are put under (or one Locator never writes, like ~2).
ABSENT = ("zz", "0", "99", "~2", "", "01", "-")


def _pointers(locator: Locator, *, thorough: bool) -> list[str]:
    """Every pointer with a value, and under each of them one (``thorough``: several) that has none."""
    found = list(locator.values)
    if thorough:
        return found + [f"{pointer}/{token}" for pointer in found for token in ABSENT]
    return found + [f"{pointer}/{ABSENT[number % len(ABSENT)]}" for number, pointer in enumerate(found)]


def _strict(text: str) -> bool:
    """Whether the text is one JSON document without a repeated key: the walk must answer every pointer."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("repeated key")
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=unique)
    except (ValueError, RecursionError):
        return False
    return True


def _assert_agree(text: str, first_line: int = 1, *, strict: bool, thorough: bool = False) -> int:
    """Each pointer (and some missing ones) is placed where Locator places it; returns how many walked."""
    locator = Locator(text, first_line=first_line)
    document = Document(None, text, first_line)
    answered = 0
    for pointer in _pointers(locator, thorough=thorough):
        expected = locator.locate(pointer)
        assert document.locate(pointer) == expected, pointer
        offset = offset_of(text, pointer)
        if offset is not None:
            assert position(text, offset, first_line=first_line) == expected, pointer
            answered += 1
        assert offset is not None or not strict, f"the walk left {pointer!r} of a strict text to Locator"
    return answered


@pytest.mark.parametrize(
    ("text", "pointer", "expected", "walked"),
    [
        ('{"a/b": {"m~n": [1, 2]}}', "/a~1b/m~0n/1", (1, 21), True),
        ('{"a/b": {"m~n": [1, 2]}}', "/a~1b/m~0n/2", (1, 17), True),  # missing: its array
        ('{"a/b": {"m~n": [1, 2]}}', "/a/b", (1, 1), True),
        (r'{"\u0061~": 1, "x": {"\u002f": true}}', "/a~0", (1, 13), True),
        (r'{"\u0061~": 1, "x": {"\/": true}}', "/x/~1", (1, 28), True),
        ('{"a~2": 1}', "/a~02", (1, 9), True),
        ('{"a~2": 1}', "/a~2", (1, 1), True),  # not how Locator writes the key "a~2"
        ('{"a": 1, "a": 2}', "/a", (1, 7), True),  # the first of a repeated key
        (r'{"ab": [0], "\u0061b": [1, 2]}', "/ab/0", (1, 9), True),
        (r'{"ab": [0], "\u0061b": [1, 2]}', "/ab/1", (1, 28), False),  # only under the second "ab"
        ('{"a": {}, "a": {"b": 2}}', "/a/b", (1, 22), False),
        ("[1] [2, 3]", "/0", (1, 2), True),
        ("[1] [2, 3]", "/1", (1, 9), False),  # only in the trailing data
        ('{\n  "a": [\n    true,\n    null\n  ]\n}', "/a/1", (4, 5), True),
        ('{\n  "a": [\n    true,\n    null\n  ]\n}', "/a/7", (2, 8), True),
        ("\r\n\n  [1]", "", (3, 3), True),
        ("\r\n\n  [1]", "/5", (3, 3), True),
        ("[10, 11]", "/1", (1, 6), True),
        ("[10, 11]", "/01", (1, 1), True),
        ("[10, 11]", "/-", (1, 1), True),
        ('{"s": "a\\"}[", "t": 1}', "/t", (1, 21), True),
        ('{"a": NaN, "b": [1e400, -Infinity], "c": 1}', "/c", (1, 42), True),
        ('{"a": NaN, "b": [1e400, -Infinity], "c": 1}', "/b/1", (1, 25), True),
        ('{"a": ' + "1" * 5000 + ', "b": 2}', "/b", (1, 5014), False),  # beyond int()'s 4300 digits
        ('{"a": [1, 2', "/a/1", (1, 11), True),  # truncated after the value
        ('{"a": [1, 2', "/a/2", (1, 7), False),
        ('{"a": "unterminated', "/a", (1, 8), False),  # the full scan reads a literal after the quote
        ("", "", None, False),
        ("  }", "/a", None, False),
    ],
)
def test_a_pointer_is_located(
    text: str, pointer: str, expected: tuple[int, int] | None, walked: bool
) -> None:
    assert Document(None, text).locate(pointer) == expected
    assert Locator(text).locate(pointer) == expected
    assert (offset_of(text, pointer) is not None) == walked


def test_json_lines_documents_are_located_on_their_own_lines() -> None:
    first, second = parse_lines(b'{"a": 1}\n\n{"b": [true,\t false]}\n')
    assert second.first_line == 3
    assert second.locate("/b/1") == (3, 15)
    assert second.locate("/b/1/x") == (3, 15)
    assert first.locate("/b") == (1, 1)


def test_a_string_that_is_no_pointer_is_not_located() -> None:
    assert Document(None, '{"a": 1}').locate("a") is None
    assert Locator('{"a": 1}').locate("a") is None  # it used to look for the parent of "a" forever


def test_deep_nesting_is_walked_or_left_to_the_full_scan() -> None:
    depth = 100_000
    text = "[" * depth + "]" * depth
    assert offset_of(text, "/0/0/0") == 3
    assert offset_of(text, "/0" * depth) == depth - 1  # missing under the innermost array
    assert offset_of(text, "/1") is None  # stepping over the first element recurses too deep in C
    assert Document(None, text).locate("/0/0/0") == (1, 4)
    shallower = '{"a": ' * 3000 + "1" + "}" * 3000
    assert offset_of(shallower, "/b") is None
    assert Document(None, shallower).locate("/b") == Locator(shallower).locate("/b") == (1, 1)


def test_a_few_pointers_are_walked_and_many_are_left_to_one_full_scan() -> None:
    text = json.dumps({"data": [{"type": "Event", "id": n} for n in range(2000)]}, indent=2)
    few = Finder(text, first_line=5)
    assert few.locate("/data/3/id") == (4 + 5 + 4 * 3, 13)  # line 5 + 4n of the text, which starts on 5
    assert few.locate("/data/1999/name") == (4 + 3 + 4 * 1999, 5)  # missing: its object
    assert "locator" not in vars(few)  # neither built the full scan
    many = Finder(text, first_line=5)
    pointers = [f"/data/{n}/name" for n in range(0, 2000, 100)]
    assert [many.locate(pointer) for pointer in pointers] == [few.locate(pointer) for pointer in pointers]
    assert "locator" in vars(many)  # past two texts' worth of walking, the full scan answered the rest


def _texts() -> list[tuple[str, str, int]]:
    """(name, text, first line) of every example and, when present, of every document of the IMS corpus."""
    paths = sorted(EXAMPLES.rglob("*.json*"))
    paths += sorted(CORPUS.rglob("*.json")) if CORPUS.is_dir() else []
    texts = []
    for path in paths:
        content = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            texts += [(f"{path.name}:{n}", line, n) for n, line in enumerate(content.split("\n"), 1) if line]
        else:
            texts.append((path.name, content, 1))
    return texts


def test_the_walk_agrees_with_the_full_scan_on_real_documents() -> None:
    answered = 0
    for name, text, first_line in _texts():
        try:
            answered += _assert_agree(text, first_line, strict=_strict(text))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    assert answered > (20_000 if CORPUS.is_dir() else 500)


class Object(list[tuple[str, Any]]):
    """An object as its members in order, so that a key may repeat."""


class Literal(str):
    """A number written as is: NaN, Infinity, beyond a double."""


SPACES = ("", "", " ", "\n", "\t", "\r\n", "\n    ")
KEYS = st.sampled_from(["a", "b", "a/b", "~1", "~2", "m~n", "", "é"]) | st.text(max_size=4)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from([Literal("NaN"), Literal("-Infinity"), Literal("1e400")])
)
TREES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.lists(st.tuples(KEYS, children), max_size=4).map(Object)
    ),
    max_leaves=24,
)


def _string(value: str, rng: random.Random) -> str:
    """A JSON string literal, some characters written as ``\\u`` escapes (or ``\\/``)."""
    out = []
    for char in value:
        if char in '"\\' or char < " ":
            out.append(json.dumps(char)[1:-1])
        elif char == "/" and rng.random() < 0.5:
            out.append("\\/")
        elif rng.random() < 0.25 and ord(char) <= 0xFFFF:
            out.append(rng.choice(["\\u%04x", "\\u%04X"]) % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _render(node: Any, rng: random.Random) -> str:
    def space() -> str:
        return rng.choice(SPACES)

    if isinstance(node, Object):
        members = [
            f"{space()}{_string(k, rng)}{space()}:{space()}{_render(v, rng)}{space()}" for k, v in node
        ]
        return "{" + (",".join(members) or space()) + "}"
    if isinstance(node, list):
        return "[" + (",".join(f"{space()}{_render(item, rng)}{space()}" for item in node) or space()) + "]"
    if isinstance(node, Literal):
        return str(node)
    return _string(node, rng) if isinstance(node, str) else json.dumps(node)


def _repeats_a_key(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Object):
            if len({key for key, _ in item}) != len(item):
                return True
            stack += [value for _, value in item]
        elif isinstance(item, list):
            stack += item
    return False


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    TREES,
    TREES,
    st.randoms(use_true_random=False),
    st.sampled_from(["plain", "plain", "trailing", "truncated"]),
    st.integers(1, 4),
)
def test_the_walk_agrees_with_the_full_scan_on_any_text(
    tree: Any, other: Any, rng: random.Random, variant: str, first_line: int
) -> None:
    text = rng.choice(SPACES) + _render(tree, rng) + rng.choice(SPACES)
    if variant == "trailing":  # Locator reads on: the second value's members count for the first's
        text += rng.choice(SPACES) + _render(other, rng)
    elif variant == "truncated":
        text = text[: rng.randrange(len(text) + 1)]
    _assert_agree(text, first_line, strict=variant == "plain" and not _repeats_a_key(tree), thorough=True)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.text(alphabet=st.sampled_from('{}[]:,"\\ \nabc0-.eE~/\x00'), max_size=60),
    st.lists(st.sampled_from(["a", "b", "0", "1", "", "~1", "c"]), max_size=4),
)
def test_the_walk_reads_any_text(text: str, tokens: list[str]) -> None:
    pointer = "".join(f"/{token}" for token in tokens)
    offset = offset_of(text, pointer)
    assert Document(None, text).locate(pointer) == Locator(text).locate(pointer)
    assert offset is None or position(text, offset) == Locator(text).locate(pointer)
