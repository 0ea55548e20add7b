"""The command line of issues 14 and 17: whole sessions through ``generate`` and ``validate --stream``, in
pipes and folders; coverage statistics; the JSON summary; the rough edges a new user hits.

The oracles are independent of the code under test: where a mistake is, ``mutations.tsv`` says (written by
the generator, checked here against the validator); which rules are stream rules, the rule registry says;
what a set of payloads covers, this module counts itself from the payloads it wrote.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from caliper_schema.cli import main
from caliper_schema.validation.rules import RULES
from tests.clirun import run_shell
from tests.conftest import CONTEXT, EXAMPLES, ROOT

STREAM_RULES = {rule for rule, each in RULES.items() if each.stream}
ERROR_STREAM_RULES = {rule for rule in STREAM_RULES if RULES[rule].severity == "error"}
GENERIC = json.loads((EXAMPLES / "valid" / "caliper-generic-event.json").read_text())  # one warning
TIMEBACK = ("ActivityEvent", "TimeSpentEvent")


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def stream_json(*args: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = cli("validate", "--stream", "--format", "json", *args)
    return status, json.loads(out)


def found(result: dict[str, Any]) -> set[tuple[str, int, str, str, str]]:
    """A stream's findings as (file name, line, pointer, rule, severity)."""
    return {
        (Path(f["path"]).name, f["line"], f["pointer"], f["rule"], f["severity"]) for f in result["findings"]
    }


def rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "mutations.tsv").open(encoding="utf-8", newline="") as manifest:
        return list(csv.DictReader(manifest, delimiter="\t"))


def expected(folder: Path) -> set[tuple[str, int, str, str, str]]:
    """What mutations.tsv says the stream check must report: one error a row."""
    return {(r["file"], int(r["line"]), r["pointer"], r["rule"], "error") for r in rows(folder)}


def generic_lines(count: int) -> str:
    """``count`` generic envelopes, one a line, each event its own id: one warning each, no error."""
    lines = []
    for n in range(count):
        event = {**GENERIC["data"][0], "id": f"urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-{n:012x}"}
        lines.append(json.dumps({**GENERIC, "data": [event]}))
    return "\n".join(lines) + "\n"


SessionsFolder = Callable[..., Path]


@pytest.fixture(scope="module")
def sessions_folder(tmp_path_factory: pytest.TempPathFactory) -> SessionsFolder:
    """``generate --sessions 50 --seed 7 --invalid [--strict] [--envelope] -o DIR``, made once per module."""
    made: dict[tuple[bool, bool], Path] = {}

    def folder(*, strict: bool = False, envelope: bool = False) -> Path:
        if (strict, envelope) not in made:
            target = tmp_path_factory.mktemp("sessions") / "out"
            options = ["--strict"] * strict + ["--envelope"] * envelope
            status, out, err = cli("generate", "--sessions", "50", "--seed", "7", "--invalid", *options,
                                   "-o", str(target))  # fmt: skip
            assert (status, out, err) == (0, "", "")
            made[strict, envelope] = target
        return made[strict, envelope]

    return folder


# --- 1. valid sessions: piped, enveloped, reproducible, in a folder ---------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("envelope", [False, True], ids=["events", "envelopes"])
def test_fifty_sessions_piped_into_the_stream_check_have_no_error_and_no_warning(
    tmp_path: Path, envelope: bool
) -> None:
    option = " --envelope" * envelope
    result = run_shell(f"$CS generate --sessions 50 --seed 7{option} | tee sent.jsonl"
                       " | $CS validate --stream --jsonl --format json -", cwd=tmp_path)  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result.stdout[-2000:]
    report = json.loads(result.stdout)
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    events = [d["data"][0] if envelope else d for d in sent]
    assert all(("data" in d) == envelope for d in sent)
    assert report["findings"] == [] and report["status"] == "success"
    assert report["summary"] == {
        "files": 1,
        "valid": 1,
        "invalid": 0,
        "unreadable": 0,
        "errors": 0,
        "warnings": 0,
    }
    assert (report["documents"], report["events"]) == (len(sent), len(events))
    run_ids = {event["extensions"]["runId"] for event in events}
    assert report["runs"] == len(run_ids) == 50


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others() -> None:
    for options in ([], ["--envelope"]):
        first = cli("generate", "--sessions", "4", "--seed", "7", *options)
        assert first[0] == 0 and first[1].count("\n") > 4 * 14
        assert cli("generate", "--sessions", "4", "--seed", "7", *options) == first
        assert cli("generate", "--sessions", "4", "--seed", "8", *options)[1] != first[1]


@pytest.mark.slow
def test_the_bytes_do_not_depend_on_the_process() -> None:
    command = [sys.executable, "-m", "caliper_schema", "generate", "--sessions", "3", "--seed", "7"]
    result = subprocess.run(command, capture_output=True, text=True, env={"PYTHONHASHSEED": "12345"},
                            cwd=ROOT, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == cli("generate", "--sessions", "3", "--seed", "7")[1]


def test_a_folder_gets_one_json_lines_file_per_session_that_passes_the_stream_check(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    assert cli("generate", "--sessions", "50", "--seed", "7", "-o", str(folder)) == (0, "", "")
    files = sorted(folder.iterdir())
    assert len(files) == 50 and {f.suffix for f in files} == {".jsonl"}  # no mutations.tsv: none is broken
    run_ids = [
        {json.loads(line)["extensions"]["runId"] for line in f.read_text().splitlines()} for f in files
    ]
    assert all(len(ids) == 1 for ids in run_ids) and len(set.union(*run_ids)) == 50  # a session a file
    status, report = stream_json(str(folder))
    assert status == 0 and report["findings"] == []
    assert report["summary"] == {
        "files": 50,
        "valid": 50,
        "invalid": 0,
        "unreadable": 0,
        "errors": 0,
        "warnings": 0,
    }
    assert report["runs"] == 50


# --- 2. invalid sessions: each row of mutations.tsv is the one error where it says ------------------------


@pytest.mark.parametrize("envelope", [False, True], ids=["events", "envelopes"])
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_each_mutation_row_is_the_one_error_at_its_file_line_and_pointer(
    sessions_folder: SessionsFolder, strict: bool, envelope: bool
) -> None:
    folder = sessions_folder(strict=strict, envelope=envelope)
    manifest = rows(folder)
    sessions = sorted(p.name for p in folder.glob("*.jsonl"))
    assert len(sessions) == 50 and sorted(r["file"] for r in manifest) == sessions  # one mistake a session
    for row in manifest:
        assert row["label"] == f"rule:{row['rule']}"
        assert row["pointer"].startswith("/data/0/") == envelope
        assert row["strict"] == str(RULES[row["rule"]].severity == "warning").lower()
    status, report = stream_json(*["--strict"] * strict, str(folder))
    assert status == 1
    assert found(report) == expected(folder) and len(report["findings"]) == 50  # no other finding
    drawn = {row["rule"] for row in manifest}
    # --strict draws every stream rule; without it, only those default validation rejects
    assert drawn == (STREAM_RULES if strict else ERROR_STREAM_RULES)
    assert len(STREAM_RULES) == 7 and len(ERROR_STREAM_RULES) < 7


def test_strict_mistakes_are_warnings_that_only_strict_validation_rejects(
    sessions_folder: SessionsFolder,
) -> None:
    folder = sessions_folder(strict=True)
    strict_rows = {(r["file"], int(r["line"]), r["pointer"], r["rule"]) for r in rows(folder)
                   if r["rule"] not in ERROR_STREAM_RULES}  # fmt: skip
    assert strict_rows
    status, report = stream_json(str(folder))
    assert status == 1  # the error rules' sessions still fail
    warned = {finding[:4] for finding in found(report) if finding[4] == "warning"}
    assert warned == strict_rows


# --- 8. --xp-tolerance ------------------------------------------------------------------------------------


def test_xp_tolerance_silences_xp_beyond_time_and_needs_stream(sessions_folder: SessionsFolder) -> None:
    folder = sessions_folder(strict=True)
    row = next(r for r in rows(folder) if r["rule"] == "stream.xp-beyond-time")
    session = str(folder / row["file"])
    where = (row["file"], int(row["line"]), row["pointer"], "stream.xp-beyond-time")
    status, report = stream_json(session)
    assert status == 0 and found(report) == {(*where, "warning")}
    status, report = stream_json("--strict", session)
    assert status == 1 and found(report) == {(*where, "error")}
    status, report = stream_json("--strict", "--xp-tolerance", "100", session)
    assert status == 0 and report["findings"] == []
    status, out, err = cli("validate", "--xp-tolerance", "100", session)
    assert (status, out) == (2, "") and "--xp-tolerance goes with --stream" in err


# --- 9, 10. standard input: lines without --jsonl; invalid streams; a reader that leaves ----------------


@pytest.mark.slow
def test_a_stream_of_lines_without_jsonl_is_trailing_data_with_a_hint_to_use_it(tmp_path: Path) -> None:
    result = run_shell(
        "$CS generate --sessions 3 --seed 7 | $CS validate --stream --format json -", cwd=tmp_path
    )
    assert result.returncode == 1 and result.stderr == ""
    [finding] = json.loads(result.stdout)["findings"]
    assert found({"findings": [finding]}) == {("<stdin>", 2, "", "json.trailing-data", "error")}
    assert "--jsonl" in finding["hint"] and "JSON Lines" in finding["hint"]
    result = run_shell("$CS generate --sessions 3 --seed 7 | $CS validate --stream -", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == '<stdin>:2:1: error json.trailing-data "" ' + finding["message"]
    assert result.stdout.splitlines()[1] == "    hint: " + finding["hint"]


@pytest.mark.slow
def test_a_stream_on_standard_input_with_an_invalid_document_and_a_stream_mistake_exits_1(
    sessions_folder: SessionsFolder, tmp_path: Path
) -> None:
    folder = sessions_folder()
    row = rows(folder)[0]
    text = (folder / row["file"]).read_text()
    junk = text.count("\n") + 1
    unknown = {"@context": CONTEXT, "id": "urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100", "type": "Nope"}
    (tmp_path / "sent.jsonl").write_text(text + json.dumps(unknown) + "\n")
    result = run_shell("$CS validate --stream --jsonl --format json - < sent.jsonl", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert found(json.loads(result.stdout)) == {
        ("<stdin>", int(row["line"]), row["pointer"], row["rule"], "error"),
        ("<stdin>", junk, "/type", "document.unknown-type", "error"),
    }


@pytest.fixture(scope="module")
def warned_then_broken(sessions_folder: SessionsFolder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1500 lines of warnings (~300 KB of report: more than a pipe holds), then a session whose mistake, an
    error, is found once the reader of the report has long gone."""
    folder = tmp_path_factory.mktemp("broken")
    session = sessions_folder() / rows(sessions_folder())[0]["file"]
    (folder / "warned.jsonl").write_text(generic_lines(1500))
    (folder / "broken.jsonl").write_text(generic_lines(1500) + session.read_text())
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("form", ["text", "json", "github"])
def test_a_broken_pipe_never_turns_an_invalid_stream_into_success(
    warned_then_broken: Path, form: str
) -> None:
    script = f"$CS validate --stream --jsonl --format {form} - < broken.jsonl | head -c 10"
    result = run_shell(script, cwd=warned_then_broken)
    assert (result.returncode, result.stderr) == (1, "")
    assert len(result.stdout) == 10


@pytest.mark.slow
def test_the_broken_pipe_case_holds_warnings_then_one_error(warned_then_broken: Path) -> None:
    """The control of the test above: the stream's report is larger than a pipe, warnings only but for the
    session's error at the end; without that session, the verdict through the same pipe is a pass."""
    result = run_shell("$CS validate --stream --jsonl - < broken.jsonl | tail -n 1", cwd=warned_then_broken)
    assert result.returncode == 1
    assert result.stdout.endswith("0 valid, 1 invalid (1 error, 1500 warnings)\n")
    result = run_shell("$CS validate --stream --jsonl - < warned.jsonl | head -c 10", cwd=warned_then_broken)
    assert (result.returncode, result.stderr) == (0, "")


# --- 3. coverage statistics -------------------------------------------------------------------------------


def documents_of(folder: Path) -> Iterator[str]:
    """The text of each document of the folder, as the validator reads it."""
    for path in sorted(folder.iterdir()):
        if path.suffix == ".jsonl":
            yield from path.read_text().splitlines()
        else:
            yield path.read_text()


def counted_by_hand(folder: Path) -> dict[str, Any]:
    """What the payloads of ``folder`` cover, counted here from the payloads themselves."""
    documents: Counter[str] = Counter()
    types: Counter[str] = Counter()
    actions: dict[str, Counter[str]] = {}
    profiles: Counter[str] = Counter()
    subjects: Counter[str] = Counter()
    metrics: Counter[str] = Counter()
    for text in documents_of(folder):
        documents["total"] += 1
        try:
            value = json.loads(text)
        except ValueError:
            documents["unreadable"] += 1
            continue
        events = value.get("data", [value])
        documents["envelopes" if "data" in value else "events"] += 1
        documents["events"] += len(events) if "data" in value else 0
        for event in events:
            types[event["type"]] += 1
            actions.setdefault(event["type"], Counter())[event["action"]] += 1
            profiles[event.get("profile", "(none)")] += 1
            if event["type"] in TIMEBACK:
                subjects[event["object"]["subject"]] += 1
                metrics.update(item["type"] for item in event["generated"]["items"])
    return {
        "documents": {
            key: documents[key] for key in ("total", "envelopes", "events", "entities", "unreadable")
        },
        "eventTypes": dict(types),
        "actions": {type_: dict(counts) for type_, counts in actions.items()},
        "profiles": dict(profiles),
        "subjects": dict(subjects),
        "metricTypes": dict(metrics),
    }


@pytest.fixture
def covered(tmp_path: Path) -> Path:
    """A small set: two Timeback envelopes, a generic one (a warning), and JSON Lines of generated events,
    one with a misspelt action (an error) and one line that is not JSON."""
    folder = tmp_path / "payloads"
    folder.mkdir()
    for name in ("timeback-activity-event.json", "timeback-time-spent-event.json",
                 "caliper-generic-event.json"):  # fmt: skip
        shutil.copy(EXAMPLES / "valid" / name, folder / name)
    status, out, _ = cli("generate", "--type", "ViewEvent", "--type", "NavigationEvent", "--count", "5",
                         "--seed", "3")  # fmt: skip
    assert status == 0
    lines = out.splitlines()
    second = json.loads(lines[1])
    assert second["type"] == "NavigationEvent" and second["action"] == "NavigatedTo"
    lines[1] = json.dumps({**second, "action": "Viewd"})
    (folder / "generated.jsonl").write_text("\n".join([*lines, '{"a": 1,']) + "\n")
    return folder


def issues_by_rule(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Issues by rule as --statistics lays them out, counted from a plain --format json report."""
    counts: dict[str, Counter[str]] = {}
    for entry in report["files"]:
        for kind in ("errors", "warnings"):
            for issue in entry[kind]:
                counts.setdefault(issue["rule"], Counter())[kind] += 1
    return {rule: {"errors": n["errors"], "warnings": n["warnings"]} for rule, n in counts.items()}


def test_statistics_in_json_count_what_the_payloads_hold(covered: Path) -> None:
    status, out, _ = cli("validate", "--format", "json", str(covered))
    plain = json.loads(out)
    generated = next(f for f in plain["files"] if f["path"].endswith("generated.jsonl"))
    errors = {(e["line"], e["pointer"], e["rule"]) for e in generated["errors"]}
    assert errors == {(2, "/action", "caliper.action"), (6, "", "json.syntax")}
    by_hand = issues_by_rule(plain)
    assert by_hand["caliper.context-missing"] == {"errors": 0, "warnings": 1}

    status, out, _ = cli("validate", "--statistics", "--format", "json", str(covered))
    assert status == 1
    report = json.loads(out)
    statistics = report["statistics"]
    expected = counted_by_hand(covered)
    assert expected["documents"]["unreadable"] == 1 and expected["actions"]["NavigationEvent"]["Viewd"] == 1
    for key, counts in expected.items():
        assert statistics[key] == counts, key
    assert statistics["issues"] == by_hand
    assert {key: value for key, value in report.items() if key != "statistics"} == plain  # nothing else moves

    # with --stream, the same coverage, and the issues are those the stream's findings list
    status, stream = stream_json("--statistics", str(covered))
    for key, counts in expected.items():
        assert stream["statistics"][key] == counts, key
    findings: dict[str, Counter[str]] = {}
    for finding in stream["findings"]:
        findings.setdefault(finding["rule"], Counter())[finding["severity"] + "s"] += 1
    assert stream["statistics"]["issues"] == {
        rule: {"errors": n["errors"], "warnings": n["warnings"]} for rule, n in findings.items()
    }


def table_sections(text: str) -> dict[str, list[str]]:
    """The text table's sections: title → its rows (indented lines), stripped."""
    sections: dict[str, list[str]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("  ") and title is not None:
            sections[title].append(line.strip())
        elif line.endswith(":"):
            title = line[:-1]
            sections[title] = []
        else:
            title = None
    return sections


def test_the_statistics_table_shows_event_types_actions_and_issues_by_rule(covered: Path) -> None:
    status, out, _ = cli("validate", "--statistics", str(covered))
    assert status == 1
    sections = table_sections(out)
    expected = counted_by_hand(covered)

    def rows_of(title: str, columns: int = 1) -> dict[str, list[int]]:
        split = (row.rsplit(maxsplit=columns) for row in sections[title])
        return {name: [int(n.replace(",", "")) for n in numbers] for name, *numbers in split}

    assert rows_of("event types") == {name: [n] for name, n in expected["eventTypes"].items()}
    assert rows_of("actions") == {
        f"{type_} {action}": [n]
        for type_, counts in expected["actions"].items()
        for action, n in counts.items()
    }
    assert rows_of("profiles") == {name: [n] for name, n in expected["profiles"].items()}
    _, plain, _ = cli("validate", "--format", "json", str(covered))
    assert rows_of("issues by rule (errors, warnings)", 2) == {
        rule: [n["errors"], n["warnings"]] for rule, n in issues_by_rule(json.loads(plain)).items()
    }
    documents = expected["documents"]
    assert next(line for line in out.splitlines() if line.startswith("documents: ")) == (
        f"documents: {documents['total']} ({documents['envelopes']} envelopes, {documents['events']} events,"
        f" 0 entities, 1 unreadable)"
    )
    assert out.endswith("4 files checked: 3 valid, 1 invalid (2 errors, 1 warning)\n")


# --- 4. the JSON summary and the closing lines ------------------------------------------------------------


def summed(files: list[dict[str, Any]]) -> dict[str, int]:
    unreadable = sum(1 for entry in files if [i["rule"] for i in entry["errors"]] == ["io.unreadable"])
    invalid = sum(1 for entry in files if entry["status"] == "error") - unreadable
    return {"files": len(files), "valid": len(files) - invalid - unreadable, "invalid": invalid,
            "unreadable": unreadable, "errors": sum(len(entry["errors"]) for entry in files),
            "warnings": sum(len(entry["warnings"]) for entry in files)}  # fmt: skip


def test_the_json_summary_counts_what_the_files_list_holds(covered: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    for paths in (
        [str(EXAMPLES)],
        [str(covered)],
        [str(EXAMPLES / "valid")],
        [str(EXAMPLES / "valid"), missing],
    ):
        status, out, _ = cli("validate", "--format", "json", *paths)
        report = json.loads(out)
        assert report["summary"] == summed(report["files"]), paths
        failed = report["summary"]["invalid"] + report["summary"]["unreadable"]
        assert report["status"] == ("error" if failed else "success")
        assert status == (2 if report["summary"]["unreadable"] else 1 if report["summary"]["invalid"] else 0)


def test_a_file_not_read_is_counted_unreadable_not_checked_and_invalid(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    named = [str(EXAMPLES / "valid" / "timeback-activity-event.json"), str(tmp_path / "missing.json"),
             str(tmp_path / "empty")]  # fmt: skip
    status, out, err = cli("validate", "--format", "json", *named)
    report = json.loads(out)
    assert status == 2 and report["status"] == "error"
    assert report["summary"] == {"files": 3, "valid": 1, "invalid": 0, "unreadable": 2, "errors": 2,
                                 "warnings": 0}  # fmt: skip
    assert [(e["path"], [(i["pointer"], i["rule"]) for i in e["errors"]]) for e in report["files"][1:]] == [
        (named[1], [("", "io.unreadable")]),
        (named[2], [("", "io.unreadable")]),
    ]
    assert len(err.splitlines()) == 2  # each said on stderr too
    assert closing_lines(*named) == {
        "3 files checked: 1 valid, 0 invalid, 2 unreadable (2 errors, 0 warnings)"
    }
    status, out, _ = cli("validate", "--stream", "--format", "json", *named)
    assert status == 2 and json.loads(out)["summary"]["unreadable"] == 2
    assert summed(json.loads(cli("validate", "--format", "json", str(EXAMPLES))[1])["files"])["warnings"] > 0


def test_the_stream_summary_counts_what_the_findings_list_holds(sessions_folder: SessionsFolder) -> None:
    folder = sessions_folder(strict=True)
    _, report = stream_json(str(folder))
    findings = report["findings"]
    failed = {f["path"] for f in findings if f["severity"] == "error"}
    assert report["summary"] == {
        "files": 50, "valid": 50 - len(failed), "invalid": len(failed), "unreadable": 0,
        "errors": sum(f["severity"] == "error" for f in findings),
        "warnings": sum(f["severity"] == "warning" for f in findings),
    }  # fmt: skip
    assert report["summary"]["warnings"] > 0 and report["summary"]["errors"] > 0


def closing_lines(*paths: str) -> set[str]:
    return {cli("validate", "--format", form, *paths)[1].splitlines()[-1] for form in ("text", "github")}


def test_the_github_closing_line_counts_in_the_singular_and_plural_as_text_does(tmp_path: Path) -> None:
    for n in (1, 2):
        (tmp_path / f"generic-{n}.json").write_text(generic_lines(1))  # a warning each
    (tmp_path / "broken.json").write_text('{"a": 1,}')  # one error
    assert closing_lines(str(tmp_path)) == {"3 files checked: 2 valid, 1 invalid (1 error, 2 warnings)"}
    assert closing_lines(str(tmp_path / "generic-1.json")) == {
        "1 file checked: 1 valid, 0 invalid (0 errors, 1 warning)"
    }


# --- 5. nothing to check -----------------------------------------------------------------------------------


def test_a_folder_with_nothing_to_check_says_so_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a payload")
    status, out, err = cli("validate", str(tmp_path))
    assert status == 2
    [line] = err.splitlines()  # one line on stderr: what was not found, and where
    assert line.startswith("caliper-schema: no ") and repr(str(tmp_path)) in line
    assert all(suffix in line for suffix in (".json,", ".jsonl", ".ndjson"))
    assert out.endswith("1 file checked: 0 valid, 0 invalid, 1 unreadable (1 error, 0 warnings)\n")
    status, out, err = cli("validate", "--stream", str(tmp_path))
    assert status == 2 and "no .json, .jsonl or .ndjson file" in err


def test_no_path_is_a_usage_error_unless_allow_empty() -> None:
    status, out, err = cli("validate")
    assert (status, out) == (2, "") and "name what to check" in err
    assert cli("validate", "--allow-empty") == (0, "", "")
    assert cli("validate", "--allow-empty", "--strict", "--stream") == (0, "", "")


@pytest.mark.slow
def test_the_pre_commit_hooks_are_quiet_when_given_no_file_and_still_check_files(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert len(hooks) >= 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "Nope"}')
    script = Path(sys.executable).with_name("caliper-schema")
    for hook in hooks:
        program, *options = shlex.split(hook["entry"])
        assert program == "caliper-schema" and "--allow-empty" in options, hook["id"]
        # pre-commit runs `entry` followed by the matching file names: here none, then one
        result = subprocess.run([str(script), *options], capture_output=True, text=True, check=False)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), hook["id"]
        result = subprocess.run([str(script), *options, str(broken)], capture_output=True, text=True,
                                check=False)  # fmt: skip
        assert result.returncode == 1 and "document.unknown-type /type" in result.stdout, hook["id"]


# --- 6. names: schema did-you-mean, --help ----------------------------------------------------------------


def test_a_misspelt_schema_name_suggests_the_nearest_one_which_then_works() -> None:
    status, out, err = cli("schema", "ActivtyEvent")
    assert (status, out) == (2, "")
    assert err.startswith(
        "caliper-schema: no bundled schema named 'ActivtyEvent'; did you mean `ActivityEvent`"
    )
    status, out, _ = cli("schema", "ActivityEvent")
    assert status == 0 and json.loads(out)["title"] == "TimebackActivityEvent"


def test_validate_help_names_every_suffix_it_searches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["validate", "--help"])
    assert raised.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert all(suffix in text for suffix in ("*.json,", "*.jsonl", "*.ndjson"))
    assert ".jsonl and .ndjson files are read as JSON Lines" in text


# --- 7. -o into a folder that holds files -----------------------------------------------------------------


@pytest.mark.parametrize("what", [["--sessions", "2"], ["--count", "2"]], ids=["sessions", "documents"])
def test_generate_refuses_a_folder_that_holds_files_unless_forced(tmp_path: Path, what: list[str]) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text('{"mine": true}')
    before = (mine.read_bytes(), mine.stat().st_mtime_ns)
    status, out, err = cli("generate", *what, "-o", str(tmp_path))
    assert (status, out) == (2, "") and "already holds files" in err and "--force" in err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]
    assert (mine.read_bytes(), mine.stat().st_mtime_ns) == before
    assert cli("generate", *what, "-o", str(tmp_path), "--force") == (0, "", "")
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "mine.json")
    assert len(written) == 2 and (mine.read_bytes(), mine.stat().st_mtime_ns) == before
    stream = ["--stream"] * (what[0] == "--sessions")
    assert cli("validate", *stream, *(str(tmp_path / name) for name in written))[0] == 0
