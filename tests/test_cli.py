"""The command line: paths, formats, exit statuses, and never a traceback."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from caliper_schema.cli import main
from tests.conftest import EXAMPLES, ROOT

VALID = EXAMPLES / "valid" / "timeback-activity-event.json"
PRINTED = EXAMPLES / "invalid" / "timeback-docs-as-printed.json"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_valid_file_exits_0() -> None:
    status, out, _ = run("validate", str(VALID))
    assert status == 0
    assert out == "1 file checked: 1 valid, 0 invalid (0 errors, 0 warnings)\n"


def test_invalid_file_exits_1_with_editor_friendly_lines() -> None:
    status, out, _ = run("validate", str(PRINTED))
    assert status == 1
    first, hint = out.splitlines()[:2]
    assert first == (
        f"{PRINTED}:3:15: error schema.format /sendTime"
        " '<dynamic-timestamp>' is not a valid RFC 3339 date-time"
    )
    assert hint == (
        "    hint: `<dynamic-timestamp>` looks like an unfilled template placeholder:"
        " replace it with a real value"
    )


def test_the_summary_counts_in_the_singular_where_there_is_one(tmp_path: Path) -> None:
    broken = tmp_path / "one-error.json"
    broken.write_text('{"a": 1,}', encoding="utf-8")
    _, out, _ = run("validate", str(broken))
    assert out.endswith("1 file checked: 0 valid, 1 invalid (1 error, 0 warnings)\n")


def test_missing_file_exits_2_with_the_path_and_reason() -> None:
    status, _, err = run("validate", "no/such/file.json")
    assert status == 2
    assert "no/such/file.json" in err and "No such file or directory" in err


def test_missing_file_among_good_ones_still_checks_the_others_and_exits_2() -> None:
    status, out, err = run("validate", "--format", "json", str(VALID), "missing.json")
    assert "missing.json" in err
    assert status == 2
    files = json.loads(out)["files"]
    assert [(f["path"], f["status"]) for f in files] == [(str(VALID), "success"), ("missing.json", "error")]
    assert files[1]["errors"][0]["rule"] == "io.unreadable"


def test_unmatched_glob_exits_2() -> None:
    status, _, err = run("validate", "nowhere/*.json")
    assert status == 2 and "no file matches" in err


def test_usage_errors_exit_2() -> None:
    status, out, err = run("validate")
    assert status == 2 and out == "" and "name what to check" in err
    with pytest.raises(SystemExit) as raised:
        main(["validate", "--format", "xml", str(VALID)], stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.code == 2


def _json_run(*args: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = run("validate", "--format", "json", *args)
    return status, json.loads(out)


def test_json_output_contract_for_a_directory() -> None:
    status, result = _json_run(str(EXAMPLES))
    assert status == 1 and result["status"] == "error"
    paths = [entry["path"] for entry in result["files"]]
    assert paths == sorted(paths) and len(paths) == 8
    for entry in result["files"]:
        assert set(entry) == {"path", "status", "errors", "warnings"}
        assert entry["status"] == ("success" if not entry["errors"] else "error")
        for issue in entry["errors"] + entry["warnings"]:
            assert (
                {"pointer", "rule", "severity", "message"}
                <= set(issue)
                <= {
                    "pointer",
                    "rule",
                    "severity",
                    "message",
                    "hint",
                    "line",
                    "column",
                }
            )


def test_json_lines_issues_carry_the_line_of_their_document() -> None:
    _, result = _json_run(str(EXAMPLES / "invalid" / "broken-lines.jsonl"))
    [entry] = result["files"]
    assert [(i["line"], i["rule"], i["pointer"]) for i in entry["errors"]] == [
        (2, "json.syntax", ""),
        (3, "document.unknown-type", "/type"),
    ]


def test_glob_and_strict(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "valid" / "caliper-generic-event.json", tmp_path / "a.json")
    status, result = _json_run(str(tmp_path / "*.json"))
    assert status == 0 and result["files"][0]["warnings"][0]["rule"] == "caliper.context-missing"
    status, result = _json_run("--strict", str(tmp_path / "*.json"))
    assert status == 1 and result["files"][0]["errors"][0]["rule"] == "caliper.context-missing"


def test_github_format() -> None:
    status, out, _ = run("validate", "--format", "github", str(PRINTED))
    assert status == 1
    assert out.splitlines()[0].startswith(
        f"::error file={PRINTED},line=3,col=15,title=schema.format::/sendTime "
    )


def test_stdin_and_jsonl_stdin() -> None:
    command = [sys.executable, "-m", "caliper_schema", "validate", "-"]
    result = subprocess.run(command, input=VALID.read_bytes(), capture_output=True)
    assert result.returncode == 0, result.stderr
    lines = b'{"type": "Event"}\n{"type": "Nope"}\n'
    result = subprocess.run([*command, "--jsonl", "--format", "json"], input=lines, capture_output=True)
    assert result.returncode == 1
    errors = json.loads(result.stdout)["files"][0]["errors"]
    assert ("document.unknown-type", 2) in {(e["rule"], e["line"]) for e in errors}


def test_binary_and_empty_files_are_issues_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    (tmp_path / "empty.json").write_bytes(b"")
    command = [sys.executable, "-m", "caliper_schema", "validate", "--format", "json", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    rules = {
        entry["path"].rsplit("/", 1)[-1]: entry["errors"][0]["rule"]
        for entry in json.loads(result.stdout)["files"]
    }
    assert rules == {"binary.json": "json.encoding", "empty.json": "json.empty"}


def test_files_are_never_written(tmp_path: Path) -> None:
    target = tmp_path / "payload.json"
    shutil.copy(PRINTED, target)
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    run("validate", str(target))
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before


def test_schema_command_prints_a_bundled_schema() -> None:
    for name in ("timeback/activity-event", "TimebackActivityEvent", "ActivityEvent"):
        status, out, _ = run("schema", name)
        assert status == 0 and json.loads(out)["title"] == "TimebackActivityEvent"
    status, out, _ = run("schema", "--list")
    assert "envelope" in out.splitlines()
    status, _, err = run("schema", "envelop")
    assert status == 2 and "did you mean `envelope`?" in err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("caliper-schema")
    result = subprocess.run([str(script), "validate", str(VALID)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_a_misspelled_subject_prints_the_nearest_subject(tmp_path: Path) -> None:
    event = json.loads(VALID.read_text())
    event["data"][0]["object"]["subject"] = "Maths"
    target = tmp_path / "maths.json"
    target.write_text(json.dumps(event, indent=2))
    status, out, _ = run("validate", str(target))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].endswith("error schema.enum /data/0/object/subject 'Maths' is not an allowed value")
    assert lines[1] == "    hint: did you mean `Math` or `FastMath`?"


class _InterruptingImport:
    """A meta path finder that raises what Ctrl-C raises when ``caliper_schema.cli.commands`` loads."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "caliper_schema.cli.commands":
            raise KeyboardInterrupt


def test_ctrl_c_while_the_modules_load_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "caliper_schema.cli.commands", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptingImport(), *sys.meta_path])
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(VALID)], stdout=out, stderr=err) == 130
    assert (out.getvalue(), err.getvalue()) == ("", "caliper-schema: interrupted\n")
