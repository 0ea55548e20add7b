"""The official IMS Caliper 1.2 conformance corpus, read from ../shared (never copied into the repository).

Expectations come from the corpus's own policy (shared/conformance/README.md) and, for each negative
fixture, from `tests/conformance/negatives.json`: the pointer and rule its diff against the nearest valid
fixture shows (shared/reference/caliper-error-fixture-diffs.txt), not its file name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from caliper_schema import Report, validate
from tests.conftest import CORPUS, ROOT, findings

MANIFEST: dict[str, dict[str, Any]] = json.loads(
    (ROOT / "tests" / "conformance" / "negatives.json").read_text()
)
NOT_CALIPER = "caliperEndpointConfigPayload.json"  # an endpoint configuration, not an event or entity
INLINE_CONTEXT = "caliperEventMessagePostedInlineContext.json"


def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"the IMS corpus is absent at {CORPUS}: set CALIPER_CONFORMANCE_DIR or CALIPER_SHARED_DIR"
        )
    return CORPUS


def positives() -> list[Path]:
    return sorted(p for p in corpus().glob("*.json") if p.name != NOT_CALIPER)


def negatives() -> list[Path]:
    return sorted((corpus() / "commonErrorFixtures").glob("*.json"))


@cache
def verdict(path: Path, strict: bool) -> Report:
    return validate(path.read_bytes(), strict=strict)


def test_corpus_size_and_manifest_cover_each_other() -> None:
    assert len(positives()) == 144
    assert sorted(p.name for p in negatives()) == sorted(MANIFEST)
    assert len(MANIFEST) == 279


def test_default_accepts_every_valid_document_only_the_inline_context_warns() -> None:
    reports = {path.name: verdict(path, False) for path in positives()}
    rejected = {name: report.errors for name, report in reports.items() if not report.ok}
    assert rejected == {}
    warned = {name: findings(report) for name, report in reports.items() if report.warnings}
    assert warned == {INLINE_CONTEXT: {("warning", "caliper.inline-context", "/@context")}}


def test_strict_accepts_143_of_144_valid_documents() -> None:
    rejected = {path.name for path in positives() if not verdict(path, True).ok}
    assert rejected == {INLINE_CONTEXT}


def _expected(entry: dict[str, Any]) -> set[tuple[str, str]]:
    return {(entry["rule"], entry["pointer"])} | {
        (also["rule"], also["pointer"]) for also in entry.get("also", [])
    }


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_negative_is_rejected_where_its_diff_says(name: str) -> None:
    entry = MANIFEST[name]
    path = corpus() / "commonErrorFixtures" / name
    report = verdict(path, False)
    severity = entry.get("severity", "error")
    found = {(issue.rule, issue.pointer) for issue in report.issues if issue.severity == severity}
    assert _expected(entry) <= found, f"{entry['why']}\nfound: {sorted(found)}"
    assert report.ok == (severity == "warning"), report.errors
    if severity == "warning":  # the decimal-as-integer fixtures: accepted with exactly that warning
        assert findings(report) == {("warning", entry["rule"], entry["pointer"])}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_strict_rejects_every_negative(name: str) -> None:
    entry = MANIFEST[name]
    report = verdict(corpus() / "commonErrorFixtures" / name, True)
    assert not report.ok
    assert (entry["rule"], entry["pointer"]) in {(issue.rule, issue.pointer) for issue in report.errors}


def test_negatives_report_nothing_unrelated() -> None:
    """A negative rejected for a reason its diff does not show would be a bug in the schemas."""
    unrelated = {}
    for path in negatives():
        entry = MANIFEST[path.name]
        expected = _expected(entry)
        extra = {(issue.rule, issue.pointer) for issue in verdict(path, False).issues} - expected
        if extra:
            unrelated[path.name] = sorted(extra)
    assert unrelated == {}


@pytest.mark.slow
def test_the_cli_checks_the_whole_corpus_in_one_process() -> None:
    command = [sys.executable, "-m", "caliper_schema", "validate", "--format", "json", str(corpus())]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    files = {Path(entry["path"]).name: entry["status"] for entry in json.loads(result.stdout)["files"]}
    assert len(files) == 144 + 1 + 279
    decimals = {name for name, entry in MANIFEST.items() if entry.get("severity") == "warning"}
    assert {name for name, status in files.items() if status == "success"} == (
        {path.name for path in positives()} | decimals
    )
