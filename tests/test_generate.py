"""``caliper-schema generate``: seeded, byte-identical fixtures that cover every event type and validate;
``--invalid`` fixtures that the validator rejects one by one, where their mutation says."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from caliper_schema import validate
from caliper_schema.cli import main
from caliper_schema.generation import generating
from caliper_schema.generation.building import event_types
from caliper_schema.generation.generating import MANIFEST, generate
from caliper_schema.generation.mutating import SCHEMA_MUTATIONS
from caliper_schema.locating import parent_of
from tests.conftest import ROOT


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["generate", *args], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def three_hundred() -> str:
    status, out, err = run("--count", "300", "--seed", "11")
    assert (status, err) == (0, "")
    return out


def test_the_same_seed_gives_the_same_bytes(three_hundred: str) -> None:
    assert run("--count", "300", "--seed", "11")[1] == three_hundred
    assert run("--count", "300", "--seed", "12")[1] != three_hundred


def test_300_documents_cover_the_24_event_types_and_all_validate(three_hundred: str) -> None:
    generated = documents(three_hundred)
    assert len(generated) == 300 and three_hundred.endswith("\n")
    counts = Counter(document["type"] for document in generated)
    assert set(counts) == set(event_types()) and len(counts) == 24
    assert min(counts.values()) >= 12  # round-robin: each type in turn
    report = validate(three_hundred, lines=True)
    assert (report.documents, report.errors, report.warnings) == (300, (), ())


def test_documents_are_one_a_line_compact_and_utf8(three_hundred: str) -> None:
    first = three_hundred.splitlines()[0]
    assert first.startswith('{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:')
    assert ", " not in first and ": " not in first


def test_a_document_does_not_depend_on_how_many_follow(three_hundred: str) -> None:
    assert three_hundred.startswith(run("--count", "30", "--seed", "11")[1])


@pytest.mark.slow
def test_the_bytes_do_not_depend_on_the_process(three_hundred: str, tmp_path: Path) -> None:
    """Another process, another hash seed: nothing in generation may iterate a set or read the clock."""
    command = [sys.executable, "-m", "caliper_schema", "generate", "--count", "300", "--seed", "11"]
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
        assert result.stdout.decode("utf-8") == three_hundred


def test_invalid_output_is_rejected_document_by_document() -> None:
    status, out, _ = run("--count", "300", "--seed", "11", "--invalid")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 300
    accepted = [number for number, line in enumerate(lines, 1) if validate(line).ok]
    assert accepted == []
    fixtures = list(generate(count=300, seed=11, invalid=True))
    assert [json.dumps(f.document, ensure_ascii=False, separators=(",", ":")) for f in fixtures] == lines
    assert set(SCHEMA_MUTATIONS) <= {f.mutant.label for f in fixtures if f.mutant}
    for fixture in fixtures:
        assert fixture.mutant is not None and not fixture.mutant.strict
        issues = validate(fixture.document).errors
        here = {fixture.mutant.pointer, parent_of(fixture.mutant.pointer)}
        assert any(issue.pointer in here for issue in issues), (fixture.mutant, issues)


def test_strict_invalid_envelopes_are_rejected_under_strict() -> None:
    fixtures = list(generate(count=60, seed=7, invalid=True, strict=True, envelope=True))
    assert any(f.mutant and f.mutant.strict for f in fixtures)
    for fixture in fixtures:
        assert fixture.mutant is not None and "dataVersion" in fixture.document
        here = {fixture.mutant.pointer, parent_of(fixture.mutant.pointer)}
        report = validate(fixture.document, strict=True)
        assert any(issue.pointer in here and issue.rule == (fixture.mutant.rule or issue.rule)
                   for issue in report.errors), fixture.mutant  # fmt: skip
        assert validate(fixture.document).ok == fixture.mutant.strict


def test_envelopes_hold_one_to_three_events_the_first_of_each_type_in_turn() -> None:
    status, out, _ = run("--count", "24", "--seed", "3", "--envelope")
    envelopes = documents(out)
    assert status == 0 and all(1 <= len(e["data"]) <= 3 for e in envelopes)
    assert [e["data"][0]["type"] for e in envelopes] == list(event_types())
    assert all(validate(e).issues == () for e in envelopes)


def test_types_and_profile_narrow_what_is_generated() -> None:
    status, out, _ = run(
        "--type", "ViewEvent", "--type", "Person", "--profile", "GradingProfile", "--count", "6"
    )
    assert status == 0
    views = documents(out)
    assert {v["type"] for v in views} == {"ViewEvent"} and {v["profile"] for v in views} == {"GradingProfile"}
    assert all(isinstance(v["object"], str) or v["object"]["type"] == "Result" for v in views)
    status, out, _ = run("--type", "Person", "--type", "TimebackUser", "--count", "4")
    assert [d["type"] for d in documents(out)] == ["Person", "TimebackUser"] * 2


def test_a_folder_gets_one_file_per_document_and_the_mutations(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures"
    status, out, _ = run("--count", "5", "--seed", "2", "--invalid", "-o", str(folder))
    assert (status, out) == (0, "")
    names = sorted(path.name for path in folder.iterdir())
    assert len(names) == 6 and names[-1] == MANIFEST and names[0].startswith("00000-ActivityEvent-")
    rows = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file\tlabel\tpointer\trule\tstrict" and len(rows) == 6
    for row in rows[1:]:
        name, label, pointer, _, _ = row.split("\t")
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        assert label in name.replace("rule-", "rule:") or label.replace(":", "-") in name
        assert any(issue.pointer in (pointer, parent_of(pointer)) for issue in validate(document).errors)
    assert main(["validate", str(folder)], stdout=io.StringIO(), stderr=io.StringIO()) == 1
    again = tmp_path / "again"
    run("--count", "5", "--seed", "2", "--invalid", "-o", str(again))
    assert all((folder / n).read_bytes() == (again / n).read_bytes() for n in names)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "ViewEvnt"], "unknown document type 'ViewEvnt': did you mean `ViewEvent`"),
        (["--profile", "GradingProfle"], "unknown profile 'GradingProfle': did you mean `GradingProfile`"),
        (
            ["--type", "ActivityEvent", "--profile", "GradingProfile"],
            "may carry the profile 'GradingProfile'",
        ),
    ],
)
def test_usage_errors_exit_2_with_the_nearest_names_and_no_traceback(args: list[str], message: str) -> None:
    status, out, err = run(*args)
    assert (status, out) == (2, "")
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_a_negative_count_is_a_usage_error() -> None:
    result = subprocess.run([sys.executable, "-m", "caliper_schema", "generate", "--count", "-1"],
                            cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert (
        result.returncode == 2 and "must be 0 or more" in result.stderr and "Traceback" not in result.stderr
    )


@pytest.mark.slow
def test_an_unwritable_folder_is_an_io_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status, _, err = run("--count", "1", "-o", str(blocker / "sub"))
    assert status == 2 and str(blocker / "sub") in err


# The event types each profile's tables describe, as the Caliper 1.2 profile sections list them
# (shared/reference/caliper-spec-facts.md §5, column (P); General: "Only the generic Event may be utilized").
COVERED = {
    "GeneralProfile": {"Event"},
    "AnnotationProfile": {"AnnotationEvent"},
    "AssessmentProfile": {"AssessmentEvent", "AssessmentItemEvent", "NavigationEvent", "ViewEvent"},
    "AssignableProfile": {"AssignableEvent", "NavigationEvent", "ViewEvent"},
    "FeedbackProfile": {"FeedbackEvent"},
    "ForumProfile": {"ForumEvent", "MessageEvent", "ThreadEvent", "NavigationEvent", "ViewEvent"},
    "GradingProfile": {"GradeEvent", "ViewEvent"},
    "MediaProfile": {"MediaEvent", "NavigationEvent", "ViewEvent"},
    "ReadingProfile": {"NavigationEvent", "ViewEvent"},
    "ResourceManagementProfile": {"ResourceManagementEvent"},
    "SearchProfile": {"SearchEvent"},
    "SessionProfile": {"SessionEvent"},
    "SurveyProfile": {
        "QuestionnaireEvent",
        "QuestionnaireItemEvent",
        "SurveyEvent",
        "SurveyInvitationEvent",
        "NavigationEvent",
        "ViewEvent",
    },
    "ToolLaunchProfile": {"ToolLaunchEvent"},
    "ToolUseProfile": {"ToolUseEvent"},
    "TimebackProfile": {"ActivityEvent", "TimeSpentEvent"},
}


@pytest.mark.parametrize("profile", sorted(COVERED))
def test_a_profile_alone_generates_the_event_types_it_covers(profile: str) -> None:
    status, out, err = run("--profile", profile, "--count", "24", "--seed", "5")
    assert (status, err) == (0, "")
    generated = documents(out)
    assert {d["type"] for d in generated} == COVERED[profile]
    assert {d["profile"] for d in generated} == {profile}
    assert validate(out, lines=True).issues == ()


def test_every_row_of_the_mutations_file_names_the_rule_the_validator_reports(tmp_path: Path) -> None:
    folder = tmp_path / "negatives"
    status, _, _ = run("--count", "120", "--seed", "4", "--invalid", "-o", str(folder))
    rows = [row.split("\t") for row in (folder / MANIFEST).read_text(encoding="utf-8").splitlines()[1:]]
    assert status == 0 and len(rows) == 120
    labels = Counter(row[1] for row in rows)
    assert labels["wrong-type"] >= 5
    for name, label, pointer, rule, _ in rows:
        assert rule, (name, label)
        errors = validate((folder / name).read_bytes()).errors
        assert any(e.rule == rule and e.pointer in (pointer, parent_of(pointer)) for e in errors), name


def test_a_folder_that_already_holds_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "mine.json").write_text("{}")
    status, out, err = run("--count", "3", "-o", str(folder))
    assert (status, out) == (2, "") and "already holds files" in err and "Traceback" not in err
    assert [path.name for path in folder.iterdir()] == ["mine.json"]
    with pytest.raises(FileExistsError):
        generating.write_folder(generate(count=1), folder)
    assert generating.write_folder(generate(count=2), folder, force=True) == 2
    assert len(list(folder.iterdir())) == 3
