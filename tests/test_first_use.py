"""What a new user ran into (a trial from the README alone): each case as a class, asserting rule and
pointer where there is an issue, the exit status and the message where there is none."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from caliper_schema import validate
from caliper_schema.cli import main
from caliper_schema.validation.streams import from_file, from_lines, validate_stream
from tests.clirun import run_shell
from tests.conftest import EXAMPLES

VALID = EXAMPLES / "valid" / "timeback-activity-event.json"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


# --- JSON Lines with no document: an error, not a pass ---------------------------------------------------


@pytest.mark.parametrize("text", [b"", b"\n", b"\n  \n\r\n"], ids=["empty", "newline", "blank-lines"])
def test_json_lines_with_no_document_are_invalid(text: bytes) -> None:
    report = validate(text, lines=True)
    assert not report.ok
    assert [(i.pointer, i.rule, i.severity, i.line) for i in report.issues] == [
        ("", "json.empty", "error", 1)
    ]
    stream = validate_stream(from_lines(text, "empty.jsonl"))
    assert [(f.source, f.issue.rule, f.issue.line) for f in stream.findings] == [
        ("empty.jsonl", "json.empty", 1)
    ]


def test_one_document_among_blank_lines_is_no_empty_input() -> None:
    report = validate(b'\n\n{"a": 1}\n\n', lines=True)
    assert "json.empty" not in {issue.rule for issue in report.issues}


@pytest.mark.parametrize("stream", [False, True], ids=["each", "stream"])
def test_an_empty_jsonl_file_or_standard_input_fails_the_run(tmp_path: Path, stream: bool) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.ndjson").write_bytes(b"\n\n\n")
    flags = ["--stream"] * stream
    status, out, _ = cli("validate", *flags, "--format", "json", str(tmp_path))
    assert status == 1
    report = json.loads(out)
    issues = (
        report["findings"]
        if stream
        else [i | {"path": f["path"]} for f in report["files"] for i in f["errors"]]
    )
    assert sorted((Path(i["path"]).name, i["pointer"], i["rule"]) for i in issues) == [
        ("blank.ndjson", "", "json.empty"), ("empty.jsonl", "", "json.empty")
    ]  # fmt: skip
    piped = run_shell(f"$CS validate {' '.join(flags)} --jsonl - < /dev/null", cwd=tmp_path)
    assert piped.returncode == 1 and "json.empty" in piped.stdout, piped.stdout


def test_a_file_of_a_stream_that_is_empty_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"   \n")
    [item] = from_file(tmp_path / "a.jsonl")
    report = validate_stream([item])
    assert [(f.source, f.issue.rule) for f in report.findings] == [(str(tmp_path / "a.jsonl"), "json.empty")]


# --- usage: did you mean, and the form of an option ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["validate", "--stirct", "x.json"], "unrecognized arguments: --stirct; did you mean --strict?"),
        (["validate", "--best_practice", "x.json"],
         "unrecognized arguments: --best_practice; did you mean --best-practice?"),
        (["generate", "--sesions", "3"], "unrecognized arguments: --sesions 3; did you mean --sessions?"),
        (["valdate", "x.json"], "invalid choice: 'valdate'"),
        (["validate", "--format", "jsno", "x.json"], "invalid choice: 'jsno'"),
    ],
)  # fmt: skip
def test_a_mistyped_option_or_command_gets_the_nearest_one(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli(*args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and said in err, err
    if "invalid choice" in said:
        nearest = {"valdate": "validate", "jsno": "json"}[said.split("'")[1]]
        assert err.rstrip().endswith(f"; did you mean {nearest!r}?"), err
    if args[0] in ("validate", "generate"):  # the sub-command's usage, whose option it was meant to be
        assert err.startswith(f"usage: caliper-schema {args[0]} "), err


def test_an_unknown_option_near_nothing_gets_no_guess(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli("validate", "--zzzzzzzz", "x.json")
    err = capsys.readouterr().err
    assert "unrecognized arguments: --zzzzzzzz\n" in err and "did you mean" not in err


def test_severity_without_a_level_says_the_form(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli("validate", "--severity", "caliper.uuid", str(VALID))
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "--severity: RULE=LEVEL (error, warning or off), not 'caliper.uuid'" in err, err


def test_standard_input_named_twice_is_a_usage_error() -> None:
    status, out, err = cli("validate", "-", "-")
    assert (status, out) == (2, "") and "standard input (-) can be read once" in err


def test_generate_strict_without_invalid_is_a_usage_error(tmp_path: Path) -> None:
    status, out, err = cli("generate", "--strict", "--count", "2")
    assert (status, out) == (2, "") and "--strict goes with --invalid" in err
    status, out, err = cli("generate", "--sessions", "1", "--strict")
    assert (status, out) == (2, "") and "--strict goes with --invalid" in err


def test_generate_into_a_closed_standard_output_names_the_documents(tmp_path: Path) -> None:
    result = run_shell("$CS generate --count 1 >&-", cwd=tmp_path)
    assert result.returncode == 2
    assert "standard output is closed: nowhere to write the documents" in result.stderr, result.stderr


# --- sessions: --invalid means the same in the library and on the command line ---------------------------


def test_the_library_and_the_command_line_draw_the_same_invalid_sessions(tmp_path: Path) -> None:
    from caliper_schema.generation.sessions import generate_sessions, write_session_lines

    for strict in (False, True):
        text = io.StringIO()
        write_session_lines(generate_sessions(6, seed=3, invalid=True, strict=strict), text)
        flags = " --strict" * strict
        result = run_shell(f"$CS generate --sessions 6 --seed 3 --invalid{flags}", cwd=tmp_path)
        assert result.returncode == 0 and result.stdout == text.getvalue()
