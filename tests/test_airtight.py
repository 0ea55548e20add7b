"""Airtight verdicts: no false pass, no traceback, bounded memory on any input, output that cannot be forged.

One section for each class of input that broke the validator's promises (issue 12); each test asserts the
exit status, that nothing was printed that a user should not see (a traceback), and where it matters the
pointer and rule of the issue, or the peak memory of the process under ``prlimit --as``.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caliper_schema import Issue, Limits, Policy, Report, validate
from caliper_schema.cli import main
from caliper_schema.policy import DEEPEST
from tests.clirun import MIB, run_cli, run_shell, without_privilege
from tests.conftest import EXAMPLES

ENVELOPE = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
EVENT = ENVELOPE["data"][0]
GENERIC = (EXAMPLES / "valid" / "caliper-generic-event.json").read_bytes()  # valid, one warning


def event(n: int, **changes: Any) -> dict[str, Any]:
    """The valid Timeback event with its own id, and ``changes``."""
    return {**EVENT, "id": f"urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-{n:012x}", **changes}


def envelope(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {**ENVELOPE, "data": events}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def shown(report: Report) -> list[Issue]:
    return [issue for issue in report.issues if issue.rule != "limit.issues"]


# --- 1. no false pass: the cap limits what is shown, never what is judged ------------------------------

NO_MILLISECONDS = "2024-01-01T00:00:00Z"  # a caliper.datetime-form warning


def test_an_error_after_201_warnings_fails_the_envelope(tmp_path: Path) -> None:
    events = [event(n, eventTime=NO_MILLISECONDS) for n in range(201)] + [event(201, action="Exploded")]
    target = tmp_path / "late-error.json"
    target.write_text(json.dumps(envelope(events)))
    status, out, err = cli("validate", "--format", "json", str(target))
    assert status == 1 and "Traceback" not in err
    [entry] = json.loads(out)["files"]
    assert entry["status"] == "error"
    assert [(e["pointer"], e["rule"]) for e in entry["errors"]] == [("/data/201/action", "schema.const")]
    # 201 warnings, of which 199 fit beside the error: 2 are counted, in 2 items.
    notice = entry["warnings"][-1]
    assert notice["rule"] == "limit.issues"
    assert notice["message"] == "2 more issues not shown (0 errors, 2 warnings), in 2 items"
    report = validate(envelope(events))
    assert (report.status, report.error_count, report.warning_count) == ("error", 1, 201)


def test_every_item_of_an_envelope_is_judged_and_what_is_hidden_is_counted() -> None:
    # Each of 300 events has exactly two errors: an action ActivityEvent does not allow, and an eventTime
    # that is no date-time.
    events = [event(n, action="Exploded", eventTime="yesterday") for n in range(300)]
    report = validate(envelope(events))
    assert report.status == "error" and report.error_count == 600 and report.hidden_errors == 400
    assert len(shown(report)) == 200
    assert report.errors[-1].message == "400 more issues not shown (400 errors, 0 warnings), in 200 items"
    # The first 100 events' two errors are shown (in the order they were found), every later one counted.
    assert {issue.pointer.split("/")[2] for issue in shown(report)} == {str(n) for n in range(100)}
    assert report.message == "The payload is invalid: 600 errors."


def test_a_json_lines_file_shows_its_errors_first_and_counts_the_rest(tmp_path: Path) -> None:
    lines = [json.dumps(event(n, eventTime=NO_MILLISECONDS)) for n in range(300)]
    lines.append(json.dumps(event(300, action="Exploded")))
    target = tmp_path / "late-error.jsonl"
    target.write_text("\n".join(lines) + "\n")
    status, out, _ = cli("validate", "--format", "json", str(target))
    [entry] = json.loads(out)["files"]
    assert status == 1 and entry["status"] == "error"
    assert [(e["line"], e["pointer"], e["rule"]) for e in entry["errors"]] == [
        (301, "/action", "schema.const")
    ]
    assert len(entry["warnings"]) == 200  # 199 warnings and the notice: the cap is per file
    assert (
        entry["warnings"][-1]["message"] == "101 more issues not shown (0 errors, 101 warnings), in 101 items"
    )


MUTATIONS: dict[str, dict[str, Any]] = {
    "valid": {},
    "bad action": {"action": "Exploded"},
    "bad time": {"eventTime": "yesterday"},
    "short time": {"eventTime": NO_MILLISECONDS},
    "unknown property": {"colour": "red"},
    "bad id": {"id": "nope"},
    "subject": {"object": {**EVENT["object"], "subject": "Maths"}},
    "time and subject": {"eventTime": "yesterday", "object": {**EVENT["object"], "subject": "Maths"}},
}


GRADINGS: list[dict[str, Any]] = [
    {},
    {"schema.const": "off"},
    {"caliper.datetime-form": "off"},
    {"schema.unknown-property": "off"},
    {"schema.const": "warning"},
    {"schema.enum": "warning", "schema.format": "off"},
    {"caliper.datetime-form": "error"},
    {"schema.format": "warning"},
]


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=30),
    cap=st.integers(1, 12),
    grading=st.sampled_from(GRADINGS),
    strict=st.booleans(),
    lines=st.booleans(),
)
@example(  # a schema error re-graded to a warning, found before an error: the error is shown, hint and all
    kinds=["time and subject"], cap=1, grading={"schema.format": "warning"}, strict=False, lines=False
)
def test_a_capped_report_is_the_full_report_cut_short(
    kinds: list[str], cap: int, grading: dict[str, Any], strict: bool, lines: bool
) -> None:
    """Whatever the cap and the policy: the same verdict and counts as with no cap; what is shown is shown
    exactly as the full report shows it (hints included); the closing issue counts exactly the rest and
    their items."""
    events = [event(n, **MUTATIONS[kind]) for n, kind in enumerate(kinds)]
    payload: bytes = (
        b"\n".join(json.dumps(each).encode() for each in events)
        if lines
        else json.dumps(envelope(events)).encode()
    )
    full = validate(payload, lines=lines, policy=Policy(strict=strict, severities=grading))
    capped = validate(
        payload, lines=lines, policy=Policy(strict=strict, severities=grading, limits=Limits(max_issues=cap))
    )
    assert all(issue.rule != "limit.issues" for issue in full.issues)
    assert (capped.status, capped.error_count, capped.warning_count) == (
        full.status, full.error_count, full.warning_count,
    )  # fmt: skip
    visible = shown(capped)
    assert len(visible) == min(cap, len(full.issues))
    assert set(visible) <= set(full.issues)
    hidden = [issue for issue in full.issues if issue not in set(visible)]
    assert capped.hidden_errors == sum(issue.severity == "error" for issue in hidden)
    assert capped.hidden_warnings == sum(issue.severity == "warning" for issue in hidden)
    errors_first = sorted(full.issues, key=lambda issue: issue.severity != "error")
    assert sum(i.severity == "error" for i in visible) == sum(
        i.severity == "error" for i in errors_first[:cap]
    )
    if hidden:
        items = {_item(issue, lines) for issue in hidden}
        notice = capped.issues[-1] if capped.issues[-1].rule == "limit.issues" else None
        assert notice is not None and notice.message.endswith(
            f"in {len(items)} item{'s' * (len(items) != 1)}"
        )
    else:
        assert len(capped.issues) == len(visible)


def _item(issue: Issue, lines: bool) -> tuple[int | None, str | None]:
    """The event an issue is about: its line in JSON Lines, its index in an envelope's data."""
    match = re.match(r"/data/(\d+)", issue.pointer)
    return (issue.line if lines else None), (None if lines or not match else match.group(1))


# --- 2. no traceback on small inputs: nesting, surrogates ----------------------------------------------

THRESHOLDS = (64, DEEPEST, 254, 255, 990, 1023, 1024)
"""The default depth limit, the deepest any limit may be, orjson's writer (254 levels), Python's own
parser (its recursion limit), orjson's reader (1024 levels)."""
depths = st.sampled_from(THRESHOLDS).flatmap(lambda at: st.integers(at - 3, at + 3))


def _objects(depth: int) -> str:
    """An object nested ``depth`` members deep: its innermost {} is ``depth`` keys from the root."""
    return '{"a": ' * depth + "{}" + "}" * depth


def _expected_depth_issue(depth: int, limit: int = 64) -> tuple[str, str] | None:
    if depth <= limit:
        return None
    # Within what a parser may be given, the walk names the first value past the limit; beyond it, no
    # parser sees the text and the issue is the document's.
    return "limit.depth", "/a" * (limit + 1) if depth + 1 <= DEEPEST + 1 else ""


@settings(max_examples=80, deadline=None, derandomize=True)
@given(depth=depths, as_text=st.booleans())
def test_any_nesting_gets_a_verdict_not_a_traceback(depth: int, as_text: bool) -> None:
    text = _objects(depth)
    report = validate(text if as_text else text.encode())
    expected = _expected_depth_issue(depth)
    found = [(i.rule, i.pointer) for i in report.errors if i.rule == "limit.depth"]
    assert found == ([expected] if expected else [])
    orjson.dumps(report.to_response())


@settings(max_examples=40, deadline=None, derandomize=True)
@given(depth=depths)
def test_a_deep_line_of_json_lines_hides_no_other_line(depth: int) -> None:
    lines = b'{"type": "Event"}\n' + b"[" * depth + b"]" * depth + b'\n{"type": "Nope"}\n'
    report = validate(lines, lines=True)
    rules = {(issue.line, issue.rule) for issue in report.errors}
    assert (1, "schema.required") in rules and (3, "document.unknown-type") in rules
    assert ((2, "limit.depth") in rules) == (depth - 1 > 64)


def test_a_callers_deep_value_gets_a_verdict() -> None:
    for depth in (63, 64, 65, 254, 255, 1023, 1024, 5000):
        value: Any = {}
        for _ in range(depth):
            value = {"a": value}
        expected = _expected_depth_issue(depth)
        found = [(i.rule, i.pointer) for i in validate(value).errors if i.rule == "limit.depth"]
        # A value given by a caller is walked (never parsed): the pointer is always the walk's.
        assert found == ([("limit.depth", "/a" * 65)] if expected else []), depth


@pytest.mark.parametrize("depth", [255, 1023])
def test_the_command_line_answers_deep_nesting(tmp_path: Path, depth: int) -> None:
    (tmp_path / "deep.json").write_bytes(b"[" * depth + b"]" * depth)  # 510 to 2046 bytes
    lines = b'{"type": "Event"}\n' + b"[" * depth + b"]" * depth + b"\n"
    (tmp_path / "deep.jsonl").write_bytes(lines)
    status, out, err = cli("validate", "--format", "json", str(tmp_path))
    assert status == 1 and "Traceback" not in err
    files = {Path(entry["path"]).name: entry for entry in json.loads(out)["files"]}
    assert [(e["pointer"], e["rule"]) for e in files["deep.json"]["errors"]] == [("", "limit.depth")]
    line_rules = {(e["line"], e["rule"]) for e in files["deep.jsonl"]["errors"]}
    assert {(1, "schema.required"), (2, "limit.depth")} <= line_rules


SURROGATE_KEYS = ['{"type": "Event", "\\ud800": 1}', '{"type": "Event", "\\udcff": 1}']


@pytest.mark.parametrize("text", SURROGATE_KEYS)
@pytest.mark.parametrize("form", ["escaped", "raw str"])
def test_a_lone_surrogate_key_is_an_issue_every_format_can_write(text: str, form: str) -> None:
    # As written in a file (the \\u escape), or as the surrogate itself in a str a caller passes.
    raw = text.replace("\\ud800", "\ud800").replace("\\udcff", "\udcff")
    report = validate(text.encode() if form == "escaped" else raw)
    [issue] = report.errors
    assert issue.rule == "json.surrogate" and re.fullmatch(r"/\\ud[89a-f][0-9a-f]{2}", issue.pointer)
    orjson.loads(orjson.dumps(report.to_response()))  # strict UTF-8 and strict JSON, both ways


def test_lone_surrogate_keys_reach_every_output_format_escaped(tmp_path: Path) -> None:
    for n, text in enumerate(SURROGATE_KEYS):
        (tmp_path / f"s{n}.json").write_text(text)
    for form in ("text", "json", "github"):
        run = run_cli("validate", "--format", form, str(tmp_path), cwd=tmp_path)
        assert run.status == 1 and run.clean(), run.err
        run.out.decode("utf-8")  # strict: no raw 0xFF, no encoded surrogate
        assert b"\\ud800" in run.out and b"\\udcff" in run.out
        if form == "json":
            orjson.loads(run.out)


# --- 3. bounded memory and time: devices, pipes, endless and long lines --------------------------------

PEAK = 200 * MIB
"""What one run may hold at most: a 16 MiB document read, parsed and refused, and Python itself (~60 MiB
measured); the address space is limited to 1 GiB besides."""


@pytest.mark.slow
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_read_no_further_than_the_limit(device: str, tmp_path: Path) -> None:
    run = run_cli("validate", "--format", "json", device, cwd=tmp_path)
    assert run.status == 1 and run.clean(), run.err
    [entry] = json.loads(run.out)["files"]
    [issue] = entry["errors"]
    assert (issue["rule"], issue["pointer"]) == ("limit.size", "")
    assert issue["message"].startswith("more than 16,777,216 bytes")
    assert run.peak < PEAK, run.peak


@pytest.mark.slow
def test_endless_standard_input_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    with Path("/dev/zero").open("rb") as zeros:
        run = run_cli("validate", "--format", "json", "-", stdin=zeros, cwd=tmp_path)
    assert run.status == 1 and run.clean(), run.err
    assert json.loads(run.out)["files"][0]["errors"][0]["rule"] == "limit.size"
    assert run.peak < PEAK, run.peak


@pytest.mark.slow
def test_an_endless_configuration_is_a_clean_error(tmp_path: Path) -> None:
    run = run_cli("validate", "--config", "/dev/zero", str(EXAMPLES / "valid"), cwd=tmp_path)
    assert run.status == 2 and run.clean() and run.out == b""
    assert (
        run.err
        == "caliper-schema: /dev/zero: more than 1,048,576 bytes, too large for a configuration file\n"
    )
    assert run.peak < PEAK, run.peak


@pytest.mark.slow
def test_a_one_gigabyte_line_is_passed_over_in_bounded_memory(tmp_path: Path) -> None:
    target = tmp_path / "huge-line.jsonl"
    with target.open("wb") as stream:  # sparse: 1 GB of NUL without a newline costs no disk
        stream.seek(10**9)
        stream.write(b"\n" + json.dumps(event(1)).encode() + b'\n{"type": "Nope"}\n')
    run = run_cli("validate", "--format", "json", str(target), cwd=tmp_path)
    assert run.status == 1 and run.clean(), run.err
    [entry] = json.loads(run.out)["files"]
    found = [(e["line"], e["rule"], e["message"]) for e in entry["errors"]]
    assert found[0] == (1, "limit.size", "1,000,000,000 bytes; the limit is 16,777,216")
    # line 2 is valid; line 3 is of no known type and has no id (what every entity must have)
    assert [(line, rule) for line, rule, _ in found[1:]] == [
        (3, "schema.required"),
        (3, "document.unknown-type"),
    ]
    assert run.peak < PEAK, run.peak


@pytest.mark.slow
def test_a_long_line_on_standard_input_is_bounded_while_it_is_read(tmp_path: Path) -> None:
    script = "head -c 300000000 /dev/zero | tr '\\0' x | prlimit --as=1073741824 $CS validate --jsonl -"
    result = run_shell(script, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert '<stdin>:1:1: error limit.size "" 300,000,000 bytes; the limit is 16,777,216' in result.stdout


@pytest.mark.slow
def test_issues_of_many_junk_lines_are_counted_in_constant_memory(tmp_path: Path) -> None:
    target = tmp_path / "junk.jsonl"
    target.write_bytes(b"x\n" * 200_000)
    run = run_cli("validate", "--format", "json", str(target), cwd=tmp_path)
    assert run.status == 1 and run.clean(), run.err
    [entry] = json.loads(run.out)["files"]
    assert len(entry["errors"]) == 201 and entry["errors"][-1]["rule"] == "limit.issues"
    assert entry["errors"][-1]["message"] == (
        "199800 more issues not shown (199800 errors, 0 warnings), in 199800 items"
    )
    assert run.peak < 120 * MIB, run.peak


# --- 4. I/O errors never pass ---------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    """root/ with a valid file, a locked folder holding an invalid file, a folder without search
    permission and a sibling after it, a linked folder and a link back up."""
    root.mkdir()
    (root / "a-good.json").write_bytes(GENERIC)
    for name in ("b-locked", "c-unsearchable", "d-sibling", "real"):
        (root / name).mkdir()
    (root / "b-locked" / "bad.json").write_text('{"type": "Nope"}')
    (root / "c-unsearchable" / "bad.json").write_text('{"type": "Nope"}')
    (root / "d-sibling" / "bad.json").write_text('{"type": "Nope"}')
    (root / "real" / "linked-bad.json").write_text('{"type": "Nope"}')
    (root / "e-link").symlink_to(root / "real", target_is_directory=True)
    (root / "real" / "loop").symlink_to(root, target_is_directory=True)
    (root / "f-dangling.json").symlink_to(root / "gone.json")
    (root / "b-locked").chmod(0o000)
    (root / "c-unsearchable").chmod(0o600)  # listable, but no entry can be opened
    return root


@pytest.mark.slow
def test_unreadable_folders_are_io_errors_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    root = _tree(tmp_path / "tree")
    try:
        run = run_cli("validate", "--format", "json", str(root), cwd=tmp_path, prefix=without_privilege())
    finally:
        (root / "b-locked").chmod(0o755)
        (root / "c-unsearchable").chmod(0o755)
    assert run.status == 2 and run.clean(), run.err
    entries = {str(Path(entry["path"]).relative_to(root)): entry for entry in json.loads(run.out)["files"]}
    rules = {path: [e["rule"] for e in entry["errors"]] for path, entry in entries.items()}
    assert rules == {
        "a-good.json": [],
        "b-locked": ["io.unreadable"],
        "c-unsearchable/bad.json": ["io.unreadable"],
        "d-sibling/bad.json": ["schema.required", "document.unknown-type"],  # no id, no known type
        "e-link/linked-bad.json": [
            "schema.required",
            "document.unknown-type",
        ],  # followed; real/ is the same folder: once
        "f-dangling.json": ["io.unreadable"],
    }
    for unread in ("b-locked", "c-unsearchable/bad.json", "f-dangling.json"):
        assert str(root / unread) in run.err
    assert "Permission denied" in entries["b-locked"]["errors"][0]["message"]


@pytest.mark.slow
def test_an_unreadable_folder_named_on_the_command_line_is_exit_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "bad.json").write_text('{"type": "Nope"}')
    locked.chmod(0o000)
    try:
        run = run_cli("validate", str(locked), cwd=tmp_path, prefix=without_privilege())
    finally:
        locked.chmod(0o755)
    assert run.status == 2 and run.clean()
    assert f"cannot read '{locked}': cannot list this folder: Permission denied" in run.err
    assert run.text.endswith("1 file checked: 0 valid, 0 invalid, 1 unreadable (1 error, 0 warnings)\n")


def test_a_pipe_in_a_folder_is_reported_not_waited_for(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "events.jsonl")
    (tmp_path / "ok.json").write_bytes(GENERIC)
    status, _, err = cli("validate", str(tmp_path))
    assert status == 2 and "not a regular file" in err and str(tmp_path / "events.jsonl") in err


# --- 5. output failures: honest exit status, never a traceback ------------------------------------------


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    for n in range(1500):  # ~100 KB of report: more than a pipe holds, so writing meets the closed end
        (folder / f"{n:04}.json").write_text('{"type": "Event"}')
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("form", ["text", "json", "github"])
def test_a_broken_pipe_never_turns_a_failure_into_success(bad_folder: Path, form: str) -> None:
    result = run_shell(f"$CS validate --format {form} bad | head -n 1", cwd=bad_folder.parent)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""  # quiet: no traceback, no "Exception ignored"


@pytest.mark.slow
def test_a_broken_pipe_after_valid_files_is_still_the_verdict(tmp_path: Path) -> None:
    folder = tmp_path / "good"
    folder.mkdir()
    for n in range(1500):
        (folder / f"{n:04}.json").write_bytes(GENERIC)
    result = run_shell("$CS validate good | head -n 1", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    (folder / "zzzz.json").write_text('{"type": "Nope"}')  # checked after the reader has gone
    result = run_shell("$CS validate good | head -n 1", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")


@pytest.mark.slow
@pytest.mark.parametrize(("redirect", "reason"), [(">&-", "standard output is closed"),
                                                  ("> /dev/full", "No space left on device")])  # fmt: skip
def test_a_closed_or_full_standard_output_is_an_io_error(
    bad_folder: Path, redirect: str, reason: str
) -> None:
    for form in ("text", "json"):
        result = run_shell(f"$CS validate --format {form} bad {redirect}", cwd=bad_folder.parent)
        assert (
            result.returncode == 2 and "Traceback" not in result.stderr and "Exception" not in result.stderr
        )
        [line] = result.stderr.splitlines()
        assert line.startswith("caliper-schema: ") and reason in line


ACCENTED = '{"type": "Événement", "sujet": "Lecture \\u2192 Maths"}'


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"PYTHONIOENCODING": "latin-1"},
     {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}],
    ids=["ascii", "latin-1", "C locale"],
)  # fmt: skip
def test_output_works_in_any_locale_and_encoding(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "accented.json").write_text(ACCENTED, encoding="utf-8")
    for form in ("text", "json", "github"):
        run = run_cli("validate", "--format", form, "accented.json", cwd=tmp_path, env=env)
        assert run.status == 1 and run.clean(), run.err
        if form == "json":
            [entry] = json.loads(run.out)["files"]  # ASCII with \u escapes where the stream is not UTF-8
            [unknown] = [issue for issue in entry["errors"] if issue["rule"] == "document.unknown-type"]
            assert unknown["message"].startswith("'Événement' is not a Caliper type")
        else:
            assert "is not a Caliper type" in run.out.decode("latin-1")


# --- 6. output cannot be forged: names and values are escaped for their format --------------------------

FORGING_KEYS = [
    "x\n::error file=x.json,line=1::injected",
    "x\r\n::warning::injected",
    "\x1b[2J\x1b[31mred",
    "a\u202eb",  # right-to-left override
    "a\u2028b",  # line separator
]


def _forging_file(folder: Path, name: str = "forged.json") -> Path:
    target = folder / name
    person = {"@context": ENVELOPE["dataVersion"], "type": "Person", "id": "https://x.example/1"}
    target.write_text(json.dumps({**person, **dict.fromkeys(FORGING_KEYS, 1)}))
    return target


def test_text_output_is_one_line_an_issue_whatever_the_keys(tmp_path: Path) -> None:
    status, out, _ = cli("validate", str(_forging_file(tmp_path)))
    assert status == 1
    lines = out.splitlines()
    issue_lines = [line for line in lines if not line.startswith("    hint: ")]
    assert len(issue_lines) == len(FORGING_KEYS) + 1  # one schema.unknown-property a key, and the summary
    assert all(line.startswith(str(tmp_path / "forged.json") + ":") for line in issue_lines[:-1])
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e\u2028]", out)
    assert "/x\\n::error file=x.json,line=1::injected" in out and "/\\x1b[2J\\x1b[31mred" in out


def test_github_annotations_cannot_be_forged(tmp_path: Path) -> None:
    folder = tmp_path / "odd, name: 100%"
    folder.mkdir()
    target = _forging_file(folder, "new\nline.json")
    status, out, _ = cli("validate", "--format", "github", str(target))
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == len(FORGING_KEYS) + 1
    for line in lines[:-1]:
        match = re.fullmatch(
            r"::error file=([^,:]*),line=\d+,col=\d+,title=schema\.unknown-property::(.*)", line
        )
        assert match, line
        assert match.group(1) == str(target).replace("%", "%25").replace("\n", "%0A").replace(
            ",", "%2C"
        ).replace(":", "%3A")
        assert "\x1b" not in line and "\r" not in line


def test_json_output_is_valid_utf8_whatever_the_file_names(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad-\xff-name.json")  # a file name that is not UTF-8
    (tmp_path / name).write_text('{"type": "Nope"}')
    _forging_file(tmp_path)
    run = run_cli("validate", "--format", "json", str(tmp_path), cwd=tmp_path)
    assert run.status == 1 and run.clean()
    document = orjson.loads(run.out)  # strict UTF-8
    paths = sorted(Path(entry["path"]).name for entry in document["files"])
    assert paths == ["bad-\\udcff-name.json", "forged.json"]
    pointers = {e["pointer"] for entry in document["files"] for e in entry["errors"]}
    assert "/x\n::error file=x.json,line=1::injected" in pointers  # JSON escapes it; the value is intact


HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What never reaches text or GitHub output raw: controls but the newline, separators, overrides,
surrogates."""
any_key = st.text(st.characters(codec=None, categories=None), max_size=12)  # surrogates and controls too


def _formats(target: Path) -> dict[str, tuple[int, str]]:
    """Each format's exit status and output, written through a strict UTF-8 stream."""
    results = {}
    for form in ("json", "text", "github"):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
        status = main(["validate", "--format", form, str(target)], stdout=stream, stderr=io.StringIO())
        stream.flush()
        results[form] = status, raw.getvalue().decode("utf-8")
    return results


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(keys=st.lists(any_key, min_size=1, max_size=4, unique=True), escaped=st.booleans())
def test_no_key_can_forge_a_line_in_any_format(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str], escaped: bool
) -> None:
    document = {"type": "Person", "id": "https://x.example/1", **dict.fromkeys(keys, 1)}
    target = tmp_path_factory.mktemp("keys") / "keys.json"
    # As escapes (ASCII), or written raw, lone surrogates as the bytes a lax encoder would write.
    target.write_bytes(json.dumps(document, ensure_ascii=escaped).encode("utf-8", "surrogatepass"))
    results = _formats(target)
    status, out = results["json"]
    assert status == 1  # no payload here is valid: missing @context aside, it is a Person with extras
    [entry] = orjson.loads(out.encode())["files"]
    issues = entry["errors"] + entry["warnings"]
    hints = sum("hint" in issue for issue in issues)
    for form, lines in (("text", len(issues) + hints + 1), ("github", len(issues) + 1)):
        again, text = results[form]
        assert again == status and len(text.splitlines()) == lines and not HIDDEN.search(text), text


# --- 7. configuration: any malformed shape is a clean error, only rules that exist ----------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('tool = "x"\n', "tool is a table ([tool]), not a string"),
        ("[[tool]]\nname = 1\n", "tool is a table ([tool]), not an array"),
        ("tool = 3\n", "tool is a table ([tool]), not an integer"),
        ("[[tool.caliper-schema]]\nstrict = true\n", "[tool.caliper-schema] is a table, not an array"),
        ('[tool]\ncaliper-schema = "strict"\n', "[tool.caliper-schema] is a table, not a string"),
        ("[tool.caliper-schema]\nlimits = [1]\n", "limits is a table"),
        ("[tool.caliper-schema.limits]\nmax-depth = 1.5\n", "max_depth is a whole number >= 1"),
        ("[tool.caliper-schema.limits]\nmax-depth = 500\n", "max_depth is at most 200"),
        ("[tool.caliper-schema]\nseverity = []\n", "severity is a table"),
        ("[tool.caliper-schema]\ndisable = [1]\n", "a rule id is a string"),
        ('\xff = 1\n', "not valid TOML"),
    ],
)  # fmt: skip
def test_a_malformed_configuration_is_a_clean_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(toml.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    status, out, err = cli("validate", str(EXAMPLES / "valid"))
    assert status == 2 and out == "" and "Traceback" not in err
    assert err.startswith(f"caliper-schema: {tmp_path / 'pyproject.toml'}") and message in err


@pytest.mark.parametrize(
    "rule", ["json.whatever-i-want", "schema.whatever", "schema.max-length", "document.x", "io.y", "limit.z"]
)
def test_a_made_up_rule_is_refused_whatever_its_prefix(tmp_path: Path, rule: str) -> None:
    for flags in (["--disable", rule], ["--severity", f"{rule}=error"]):
        status, out, err = cli(
            "validate", "--config", str(_config(tmp_path)), *flags, str(EXAMPLES / "valid")
        )
        assert status == 2 and out == "" and f"unknown rule {rule!r}" in err


@pytest.mark.parametrize("rule", ["json.syntax", "json.duplicate-key", "document.unknown-type"])
def test_a_rule_whose_error_stops_the_reading_cannot_be_turned_off(tmp_path: Path, rule: str) -> None:
    for flags in (["--disable", rule], ["--severity", f"{rule}=warning"]):
        status, _, err = cli("validate", "--config", str(_config(tmp_path)), *flags, str(EXAMPLES / "valid"))
        assert status == 2 and f"{rule} cannot be turned off or lowered" in err
    status, _, err = cli(
        "validate", "--disable", "json.bom", "--severity", f"{rule}=error", str(GENERIC_PATH)
    )
    assert status == 0, err  # a BOM is a plain warning; raising a rule is always allowed


GENERIC_PATH = EXAMPLES / "valid" / "caliper-generic-event.json"


def _config(folder: Path) -> Path:
    config = folder / "caliper.toml"
    config.write_text("strict = false\n")
    return config


@pytest.mark.slow
def test_a_deleted_working_directory_is_a_clean_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"cd {gone} && rmdir {gone} && $CS validate {GENERIC_PATH}"
    result = run_shell(script, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("caliper-schema: cannot look for pyproject.toml: the working directory")
    config = _config(tmp_path)
    result = run_shell(f"cd {gone.parent} && mkdir -p gone && cd gone && rmdir {gone} && "
                       f"$CS validate --config {config} {GENERIC_PATH}", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr  # an explicit configuration needs no working directory


# --- 8. library values: subclasses of JSON types, huge integers ----------------------------------------


class Text(str):
    pass


class Whole(int):
    pass


class Members(dict):  # type: ignore[type-arg]
    pass


class Items(list):  # type: ignore[type-arg]
    pass


class Ratio(float):
    pass


def _dressed(value: Any) -> Any:
    """``value`` with every str, int, float, dict and list made an instance of a subclass."""
    if isinstance(value, dict):
        return Members({Text(key): _dressed(item) for key, item in value.items()})
    if isinstance(value, list):
        return Items(_dressed(item) for item in value)
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, bool) or value is None:
        return value
    return Whole(value) if isinstance(value, int) else Ratio(value)


@pytest.mark.parametrize("extra", [{}, {"n": 2**70}])  # past 64 bits, the C screen cannot take the value
def test_subclasses_of_json_types_are_judged_as_the_plain_values(extra: dict[str, Any]) -> None:
    plain = envelope([event(1), event(2, action="Exploded", extensions=extra)])
    dressed = _dressed(plain)
    assert type(dressed["data"][1]["action"]) is Text
    report = validate(dressed)
    assert report == validate(plain)
    assert [(i.pointer, i.rule) for i in report.errors] == [("/data/1/action", "schema.const")]
    for field in ("action", "subject"):  # the fields the issue found raising "Unsupported type"
        single = event(3, action=Text("Completed"), object={**EVENT["object"], "subject": Text("Reading")})
        assert validate(single).ok, field


def test_a_huge_integer_is_judged_the_same_as_in_text() -> None:
    value = {"type": "Event", "n": 10**5000}
    text = '{"type": "Event", "n": 1' + "0" * 5000 + "}"
    as_value, as_text = validate(value), validate(text)
    assert [(i.pointer, i.rule) for i in as_value.errors] == [("/n", "json.non-finite")]
    assert [(i.pointer, i.rule) for i in as_text.errors] == [("/n", "json.non-finite")]
    big_but_finite = {"type": "Event", "n": 10**300}  # a double holds it: both read it as a number
    from_value, from_text = validate(big_but_finite), validate(json.dumps(big_but_finite))
    assert [(i.pointer, i.rule) for i in from_value.errors] == [(i.pointer, i.rule) for i in from_text.errors]
    assert "json.non-finite" not in {issue.rule for issue in from_value.errors}
