"""Hostile and broken input: every payload gets a verdict within bounds, never a crash or a traceback."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliper_schema import Report, validate
from caliper_schema.policy import Limits, Policy
from tests.conftest import CONTEXT, EXAMPLES

ADDRESS_SPACE = 2 * 1024**3
VALID = (EXAMPLES / "valid" / "timeback-activity-event.json").read_bytes()


def _limited() -> None:  # in the child: 2 GiB of address space, as the issue bounds it
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def cli(*paths: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "caliper_schema", "validate", "--format", "json", *map(str, paths)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, preexec_fn=_limited, check=False
    )


def nested(depth: int) -> bytes:
    return (
        b'{"type": "Entity", "id": "https://x.example/1", "extensions": {"a": '
        + b"[" * depth
        + b"]" * depth
        + b"}}"
    )


HOSTILE: dict[str, tuple[bytes, str]] = {
    # file name: (content, the rule of the first error)
    "empty.json": (b"", "json.empty"),
    "latin1.json": ('{"type": "Événement"}'.encode("latin-1"), "json.encoding"),
    "duplicate.json": (b'{"type": "Event", "type": "Entity"}', "json.duplicate-key"),
    "nan.json": (b'{"type": "Event", "x": NaN}', "json.non-finite"),
    "infinity.json": (b'{"type": "Event", "x": -Infinity}', "json.non-finite"),
    "huge-float.json": (b'{"type": "Event", "x": 1e999}', "json.non-finite"),
    "huge-int.json": (b'{"type": "Event", "x": ' + b"9" * 5000 + b"}", "json.non-finite"),
    "surrogate.json": (b'{"type": "Event", "name": "\\ud800"}', "json.surrogate"),
    "trailing.json": (b'{"type": "Event"} {"type": "Event"}', "json.trailing-data"),
    "scalar.json": (b"42", "document.not-an-object"),
    "array.json": (b"[]", "document.not-an-object"),
    "null.json": (b"null", "document.not-an-object"),
    "binary.json": (bytes(range(256)) * 64, "json.encoding"),
    "deep.json": (nested(200_000), "limit.depth"),
    "long-string.json": (b'{"type": "Event", "name": "' + b"x" * (20 * 1024 * 1024) + b'"}', "limit.size"),
}


@pytest.mark.slow
def test_each_hostile_file_gets_a_clear_verdict_within_bounds(tmp_path: Path) -> None:
    paths = []
    for name, (content, _) in HOSTILE.items():
        (tmp_path / name).write_bytes(content)
        paths.append(tmp_path / name)
    result = cli(*paths)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    first_rules = {
        Path(entry["path"]).name: entry["errors"][0]["rule"] for entry in json.loads(result.stdout)["files"]
    }
    assert first_rules == {name: rule for name, (_, rule) in HOSTILE.items()}


@pytest.mark.slow
def test_an_envelope_of_200000_items_is_answered_within_bounds(tmp_path: Path) -> None:
    envelope = json.loads(VALID) | {"data": [{"type": "Event"}] * 200_000}  # 3.4 MB of broken events
    target = tmp_path / "huge-envelope.json"
    target.write_text(json.dumps(envelope))
    result = cli(target, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = json.loads(result.stdout)["files"][0]["errors"]
    rules = {(e["rule"], e["pointer"]) for e in errors}
    assert ("limit.items", "/data") in rules and errors[-1]["rule"] == "limit.issues" and len(errors) == 201
    # The first 10,000 items are each judged: 5 missing properties (id, actor, action, object, eventTime)
    # and one warning (no @context) each, plus limit.items: 50,001 errors and 10,000 warnings, 200 shown.
    assert errors[-1]["message"] == (
        "59801 more issues not shown (49801 errors, 10000 warnings), in 10000 items"
    )


def test_item_and_issue_limits_are_reported_and_counted() -> None:
    event = json.loads(VALID)["data"][0]
    envelope = json.loads(VALID) | {
        "data": [dict(event, id=f"urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-{n:012x}") for n in range(30)]
    }
    report = validate(envelope, policy=Policy(limits=Limits(max_items=25)))
    assert [(i.rule, i.pointer) for i in report.errors] == [("limit.items", "/data")]
    broken = envelope | {"data": [dict(event, id="nope") for _ in range(30)]}
    report = validate(broken, policy=Policy(limits=Limits(max_issues=10)))
    # Every item is judged: 30 caliper.event-id errors, one an item, and 29 caliper.duplicate-event-id (each
    # later "nope" repeats the first): 59 errors. The first 10 found are shown (items 0-9's event-id); the
    # 49 others are about items 1-29 (each repeats the id) and 10-29 (their event-id): 29 items.
    assert len(report.errors) == 11 and report.errors[-1].rule == "limit.issues"
    assert report.errors[-1].message == "49 more issues not shown (49 errors, 0 warnings), in 29 items"
    assert [(issue.rule, issue.pointer) for issue in report.errors[:10]] == [
        ("caliper.event-id", f"/data/{n}/id") for n in range(10)
    ]
    assert (report.error_count, report.hidden_errors, report.status) == (59, 49, "error")


def test_string_and_depth_limits_point_at_the_value() -> None:
    long_name = {"type": "Entity", "id": "https://x.example/1", "name": "x" * 2000}
    [issue] = validate(json.dumps(long_name), policy=Policy(limits=Limits(max_string=1000))).errors
    assert (issue.rule, issue.pointer) == ("limit.string", "/name")
    deep = {"type": "Entity", "id": "https://x.example/1", "extensions": {"a": [[[[[1]]]]]}}
    [issue] = validate(json.dumps(deep), policy=Policy(limits=Limits(max_depth=4))).errors
    assert (issue.rule, issue.pointer) == ("limit.depth", "/extensions/a/0/0/0")


def test_json_lines_with_blank_lines_crlf_and_broken_lines(tmp_path: Path) -> None:
    good = json.dumps(json.loads(VALID)).encode()
    target = tmp_path / "mixed.jsonl"
    target.write_bytes(good + b"\r\n\r\n" + b'{"type": \r\n' + b"\xff\xfe\r\n" + b"   \n" + good + b"\r\n")
    result = cli(target)
    [entry] = json.loads(result.stdout)["files"]
    assert [(e["line"], e["rule"]) for e in entry["errors"]] == [(3, "json.syntax"), (4, "json.encoding")]
    assert result.returncode == 1


def test_a_file_that_vanishes_or_cannot_be_read_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")
    (tmp_path / "folder.json").mkdir()
    good = tmp_path / "good.json"
    good.write_bytes(VALID)
    result = cli(tmp_path / "dangling.json", tmp_path / "folder.json" / "x.json", good)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "dangling.json" in result.stderr and "No such file or directory" in result.stderr
    statuses = [entry["status"] for entry in json.loads(result.stdout)["files"]]
    assert statuses == ["error", "error", "success"]


# --- fuzzing: whatever comes in, a Report comes out ----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = list(document) if isinstance(document, list) else dict(document)
    copy[path[0]] = _replace(document[path[0]], path[1:], value)
    return copy


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _answers(run: Callable[[], Report]) -> None:
    report = run()
    assert isinstance(report, Report)
    assert report.status in ("success", "error")
    json.dumps(report.to_response())  # the report itself is always serialisable


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_get_a_report(data: bytes) -> None:
    _answers(lambda: validate(data))
    _answers(lambda: validate(data, lines=True))


@FUZZ
@given(json_values)
def test_any_json_value_gets_a_report(value: Any) -> None:
    _answers(lambda: validate(json.dumps(value)))
    if isinstance(value, dict):
        _answers(lambda: validate(value))


@FUZZ
@given(st.data())
def test_any_mutation_of_a_valid_envelope_gets_a_report(data: st.DataObject) -> None:
    document = json.loads(VALID)
    path = data.draw(st.sampled_from(_paths(document)))
    mutated = _replace(document, path, data.draw(json_values))
    _answers(lambda: validate(mutated))
    _answers(lambda: validate(json.dumps(mutated)))


@FUZZ
@given(st.text(alphabet=st.sampled_from('{}[]:,"\\ \nabc0-.eE\x00'), max_size=200))
def test_the_locator_reads_any_text(text: str) -> None:
    from caliper_schema.locating import Locator

    locator = Locator(text)
    locator.locate("/a/0")
    assert all(offset <= len(text) for offset in locator.values.values())


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.binary(max_size=512))
def test_the_cli_never_prints_a_traceback(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    import io

    from caliper_schema.cli import main

    target = tmp_path_factory.mktemp("fuzz") / "payload.json"
    target.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", "--format", "json", str(target)], stdout=out, stderr=err) in (0, 1)
    json.loads(out.getvalue())


# --- regular expressions: no catastrophic backtracking ---------------------------------------------------


def _patterns() -> list[str]:
    from caliper_schema.locating import walk
    from caliper_schema.registry import load

    nodes = (node for _, node in walk(list(load().schemas.values())) if isinstance(node, dict))
    return sorted({node["pattern"] for node in nodes if isinstance(node.get("pattern"), str)})


def _nested_unbounded_repeat(pattern: str) -> bool:
    """True when an unbounded repeat contains another unbounded repeat (star height > 1)."""
    import re._constants as c  # the private parser is the only way to see a pattern's structure
    import re._parser as parser

    def children(op: Any, argument: Any) -> list[Any]:
        return [argument[-1]] if op == c.SUBPATTERN else list(argument[1]) if op == c.BRANCH else []

    def walk(items: Any, inside_repeat: bool) -> bool:
        for op, argument in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                _, high, body = argument
                unbounded = high == c.MAXREPEAT or high > 1
                if (unbounded and inside_repeat) or walk(body, inside_repeat or unbounded):
                    return True
            if any(walk(child, inside_repeat) for child in children(op, argument)):
                return True
        return False

    return walk(parser.parse(pattern), False)


def test_the_checker_detects_nested_repeats() -> None:
    assert _nested_unbounded_repeat(r"^(a+)+$") and _nested_unbounded_repeat(r"^(?:[a-z]*,)*$")
    assert not _nested_unbounded_repeat(r"^P(?:[0-9]+Y)?(?:[0-9]+M)?$")


@pytest.mark.parametrize("pattern", _patterns())
def test_schema_patterns_cannot_backtrack_catastrophically(pattern: str) -> None:
    assert not _nested_unbounded_repeat(pattern), pattern


def test_patterns_were_found() -> None:
    assert len(_patterns()) >= 3


# --- one process, thousands of files ---------------------------------------------------------------------


@pytest.mark.slow
def test_thousands_of_files_in_one_process_do_not_leak(tmp_path: Path) -> None:
    import io
    import tracemalloc

    from caliper_schema.cli import main

    for n in range(1500):
        (tmp_path / f"{n:04}.json").write_bytes(VALID if n % 3 else VALID.replace(b"Reading", b"Readin"))
    first = sorted(tmp_path.iterdir())[:500]
    main(["validate", *map(str, first)], stdout=io.StringIO(), stderr=io.StringIO())  # warm every cache
    tracemalloc.start()
    main(["validate", *map(str, first)], stdout=io.StringIO(), stderr=io.StringIO())
    after_500 = tracemalloc.get_traced_memory()[0]
    main(["validate", str(tmp_path)], stdout=io.StringIO(), stderr=io.StringIO())
    after_1500 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_1500 - after_500 < 2 * 1024**2, (after_500, after_1500)


def test_context_constant() -> None:
    assert CONTEXT.endswith("/v1p2") and os.sep


def test_an_invalid_item_past_the_issue_cap_still_fails_the_document() -> None:
    """The cap limits what is shown, never what is judged: an error after more warnings than the cap is
    shown (errors come first), and the warnings it pushes out are counted."""
    event = json.loads(VALID)["data"][0] | {"eventTime": "2025-07-22T21:25:40Z"}  # a datetime-form warning
    warned = [dict(event, id=f"urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-{n:012x}") for n in range(14)]
    late_error = dict(warned.pop(), eventTime="soon")
    untyped = {key: value for key, value in warned.pop().items() if key != "type"}
    cases = [
        (late_error, ("/data/12/eventTime", "schema.format")),
        (untyped, ("/data/12/type", "document.missing-type")),
    ]
    for last, (pointer, rule) in cases:
        envelope = json.loads(VALID) | {"data": [*warned, last]}
        report = validate(envelope, policy=Policy(limits=Limits(max_issues=10)))
        assert report.status == "error"
        assert (pointer, rule) in [(i.pointer, i.rule) for i in report.errors]
        assert report.issues[-1].rule == "limit.issues" and report.hidden_warnings > 0
